"""Multi-entity routing end to end (issue 17, point 5), against the Intacct simulator's two-entity company (E100 keeps
its books in USD, E200 in GBP), logged in at the top level: each document is created in the entity its expenses'
cost center is mapped to, and everything that follows (the lookup of an unknown send, closed periods, payment
status, the books check) happens inside that entity, where alone the document is visible."""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select, update

from connectors.base import DestinationConnector
from connectors.factory import open_connector
from core.crypto import CredentialVault
from core.db import Database
from core.document_codec import document_from_json
from core.models import Connection, DestinationAttribute, ExportItem
from core.repository import TenantRepository
from core.settings import Settings
from mappings.mapping_store import MappingChange, set_mappings
from mappings.regrouping import regroup
from mappings.settings import ExportSettings
from mappings.settings_store import save_settings
from sandbox.intacct.constants import MULTI_ENTITY_COMPANY
from sync.books_check import BooksReport, check_books
from sync.export_engine import ExportEngine
from sync.payment_engine import sync_payments
from tests.mappings.factories import expense
from tests.mappings.seed import expenses as store_expenses
from tests.mappings.seed import mapped_attributes
from tests.sandbox_fixtures import RunningSandbox
from tests.sync.bill_books import BillTenant, add_bill_tenant
from tests.sync.conftest import sandbox_settings
from tests.sync.intacct_bills import clear_faults, fault
from tests.vocabularies import INTACCT

ROUTED = ExportSettings.model_validate(
    {
        "reimbursable": {"export_type": "bill", "grouping": {"by": "report"}, "date": "last_spent"},
        "employee_as": "vendor",
        "entity": {"source": "cost_center"},
    }
)
SHARED_VENDOR, TRAVEL_ACCOUNT = "V00001", "70320"
"""Shared by both entities of the simulator's group company (every fourth vendor belongs to one entity)."""
ENTITIES = (("entity", "E100", "cost_center", "Boston"), ("entity", "E200", "cost_center", "London"))


@dataclass
class Routed:
    made: BillTenant
    connector: DestinationConnector
    engine: ExportEngine


@pytest.fixture
async def routed(database: Database, settings: Settings, sandbox: RunningSandbox) -> AsyncIterator[Routed]:
    """A tenant of the group company routing bills by cost center: Boston → E100, London → E200."""
    made = await add_bill_tenant(
        database,
        settings,
        "Entities",
        company=MULTI_ENTITY_COMPANY,
        vendor=SHARED_VENDOR,
        account=TRAVEL_ACCOUNT,
        export=ROUTED,
    )
    async with database.tenant_session(made.tenant.id) as session:
        await mapped_attributes(session, made.tenant.id, made.destination_id, ENTITIES)
    connector = await open_connector(
        database=database,
        vault=CredentialVault(settings.vault_key_list()),
        settings=sandbox_settings(settings, sandbox),
        tenant_id=made.tenant.id,
        connection_id=made.destination_id,
    )
    assert isinstance(connector, DestinationConnector)
    async with connector:
        yield Routed(made, connector, ExportEngine(database, owner="entities"))


async def add_expenses(
    database: Database,
    routed: Routed,
    spent: list[tuple[str, str, str | None]],
    export: ExportSettings = ROUTED,
    **fields: Any,
) -> None:
    """(expense id, report id, cost center) spent in March 2024, with `fields`, stored and grouped under `export`."""
    tenant_id = routed.made.tenant.id
    async with database.tenant_session(tenant_id) as session:
        await store_expenses(
            session,
            tenant_id,
            routed.made.source_id,
            [
                expense(id=expense_id, report_id=report, cost_center=center, spent_on=date(2024, 3, 2 + n), **fields)
                for n, (expense_id, report, center) in enumerate(spent)
            ],
        )
        destination = await session.get(Connection, routed.made.destination_id)
        assert destination is not None
        repository = TenantRepository(session, tenant_id, "test")
        if export is not ROUTED:
            await save_settings(repository, destination=destination, settings=export, vocabulary=INTACCT)
        await regroup(repository, destination=destination, settings=export)


async def export(database: Database, routed: Routed, *, rounds: int = 5) -> None:
    for _ in range(rounds):
        async with database.tenant_session(routed.made.tenant.id) as session:
            await session.execute(
                update(ExportItem).where(ExportItem.state == "pending").values(next_attempt_at=func.now())
            )
        report = await routed.engine.run_batch(
            routed.connector, tenant_id=routed.made.tenant.id, connection_id=routed.made.destination_id
        )
        if report.claimed == 0:
            return


