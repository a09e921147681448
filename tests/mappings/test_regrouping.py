"""Regrouping against the real database: only what was never sent moves, and every move is accounted for."""

import uuid
from dataclasses import replace
from decimal import Decimal

from sqlalchemy import select

from core.db import Database
from core.domain import Expense
from core.models import Attempt, AuditEvent, Connection, ExportItem, ExportItemRecord, SourceRecord
from core.repository import TenantRepository
from mappings import ExportSettings, RegroupResult, expense_to_json, regroup
from mappings.regrouping import SUPERSEDED_REASON
from tests.conftest import TenantFixture
from tests.mappings import seed
from tests.mappings.factories import expense, settings

PER_REPORT = settings()
PER_EXPENSE = settings(reimbursable={"grouping": {"by": "expense"}})


async def _setup(
    database: Database, tenant: TenantFixture, items: list[Expense]
) -> tuple[Connection, dict[str, uuid.UUID]]:
    async with database.tenant_session(tenant.id) as session:
        destination = await seed.connection(session, tenant.id, role="destination")
        source = await seed.connection(session, tenant.id, role="source")
        records = await seed.expenses(session, tenant.id, source.id, items)
    return destination, records


async def _regroup(
    database: Database, tenant: TenantFixture, destination: Connection, export_settings: ExportSettings
) -> RegroupResult:
    async with database.tenant_session(tenant.id) as session:
        repository = TenantRepository(session, tenant.id, "test")
        return await regroup(repository, destination=destination, settings=export_settings)


async def _live_items(database: Database, tenant: TenantFixture) -> dict[uuid.UUID, set[uuid.UUID]]:
    """Item id → record ids, over live links only."""
    async with database.tenant_session(tenant.id) as session:
        rows = await session.execute(
            select(ExportItemRecord.export_item_id, ExportItemRecord.source_record_id).where(
                ExportItemRecord.released_at.is_(None)
            )
        )
    items: dict[uuid.UUID, set[uuid.UUID]] = {}
    for item_id, record_id in rows:
        items.setdefault(item_id, set()).add(record_id)
    return items


async def _item(database: Database, tenant: TenantFixture, item_id: uuid.UUID) -> ExportItem | None:
    async with database.tenant_session(tenant.id) as session:
        return await session.get(ExportItem, item_id)


async def test_regrouping_makes_one_item_per_group_and_a_second_run_changes_nothing(
    database: Database, tenant: TenantFixture
) -> None:
    destination, records = await _setup(
        database, tenant, [expense(id="a"), expense(id="b"), expense(id="c", report_id="rp2")]
    )
    first = await _regroup(database, tenant, destination, PER_REPORT)
    assert (len(first.created), first.kept, first.dropped) == (2, 0, ())
    live = await _live_items(database, tenant)
    assert sorted(map(len, live.values())) == [1, 2]
    assert {records["a"], records["b"]} in live.values()
    keys = [item.idempotency_key for item_id in first.created if (item := await _item(database, tenant, item_id))]
    assert len(set(keys)) == 2 and all(len(key) <= 64 for key in keys)
    second = await _regroup(database, tenant, destination, PER_REPORT)
    assert (second.created, second.kept, second.dropped) == ((), 2, ())


