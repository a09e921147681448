"""Adversarial paths through multi-entity routing: bad entity mappings, re-pointed mappings and re-dating after a
send whose outcome was unknown, the books check's choice of entities, one entity's session expiring.

Each test states the promise it checks. Four of them failed before their fixes: an unreachable entity paused the
whole connection and stopped the books check; a refusal by one entity's closed period re-dated a document now routed
to another; a document left in an entity nothing routes to any more escaped the books check."""

import uuid

from sqlalchemy import select, update

from connectors.base import DestinationConnector
from connectors.factory import open_connector
from core.crypto import CredentialVault
from core.db import Database
from core.models import Connection, ConnectionStatus, DestinationAttribute, ExportItem, ExportState
from core.repository import TenantRepository
from core.settings import Settings
from mappings.mapping_store import MappingChange, set_mappings
from mappings.regrouping import regroup
from mappings.settings_store import save_settings
from sandbox.intacct.constants import MULTI_ENTITY_COMPANY, USER_ID, USER_PASSWORD
from sync.export_again import export_again
from sync.payment_engine import sync_payments
from tests.mappings.seed import mapped_attributes
from tests.sandbox_fixtures import RunningSandbox
from tests.sync.conftest import sandbox_settings
from tests.sync.intacct_bills import clear_faults, fault
from tests.sync.test_entity_routing import (
    ROUTED,
    Routed,
    add_expenses,
    create_requests,
    entity_of_expense,
    export,
    held_bills,
    items,
    march_books,
    routed,  # noqa: F401 - the entity routing tests' fixture, reused here
)
from tests.vocabularies import INTACCT


async def _entity_attribute(database: Database, tenant: Routed, remote_id: str) -> uuid.UUID:
    async with database.tenant_session(tenant.made.tenant.id) as session:
        found = await session.scalar(
            select(DestinationAttribute.id).where(
                DestinationAttribute.attribute_type == "entity", DestinationAttribute.remote_id == remote_id
            )
        )
    assert found is not None
    return found


async def _map(database: Database, tenant: Routed, cost_center: str, entity: str) -> None:
    """An admin maps (or re-points) a cost center to an entity through the mapping store."""
    attribute = await _entity_attribute(database, tenant, entity)
    async with database.tenant_session(tenant.made.tenant.id) as session:
        await set_mappings(
            TenantRepository(session, tenant.made.tenant.id, "test"),
            destination_connection_id=tenant.made.destination_id,
            changes=[MappingChange("cost_center", cost_center, "entity", attribute)],
            vocabulary=INTACCT,
        )


async def _lose_the_answer_of_the_next_send(database: Database, tenant: Routed, sandbox: RunningSandbox) -> None:
    """One batch whose create commits in the destination but whose answer is lost, the lookup after it failing too:
    every item it sent is left with an unknown outcome (and its document in the destination)."""
    fault(sandbox, operation="create:APBILL", mode="commit_then_fail", then="error", status=503, times=1)
    fault(sandbox, operation="query:APBILL", mode="error", status=503, times=1)
    await tenant.engine.run_batch(
        tenant.connector, tenant_id=tenant.made.tenant.id, connection_id=tenant.made.destination_id
    )
    clear_faults(sandbox)
    got = await items(database, tenant)
    assert all(item.outcome_unknown for item in got), [(item.error_class, item.error_message) for item in got]


async def _connection_status(database: Database, tenant: Routed) -> str:
    async with database.tenant_session(tenant.made.tenant.id) as session:
        connection = await session.get(Connection, tenant.made.destination_id)
        assert connection is not None
        return connection.status


# ------------------------------------------------------------------------------------ bad entity mappings


async def map_paris_to_an_unreachable_entity(database: Database, tenant: Routed) -> None:
    """E300, imported as an entity once (or one the user lost access to): mapped, active, but no login reaches it."""
    async with database.tenant_session(tenant.made.tenant.id) as session:
        await mapped_attributes(
            session, tenant.made.tenant.id, tenant.made.destination_id, [("entity", "E300", "cost_center", "Paris")]
        )