async def items(database: Database, routed: Routed) -> list[ExportItem]:
    async with database.tenant_session(routed.made.tenant.id) as session:
        return list((await session.scalars(select(ExportItem).order_by(ExportItem.created_at))).all())


async def march_books(database: Database, routed: Routed) -> BooksReport:
    """The books check over March 2024, when the tests' expenses are spent."""
    return await check_books(
        database=database,
        connector=routed.connector,
        tenant_id=routed.made.tenant.id,
        connection_id=routed.made.destination_id,
        since=date(2024, 3, 1),
        until=date(2024, 3, 31),
    )


def held_bills(sandbox: RunningSandbox) -> list[dict[str, Any]]:
    with sandbox.control() as control:
        answer = control.get("/intacct/documents", params={"object": "APBILL", "company": MULTI_ENTITY_COMPANY})
    return list(answer.raise_for_status().json()["data"])


def entity_of_expense(sandbox: RunningSandbox) -> dict[str, list[str]]:
    """Expense id → the entities of the bill lines that name it (a line's memo starts with its expense id)."""
    found: dict[str, list[str]] = {}
    for bill in held_bills(sandbox):
        for line in bill["lines"]:
            found.setdefault(line["ENTRYDESCRIPTION"].split(" ")[0], []).append(bill["MEGAENTITYID"])
    return found


async def test_each_document_is_posted_in_the_entity_its_cost_center_maps_to(
    database: Database, routed: Routed, sandbox: RunningSandbox
) -> None:
    await add_expenses(
        database,
        routed,
        [
            ("tx-b1", "rp-1", "Boston"),
            ("tx-l1", "rp-1", "London"),  # one report, two entities: two bills
            ("tx-b2", "rp-2", "Boston"),
            ("tx-p1", "rp-3", "Paris"),  # mapped to no entity yet
            ("tx-n1", "rp-4", None),  # no cost center at all
        ],
    )

    await export(database, routed)

    assert entity_of_expense(sandbox) == {"tx-b1": ["E100"], "tx-l1": ["E200"], "tx-b2": ["E100"]}
    waiting = {item.error_code: item for item in await items(database, routed) if item.state == "needs_action"}
    assert set(waiting) == {"missing_mappings", "no_entity"}
    assert waiting["missing_mappings"].missing_mappings == [
        {"source_type": "cost_center", "source_value": "Paris", "destination_type": "entity"}
    ]
    assert "tx-n1" in (waiting["no_entity"].error_message or "")

    # Mapping Paris releases its item, which then goes to E200.
    async with database.tenant_session(routed.made.tenant.id) as session:
        e200 = await session.scalar(select(DestinationAttribute.id).where(DestinationAttribute.remote_id == "E200"))
        assert e200 is not None
        saved = await set_mappings(
            TenantRepository(session, routed.made.tenant.id, "test"),
            destination_connection_id=routed.made.destination_id,
            changes=[MappingChange("cost_center", "Paris", "entity", e200)],
            vocabulary=INTACCT,
        )
    assert saved.released_item_ids == (waiting["missing_mappings"].id,)
    await export(database, routed)
    assert entity_of_expense(sandbox)["tx-p1"] == ["E200"]