async def test_changing_settings_regroups_only_what_was_never_sent(database: Database, tenant: TenantFixture) -> None:
    names = ("sent", "unknown", "failed", "fresh")
    destination, records = await _setup(database, tenant, [expense(id=name, report_id=f"rp-{name}") for name in names])
    await _regroup(database, tenant, destination, PER_REPORT)
    item_of = {record: item for item, members in (await _live_items(database, tenant)).items() for record in members}
    sent, unknown, failed, fresh = (item_of[records[name]] for name in names)
    async with database.tenant_session(tenant.id) as session:
        rows = {item_id: await session.get(ExportItem, item_id) for item_id in (sent, unknown, failed)}
        for row in rows.values():
            assert row is not None
        rows[sent].state, rows[sent].remote_id = "succeeded", "APBILL-1"  # type: ignore[union-attr]
        rows[unknown].outcome_unknown = True  # type: ignore[union-attr]
        rows[failed].state, rows[failed].attempt_count = "needs_action", 1  # type: ignore[union-attr]
        session.add(Attempt(tenant_id=tenant.id, export_item_id=failed, number=1, outcome="failed"))

    changed = await _regroup(database, tenant, destination, settings(reimbursable={"date": "last_spent"}))

    live = await _live_items(database, tenant)
    assert set(changed.dropped) == {failed, fresh}
    assert len(changed.created) == 2
    assert live[sent] == {records["sent"]} and live[unknown] == {records["unknown"]}
    failed_now = await _item(database, tenant, failed)
    assert failed_now is not None and (failed_now.state, failed_now.skip_reason) == ("skipped", SUPERSEDED_REASON)
    assert await _item(database, tenant, fresh) is None, "an item never attempted is deleted, not kept as history"
    linked = sorted(record for members in live.values() for record in members)
    assert linked == sorted(records.values()), "every expense is in exactly one live item"


async def test_a_regrouped_item_that_was_attempted_gets_a_new_idempotency_key(
    database: Database, tenant: TenantFixture
) -> None:
    destination, _ = await _setup(database, tenant, [expense(id="a")])
    first = await _regroup(database, tenant, destination, PER_REPORT)
    async with database.tenant_session(tenant.id) as session:
        item = await session.get(ExportItem, first.created[0])
        assert item is not None
        item.state, item.attempt_count = "needs_action", 1
        old_key = item.idempotency_key
    again = await _regroup(database, tenant, destination, PER_REPORT)
    assert again.kept == 1, "the same group and expenses keep their item"
    second = await _regroup(database, tenant, destination, PER_EXPENSE)
    new = await _item(database, tenant, second.created[0])
    assert new is not None and new.idempotency_key != old_key


async def test_skipped_expenses_keep_their_reason_until_they_are_grouped(
    database: Database, tenant: TenantFixture
) -> None:
    draft = expense(id="d", state="DRAFT")
    destination, records = await _setup(database, tenant, [draft, expense(id="ok")])
    result = await _regroup(database, tenant, destination, PER_REPORT)
    assert [(skipped.expense_id, "DRAFT" in skipped.reason) for skipped in result.skipped] == [("d", True)]
    async with database.tenant_session(tenant.id) as session:
        record = await session.get(SourceRecord, records["d"])
        assert record is not None and "not exportable" in (record.skip_reason or "")
        seed.rewrite(record, expense_to_json(replace(draft, state="APPROVED")))
    await _regroup(database, tenant, destination, PER_REPORT)
    async with database.tenant_session(tenant.id) as session:
        reasons = [(await session.get(SourceRecord, records[name])) for name in ("d", "ok")]
    assert [record.skip_reason for record in reasons if record is not None] == [None, None]


async def test_records_that_are_not_expenses_are_skipped_with_the_reason(
    database: Database, tenant: TenantFixture
) -> None:
    destination, records = await _setup(database, tenant, [expense(id="a", amount=Decimal("5"))])
    async with database.tenant_session(tenant.id) as session:
        record = await session.get(SourceRecord, records["a"])
        assert record is not None
        seed.rewrite(record, {"id": "a", "amount": "lots"})
    result = await _regroup(database, tenant, destination, PER_REPORT)
    assert result.created == ()
    assert "not a readable expense" in result.skipped[0].reason


async def test_regrouping_writes_one_audit_event_with_its_counts(database: Database, tenant: TenantFixture) -> None:
    destination, _ = await _setup(database, tenant, [expense(id="a"), expense(id="b", state="DRAFT")])
    await _regroup(database, tenant, destination, PER_REPORT)
    async with database.tenant_session(tenant.id) as session:
        events = (await session.scalars(select(AuditEvent).where(AuditEvent.action == "export_items.regroup"))).all()
    assert [(event.entity_id, event.data["created"], event.data["skipped"]) for event in events] == [
        (str(destination.id), 1, 1)
    ]