async def test_a_mapping_to_an_entity_the_login_cannot_reach_holds_only_its_own_documents(
    database: Database,
    routed: Routed,  # noqa: F811 - the fixture
    sandbox: RunningSandbox,
) -> None:
    await map_paris_to_an_unreachable_entity(database, routed)
    await add_expenses(database, routed, [("tx-p1", "rp-1", "Paris"), ("tx-b1", "rp-2", "Boston")])

    await export(database, routed)

    assert await _connection_status(database, routed) == ConnectionStatus.ACTIVE.value
    assert entity_of_expense(sandbox) == {"tx-b1": ["E100"]}  # Boston's bill is not held up by Paris's entity
    outcomes = {(item.state, item.error_code) for item in await items(database, routed)}
    assert outcomes == {(ExportState.SUCCEEDED.value, None), (ExportState.NEEDS_ACTION.value, "entity_unreachable")}


async def test_the_books_check_is_not_stopped_by_a_mapping_to_an_entity_the_login_cannot_reach(
    database: Database,
    routed: Routed,  # noqa: F811 - the fixture
    sandbox: RunningSandbox,
) -> None:
    await add_expenses(database, routed, [("tx-b1", "rp-1", "Boston"), ("tx-l1", "rp-2", "London")])
    await export(database, routed)
    await map_paris_to_an_unreachable_entity(database, routed)

    books = await march_books(database, routed)

    assert (books.clean, books.expenses, books.documents) == (True, 2, 2)
    assert [entity.entity for entity in books.unreadable] == ["E300"]  # said, not hidden


async def test_a_mapping_to_an_inactive_entity_waits_as_a_missing_mapping(
    database: Database,
    routed: Routed,  # noqa: F811 - the fixture
    sandbox: RunningSandbox,
) -> None:
    async with database.tenant_session(routed.made.tenant.id) as session:
        await session.execute(
            update(DestinationAttribute).where(DestinationAttribute.remote_id == "E200").values(active=False)
        )
    await add_expenses(database, routed, [("tx-l1", "rp-1", "London"), ("tx-b1", "rp-2", "Boston")])

    await export(database, routed)

    assert entity_of_expense(sandbox) == {"tx-b1": ["E100"]}
    waiting = [item for item in await items(database, routed) if item.state == ExportState.NEEDS_ACTION.value]
    assert [item.error_code for item in waiting] == ["missing_mappings"]
    assert await _connection_status(database, routed) == ConnectionStatus.ACTIVE.value


# ------------------------------------------------------------ re-pointing and regrouping around unknown sends


async def test_a_mapping_re_pointed_while_a_send_is_unknown_resends_nothing_and_adopts_in_the_first_entity(
    database: Database,
    routed: Routed,  # noqa: F811 - the fixture
    sandbox: RunningSandbox,
) -> None:
    await add_expenses(database, routed, [("tx-l1", "rp-1", "London")])
    await _lose_the_answer_of_the_next_send(database, routed, sandbox)
    await _map(database, routed, "London", "E100")
    creates = create_requests(sandbox)

    await export(database, routed)

    assert entity_of_expense(sandbox) == {"tx-l1": ["E200"]}
    assert create_requests(sandbox) == creates
    [item] = await items(database, routed)
    assert item.state == ExportState.SUCCEEDED.value and item.document is not None
    assert item.document["entity"] == "E200"


async def test_changing_the_routing_field_while_a_send_is_unknown_keeps_its_item_and_entity(
    database: Database,
    routed: Routed,  # noqa: F811 - the fixture
    sandbox: RunningSandbox,
) -> None:
    await add_expenses(database, routed, [("tx-l1", "rp-1", "London")])
    await _lose_the_answer_of_the_next_send(database, routed, sandbox)
    # Route by project now: tx-l1 has none, so a regroup would make it wait with no_entity if it could move it.
    by_project = ROUTED.model_copy(update={"entity": ROUTED.entity.model_copy(update={"source": "project"})})  # type: ignore[union-attr]
    async with database.tenant_session(routed.made.tenant.id) as session:
        destination = await session.get(Connection, routed.made.destination_id)
        assert destination is not None
        repository = TenantRepository(session, routed.made.tenant.id, "test")
        await save_settings(repository, destination=destination, settings=by_project, vocabulary=INTACCT)
        await regroup(repository, destination=destination, settings=by_project)

    await export(database, routed)

    assert entity_of_expense(sandbox) == {"tx-l1": ["E200"]}
    assert [item.state for item in await items(database, routed)] == [ExportState.SUCCEEDED.value]