async def test_a_closed_period_in_one_entity_moves_only_that_entitys_documents(
    database: Database, routed: Routed, sandbox: RunningSandbox
) -> None:
    with sandbox.control() as control:
        control.put(
            "/intacct/periods",
            json={"company": MULTI_ENTITY_COMPANY, "entity": "E200", "open_from": "2024-04-01"},
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
    await add_expenses(database, routed, [("tx-b1", "rp-1", "Boston"), ("tx-l1", "rp-1", "London")])

    await export(database, routed)

    dated = {bill["MEGAENTITYID"]: bill["WHENCREATED"] for bill in held_bills(sandbox)}
    assert dated == {"E100": "03/02/2024", "E200": "04/01/2024"}
    moved = {
        item.document["entity"] if item.document else None: item.redated_to for item in await items(database, routed)
    }
    assert moved == {"E100": None, "E200": date(2024, 4, 1)}


async def test_a_send_lost_after_it_committed_in_an_entity_is_found_there_and_adopted(
    database: Database, routed: Routed, sandbox: RunningSandbox
) -> None:
    await add_expenses(database, routed, [("tx-l1", "rp-1", "London"), ("tx-l2", "rp-2", "London")])
    fault(sandbox, operation="create:APBILL", mode="commit_then_fail", then="error", status=503, times=1)
    fault(sandbox, operation="query:APBILL", mode="error", status=503, times=1)  # the lookup after the loss
    await routed.engine.run_batch(
        routed.connector, tenant_id=routed.made.tenant.id, connection_id=routed.made.destination_id
    )
    assert all(item.outcome_unknown for item in await items(database, routed))
    clear_faults(sandbox)
    creates = create_requests(sandbox)

    await export(database, routed)

    assert {item.state for item in await items(database, routed)} == {"succeeded"}
    assert entity_of_expense(sandbox) == {"tx-l1": ["E200"], "tx-l2": ["E200"]}
    assert create_requests(sandbox) == creates  # found by the lookup in E200: nothing was sent again


def create_requests(sandbox: RunningSandbox) -> int:
    with sandbox.control() as control:
        answer = control.get("/requests", params={"system": "intacct", "operation": "create:APBILL", "limit": 1})
    count: int = answer.raise_for_status().json()["count"]
    return count


async def test_payments_and_the_books_check_read_each_document_in_its_entity(
    database: Database, routed: Routed, sandbox: RunningSandbox
) -> None:
    await add_expenses(
        database, routed, [("tx-b1", "rp-1", "Boston"), ("tx-l1", "rp-2", "London"), ("tx-l2", "rp-2", "London")]
    )
    await export(database, routed)
    exported = {item.document["entity"]: item for item in await items(database, routed) if item.document}
    assert set(exported) == {"E100", "E200"}
    tenant_id, connection_id = routed.made.tenant.id, routed.made.destination_id

    books = await march_books(database, routed)
    assert (books.clean, books.expenses, books.documents) == (True, 3, 2)

    with sandbox.control() as control:
        control.post(
            f"/intacct/documents/APBILL/{exported['E200'].remote_id}/paid", json={"company": MULTI_ENTITY_COMPANY}
        ).raise_for_status()
    paid = await sync_payments(
        database, routed.connector, None, tenant_id=tenant_id, destination_connection_id=connection_id, actor="test"
    )
    assert (paid.checked, paid.newly_paid) == (2, 1)

    # A second bill for London's expenses, made by hand in E200: only a check that reads E200 can see it.
    [london] = [bill for bill in held_bills(sandbox) if bill["MEGAENTITYID"] == "E200"]
    document = exported["E200"].document
    assert document is not None
    copy = document_from_json({**document, "reference": "hand-made"})
    [made] = await routed.connector.in_entity("E200").push([copy])
    assert not isinstance(made, Exception), made
    books = await march_books(database, routed)
    assert sorted(duplicate.expense_id for duplicate in books.duplicated) == ["tx-l1", "tx-l2"]
    assert london["RECORDNO"] in books.duplicated[0].remote_ids


async def test_each_entity_keeps_a_foreign_document_in_its_own_base_currency(
    database: Database, routed: Routed, sandbox: RunningSandbox
) -> None:
    """E100 keeps USD books, as Fyle booked: its bill's base total is Fyle's amount. E200 keeps GBP books: Fyle's USD
    figures cannot be its own, so its bill goes in euros without them and E200 converts it at its rate."""
    original = ROUTED.model_copy(update={"currency": "original"})
    spent_abroad = {"amount": Decimal("108.37"), "foreign_currency": "EUR", "foreign_amount": Decimal("100.00")}
    rate = {"exchange_rate": Decimal("1.0837")}
    await add_expenses(
        database, routed, [("tx-b1", "rp-1", "Boston"), ("tx-l1", "rp-2", "London")], original, **spent_abroad, **rate
    )

    await export(database, routed)

    assert {item.state for item in await items(database, routed)} == {"succeeded"}
    held = {bill["MEGAENTITYID"]: bill for bill in held_bills(sandbox)}
    assert {entity: (bill["CURRENCY"], bill["BASECURR"]) for entity, bill in held.items()} == {
        "E100": ("EUR", "USD"),
        "E200": ("EUR", "GBP"),
    }
    assert Decimal(held["E100"]["TOTALENTERED"]) == Decimal("108.37")
    assert {Decimal(bill["TRX_TOTALENTERED"]) for bill in held.values()} == {Decimal("100.00")}
