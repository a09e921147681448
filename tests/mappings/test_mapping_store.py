"""Mappings against the real database: checked whole, audited, and releasing the items that waited on them."""

import uuid

import pytest
from sqlalchemy import select

from core.db import Database
from core.models import AuditEvent, Connection, DestinationAttribute, ExportItem
from core.repository import TenantRepository
from mappings import (
    MappingChange,
    MissingMapping,
    RejectedChange,
    clear_mapping,
    list_unmapped,
    load_mapping_table,
    set_mappings,
)
from tests.conftest import TenantFixture
from tests.mappings import seed
from tests.mappings.factories import expense, settings
from tests.vocabularies import INTACCT

ATTRIBUTES = [
    ("account", "6000", "Travel"),
    ("account", "6100", "Meals"),
    ("expense_type", "ET-T", "Travel"),
    ("employee", "E1", "Ada Lovelace"),
    ("employee", "E9", "Gone", "E9", False),
]


async def _world(
    database: Database, tenant: TenantFixture
) -> tuple[Connection, Connection, dict[tuple[str, str], DestinationAttribute]]:
    async with database.tenant_session(tenant.id) as session:
        destination = await seed.connection(session, tenant.id, role="destination")
        source = await seed.connection(session, tenant.id, role="source")
        attributes = await seed.attributes(session, tenant.id, destination.id, ATTRIBUTES)
    return destination, source, attributes


def _change(source_type: str, value: str, destination_type: str, attribute: DestinationAttribute) -> MappingChange:
    return MappingChange(source_type, value, destination_type, attribute.id)


async def _audit_actions(database: Database, tenant: TenantFixture) -> list[str]:
    async with database.tenant_session(tenant.id) as session:
        return list((await session.scalars(select(AuditEvent.action).order_by(AuditEvent.seq))).all())


async def test_setting_creates_then_repoints_and_each_change_is_audited(
    database: Database, tenant: TenantFixture
) -> None:
    destination, _, attributes = await _world(database, tenant)
    async with database.tenant_session(tenant.id) as session:
        repository = TenantRepository(session, tenant.id, "admin:test")
        first = await set_mappings(
            repository,
            destination_connection_id=destination.id,
            changes=[_change("category", " Travel ", "account", attributes[("account", "6000")])],
            vocabulary=INTACCT,
        )
        again = await set_mappings(
            repository,
            destination_connection_id=destination.id,
            changes=[_change("category", "Travel", "account", attributes[("account", "6100")])],
            vocabulary=INTACCT,
        )
        table = await load_mapping_table(repository, destination.id)
    assert first.created == 1 and again.created == 0
    assert first.mappings[0].id == again.mappings[0].id
    assert first.mappings[0].source_value == "Travel"
    assert table.lookup("category", "Travel", "account") == "6100"
    actions = await _audit_actions(database, tenant)
    assert actions[-2:] == ["mapping.create", "mapping.update"]


async def test_a_bulk_change_is_refused_whole_with_every_reason(database: Database, tenant: TenantFixture) -> None:
    destination, _, attributes = await _world(database, tenant)
    async with database.tenant_session(tenant.id) as session:
        other = await seed.connection(session, tenant.id, role="destination")
        foreign = await seed.attributes(session, tenant.id, other.id, [("account", "7000", "Elsewhere")])
    changes = [
        _change("category", "Travel", "account", attributes[("account", "6000")]),
        _change("category", "Meals", "vendor", attributes[("account", "6100")]),
        _change("category", "Meals", "account", attributes[("expense_type", "ET-T")]),
        _change("employee", "gone@example.com", "employee", attributes[("employee", "E9")]),
        _change("category", "Hotel", "account", foreign[("account", "7000")]),
        _change("colour", "red", "account", attributes[("account", "6000")]),
        _change("category", "travel ", "account", attributes[("account", "6000")]),
        _change("category", "Travel", "account", attributes[("account", "6100")]),
    ]
    with pytest.raises(RejectedChange) as caught:
        async with database.tenant_session(tenant.id) as session:
            await set_mappings(
                TenantRepository(session, tenant.id, "t"),
                destination_connection_id=destination.id,
                changes=changes,
                vocabulary=INTACCT,
            )
    problems = caught.value.problems
    assert len(problems) == 6
    assert "maps to account or expense_type, not to vendor" in problems[0]
    assert "is of type expense_type, not account" in problems[1]
    assert "inactive" in problems[2]
    assert "not in this connection" in problems[3]
    assert "not a source type" in problems[4]
    assert "a second time" in problems[5]
    async with database.tenant_session(tenant.id) as session:
        table = await load_mapping_table(TenantRepository(session, tenant.id, "t"), destination.id)
    assert table.remote_ids == {}, "nothing of a refused change is written"