async def test_a_resend_refused_by_one_entitys_closed_period_does_not_re_date_a_document_of_another_entity(
    database: Database,
    routed: Routed,  # noqa: F811 - the fixture
    sandbox: RunningSandbox,
) -> None:
    await add_expenses(database, routed, [("tx-l1", "rp-1", "London")])
    # The send's answer is lost, nothing was created: the item resends the same E200 bill, looking it up first.
    fault(sandbox, operation="create:APBILL", mode="error", status=503, times=1)
    await routed.engine.run_batch(
        routed.connector, tenant_id=routed.made.tenant.id, connection_id=routed.made.destination_id
    )
    clear_faults(sandbox)
    [item] = await items(database, routed)
    assert item.outcome_unknown and item.document is not None and item.document["entity"] == "E200"
    # Meanwhile E200 closes March, re-dating is turned on, and London is re-pointed to E100 (open in March).
    with sandbox.control() as control:
        control.put(
            "/intacct/periods", json={"company": MULTI_ENTITY_COMPANY, "entity": "E200", "open_from": "2024-04-01"}
        ).raise_for_status()
    async with database.tenant_session(routed.made.tenant.id) as session:
        destination = await session.get(Connection, routed.made.destination_id)
        assert destination is not None
        redating = ROUTED.model_copy(update={"post_closed_period_to_first_open_day": True})
        await save_settings(
            TenantRepository(session, routed.made.tenant.id, "test"),
            destination=destination,
            settings=redating,
            vocabulary=INTACCT,
        )
    await _map(database, routed, "London", "E100")

    await export(database, routed)

    [bill] = held_bills(sandbox)
    posted = (bill["MEGAENTITYID"], bill["WHENCREATED"])
    # In E200 it could only go on E200's first open day; in E100, whose March is open, on its own day.
    assert posted in {("E200", "04/01/2024"), ("E100", "03/02/2024")}, posted


# ------------------------------------------------------------------------------------------ the books check


async def test_the_books_check_finds_a_duplicate_left_in_an_entity_no_mapping_routes_to_any_more(
    database: Database,
    routed: Routed,  # noqa: F811 - the fixture
    sandbox: RunningSandbox,
) -> None:
    await add_expenses(database, routed, [("tx-l1", "rp-1", "London")])
    await _lose_the_answer_of_the_next_send(database, routed, sandbox)
    tenant_id = routed.made.tenant.id
    # A day of failed lookups later London's item waits for a person (the state is set here, not waited for).
    async with database.tenant_session(tenant_id) as session:
        await session.execute(update(ExportItem).values(state=ExportState.NEEDS_ACTION.value))
    [london] = await items(database, routed)
    await _map(database, routed, "London", "E100")
    async with database.tenant_session(tenant_id) as session:
        await export_again(
            session,
            tenant_id=tenant_id,
            item_id=london.id,
            actor="support@example.com",
            confirm_duplicate_risk=True,
            reason="London's cost center now belongs to E100; we believed the E200 bill was never created",
        )
    await export(database, routed)
    assert sorted(entity_of_expense(sandbox)["tx-l1"]) == ["E100", "E200"]  # booked twice, in two entities

    books = await march_books(database, routed)

    assert not books.clean
    assert [duplicate.expense_id for duplicate in books.duplicated] == ["tx-l1"]
    assert len(books.duplicated[0].remote_ids) == 2


# -------------------------------------------------------------------------------------------------- sessions


async def test_an_expired_entity_session_is_renewed_in_that_entity(
    database: Database,
    routed: Routed,  # noqa: F811 - the fixture
    sandbox: RunningSandbox,
) -> None:
    await add_expenses(database, routed, [("tx-l1", "rp-1", "London"), ("tx-b1", "rp-2", "Boston")])
    await export(database, routed)
    with sandbox.control() as control:
        control.delete("/intacct/sessions").raise_for_status()
    await add_expenses(database, routed, [("tx-l2", "rp-3", "London")])

    await export(database, routed)

    assert entity_of_expense(sandbox) == {"tx-l1": ["E200"], "tx-b1": ["E100"], "tx-l2": ["E200"]}


# ---------------------------------------------------------------------------- a login that has an entity itself


async def test_a_connection_logged_in_to_an_entity_routes_to_the_others_and_checks_and_pays_each(
    database: Database,
    settings: Settings,
    routed: Routed,  # noqa: F811 - the fixture
    sandbox: RunningSandbox,
) -> None:
    """The connection's own login is E100 (Boston's entity, so Boston's documents go through its own session);
    London's go to E200 through a session of their own, and payments and the books check find both."""
    vault = CredentialVault(settings.vault_key_list())
    tenant_id, connection_id = routed.made.tenant.id, routed.made.destination_id
    async with database.tenant_session(tenant_id) as session:
        await session.execute(
            update(Connection)
            .where(Connection.id == connection_id)
            .values(
                credentials=vault.encrypt(
                    {
                        "user_id": USER_ID,
                        "company_id": MULTI_ENTITY_COMPANY,
                        "user_password": USER_PASSWORD,
                        "entity_id": "E100",
                    }
                )
            )
        )
    connector = await open_connector(
        database=database,
        vault=vault,
        settings=sandbox_settings(settings, sandbox),
        tenant_id=tenant_id,
        connection_id=connection_id,
    )
    assert isinstance(connector, DestinationConnector)
    async with connector:
        own = Routed(routed.made, connector, routed.engine)
        await add_expenses(database, own, [("tx-b1", "rp-1", "Boston"), ("tx-l1", "rp-2", "London")])
        await export(database, own)
        assert entity_of_expense(sandbox) == {"tx-b1": ["E100"], "tx-l1": ["E200"]}
        books = await march_books(database, own)
        assert (books.clean, books.expenses, books.documents) == (True, 2, 2)
        for item in await items(database, own):
            with sandbox.control() as control:
                control.post(
                    f"/intacct/documents/APBILL/{item.remote_id}/paid", json={"company": MULTI_ENTITY_COMPANY}
                ).raise_for_status()
        paid = await sync_payments(
            database, connector, None, tenant_id=tenant_id, destination_connection_id=connection_id, actor="test"
        )
        assert (paid.checked, paid.newly_paid) == (2, 2)


async def test_an_entity_whose_payments_cannot_be_read_does_not_hold_up_the_others(
    database: Database,
    routed: Routed,  # noqa: F811 - the fixture
    sandbox: RunningSandbox,
) -> None:
    await add_expenses(database, routed, [("tx-b1", "rp-1", "Boston"), ("tx-l1", "rp-2", "London")])
    await export(database, routed)
    exported = {item.document["entity"]: item for item in await items(database, routed) if item.document}
    async with database.tenant_session(routed.made.tenant.id) as session:  # E200's bill now reads as E300's
        document = {**(exported["E200"].document or {}), "entity": "E300"}
        await session.execute(update(ExportItem).where(ExportItem.id == exported["E200"].id).values(document=document))
    with sandbox.control() as control:
        for item in exported.values():
            control.post(
                f"/intacct/documents/APBILL/{item.remote_id}/paid", json={"company": MULTI_ENTITY_COMPANY}
            ).raise_for_status()

    paid = await sync_payments(
        database,
        routed.connector,
        None,
        tenant_id=routed.made.tenant.id,
        destination_connection_id=routed.made.destination_id,
        actor="test",
    )

    assert paid.paid_item_ids == [exported["E100"].id]
    assert list(paid.unreadable_entities) == ["E300"]