async def test_saving_the_last_missing_mapping_releases_the_waiting_item(
    database: Database, tenant: TenantFixture
) -> None:
    destination, _, attributes = await _world(database, tenant)
    missing = [
        MissingMapping("category", "Travel", "expense_type").as_json(),
        MissingMapping("employee", "ada@example.com", "employee").as_json(),
    ]
    async with database.tenant_session(tenant.id) as session:
        item = ExportItem(
            id=uuid.uuid4(),
            tenant_id=tenant.id,
            destination_connection_id=destination.id,
            destination_provider="intacct",
            document_type="expense_report",
            group_key="k",
            idempotency_key=uuid.uuid4().hex,
            state="needs_action",
            error_class="mapping",
            error_message="2 mappings are missing",
            missing_mappings=missing,
        )
        session.add(item)
    async with database.tenant_session(tenant.id) as session:
        repository = TenantRepository(session, tenant.id, "t")
        first = await set_mappings(
            repository,
            destination_connection_id=destination.id,
            changes=[_change("category", "Travel", "expense_type", attributes[("expense_type", "ET-T")])],
            vocabulary=INTACCT,
        )
        waiting = await session.get(ExportItem, item.id)
        assert waiting is not None
        assert (waiting.state, waiting.missing_mappings) == ("needs_action", missing[1:])
        second = await set_mappings(
            repository,
            destination_connection_id=destination.id,
            changes=[_change("employee", "ADA@example.com", "employee", attributes[("employee", "E1")])],
            vocabulary=INTACCT,
        )
    assert first.released_item_ids == ()
    assert second.released_item_ids == (item.id,)
    async with database.tenant_session(tenant.id) as session:
        released = await session.get(ExportItem, item.id)
    assert released is not None
    assert (released.state, released.error_class, released.missing_mappings) == ("pending", None, None)
    assert (await _audit_actions(database, tenant))[-1] == "export_item.pending"


async def test_unmapped_values_count_the_expenses_waiting_on_them(database: Database, tenant: TenantFixture) -> None:
    destination, source, attributes = await _world(database, tenant)
    async with database.tenant_session(tenant.id) as session:
        await seed.expenses(
            session,
            tenant.id,
            source.id,
            [
                expense(id="a", category="Travel"),
                expense(id="b", category="Parking"),
                expense(id="c", category="Parking", employee_email="bob@example.com"),
                expense(id="d", category="Casino", state="DRAFT"),
            ],
        )
        repository = TenantRepository(session, tenant.id, "t")
        await set_mappings(
            repository,
            destination_connection_id=destination.id,
            changes=[_change("category", "Travel", "expense_type", attributes[("expense_type", "ET-T")])],
            vocabulary=INTACCT,
        )
        unmapped = await list_unmapped(
            repository, destination_connection_id=destination.id, settings=settings(), vocabulary=INTACCT
        )
    assert [(value.source_type, value.source_value, value.waiting_expenses) for value in unmapped] == [
        ("category", "Parking", 2),
        ("employee", "ada@example.com", 2),
        ("employee", "bob@example.com", 1),
    ]


async def test_mappings_to_inactive_attributes_count_as_missing(database: Database, tenant: TenantFixture) -> None:
    destination, _, attributes = await _world(database, tenant)
    async with database.tenant_session(tenant.id) as session:
        repository = TenantRepository(session, tenant.id, "t")
        await set_mappings(
            repository,
            destination_connection_id=destination.id,
            changes=[_change("employee", "ada@example.com", "employee", attributes[("employee", "E1")])],
            vocabulary=INTACCT,
        )
        employee = await session.get(DestinationAttribute, attributes[("employee", "E1")].id)
        assert employee is not None
        employee.active = False
        await session.flush()
        table = await load_mapping_table(repository, destination.id)
    assert table.lookup("employee", "ada@example.com", "employee") is None


async def test_clearing_a_mapping_deletes_it_and_is_audited(database: Database, tenant: TenantFixture) -> None:
    destination, _, attributes = await _world(database, tenant)
    async with database.tenant_session(tenant.id) as session:
        repository = TenantRepository(session, tenant.id, "t")
        saved = await set_mappings(
            repository,
            destination_connection_id=destination.id,
            changes=[_change("category", "Travel", "account", attributes[("account", "6000")])],
            vocabulary=INTACCT,
        )
        await clear_mapping(repository, destination_connection_id=destination.id, mapping_id=saved.mappings[0].id)
        table = await load_mapping_table(repository, destination.id)
    assert table.remote_ids == {}
    assert (await _audit_actions(database, tenant))[-1] == "mapping.delete"
