"""Exporting an item again as a new document: a new key, only when confirmed, only for items needing action —
and, end to end, a bill deleted in Intacct comes back exactly once under the new key."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from core.db import Database
from core.models import AuditEvent, ExportItem, ExportState
from mappings.grouping import idempotency_key
from sync.constants import DUPLICATE_RISK, EXPORT_AGAIN_REASON
from sync.export_again import (
    DuplicateRiskNotConfirmedError,
    ExportAgainReasonRequiredError,
    ExportAgainRefusedError,
    ItemNotFoundError,
    export_again,
)
from sync.export_engine import ExportEngine
from sync.replay import replay_item
from tests.conftest import TenantFixture
from tests.sandbox_fixtures import RunningSandbox
from tests.sync.conftest import Books
from tests.sync.test_export_engine import sandbox_bills
from tests.sync.test_replay import failed_items

REASON = "The controller deleted bill 42 in Intacct to correct it; it must be exported again."


async def _sent_item(database: Database, tenant: TenantFixture) -> ExportItem:
    """An item stuck in needs_action after a send whose outcome is unknown, with its document as first sent."""
    _, (item_id,) = await failed_items(database, tenant, 1)
    async with database.tenant_session(tenant.id) as session:
        await session.execute(
            update(ExportItem)
            .where(ExportItem.id == item_id)
            .values(
                outcome_unknown=True,
                error_code="control_id_used",
                document={"kind": "bill", "reference": "old"},
                document_drift="vendor changed from V1 to V2",
                send_generation=2,
                next_attempt_at=func.now() + timedelta(days=1),
            )
        )
        item = await session.get(ExportItem, item_id)
    assert item is not None
    return item


async def test_exporting_again_gives_a_new_unused_key_forgets_the_old_send_and_audits_both_keys(
    database: Database, tenant: TenantFixture
) -> None:
    before = await _sent_item(database, tenant)
    async with database.tenant_session(tenant.id) as session:
        item = await export_again(
            session,
            tenant_id=tenant.id,
            item_id=before.id,
            actor="support:erin",
            confirm_duplicate_risk=True,
            reason=f"  {REASON} ",
        )
    assert item.state == ExportState.PENDING.value
    assert item.idempotency_key != before.idempotency_key
    assert item.idempotency_key == idempotency_key(item.destination_connection_id, item.group_key, -1)
    assert (item.document, item.document_drift, item.remote_id, item.remote_url) == (None, None, None, None)
    assert (item.send_generation, item.outcome_unknown) == (0, False)
    assert item.next_attempt_at <= datetime.now(UTC) and item.replayed_at is not None
    async with database.tenant_session(tenant.id) as session:
        event = await session.scalar(
            select(AuditEvent).where(AuditEvent.entity_id == str(item.id), AuditEvent.action == "export_item.pending")
        )
    assert event is not None
    assert event.actor == "support:erin"
    assert event.data["from"] == "needs_action"
    assert event.data["reason"] == EXPORT_AGAIN_REASON
    assert (event.data["previous_key"], event.data["new_key"]) == (before.idempotency_key, item.idempotency_key)
    assert event.data["outcome_unknown"] is True
    assert event.data["confirmed_duplicate_risk"] == DUPLICATE_RISK
    assert event.data["stated_reason"] == REASON


async def test_exporting_again_without_confirming_the_duplicate_risk_or_a_reason_is_refused(
    database: Database, tenant: TenantFixture
) -> None:
    before = await _sent_item(database, tenant)
    async with database.tenant_session(tenant.id) as session:
        with pytest.raises(DuplicateRiskNotConfirmedError, match="may still exist in the destination"):
            await export_again(
                session,
                tenant_id=tenant.id,
                item_id=before.id,
                actor="a",
                confirm_duplicate_risk=False,
                reason=REASON,
            )
        with pytest.raises(ExportAgainReasonRequiredError):
            await export_again(
                session, tenant_id=tenant.id, item_id=before.id, actor="a", confirm_duplicate_risk=True, reason=" "
            )
    async with database.tenant_session(tenant.id) as session:
        after = await session.get(ExportItem, before.id)
    assert after is not None
    assert (after.state, after.idempotency_key, after.outcome_unknown) == (
        "needs_action",
        before.idempotency_key,
        True,
    )
    assert after.document == {"kind": "bill", "reference": "old"}


@pytest.mark.parametrize("state", [ExportState.PENDING, ExportState.SUCCEEDED, ExportState.SKIPPED])
async def test_exporting_again_an_item_not_needing_action_is_refused(
    database: Database, tenant: TenantFixture, state: ExportState
) -> None:
    _, (item_id,) = await failed_items(database, tenant, 1, state=state)
    async with database.tenant_session(tenant.id) as session:
        key = await session.scalar(select(ExportItem.idempotency_key).where(ExportItem.id == item_id))
        with pytest.raises(ExportAgainRefusedError, match="cannot be exported again"):
            await export_again(
                session, tenant_id=tenant.id, item_id=item_id, actor="a", confirm_duplicate_risk=True, reason=REASON
            )
    async with database.tenant_session(tenant.id) as session:
        after = await session.get(ExportItem, item_id)
    assert after is not None and (after.state, after.idempotency_key) == (state.value, key)


async def test_an_item_exported_again_twice_never_reuses_a_key_nor_takes_one_grouping_would_mint(
    database: Database, tenant: TenantFixture
) -> None:
    before = await _sent_item(database, tenant)
    keys = [before.idempotency_key]
    for _ in range(2):
        async with database.tenant_session(tenant.id) as session:
            item = await export_again(
                session,
                tenant_id=tenant.id,
                item_id=before.id,
                actor="a",
                confirm_duplicate_risk=True,
                reason=REASON,
            )
            keys.append(item.idempotency_key)
            await session.execute(update(ExportItem).where(ExportItem.id == before.id).values(state="needs_action"))
    assert len(set(keys)) == 3
    grouping_keys = {idempotency_key(before.destination_connection_id, before.group_key, n) for n in range(10)}
    assert not grouping_keys & set(keys[1:])


async def test_another_tenants_item_cannot_be_exported_again(
    database: Database, tenant: TenantFixture, other_tenant: TenantFixture
) -> None:
    before = await _sent_item(database, other_tenant)
    async with database.tenant_session(tenant.id) as session:
        with pytest.raises(ItemNotFoundError):
            await export_again(
                session,
                tenant_id=tenant.id,
                item_id=before.id,
                actor="a",
                confirm_duplicate_risk=True,
                reason=REASON,
            )


async def run_exports(database: Database, books: Books) -> None:
    await ExportEngine(database, owner="w1").run_batch(
        books.connector, tenant_id=books.tenant.id, connection_id=books.destination_id
    )


def delete_bill(sandbox: RunningSandbox, reference: str) -> None:
    """A person deletes the bill in Intacct: it is gone, while the control id that created it stays spent."""
    with sandbox.control() as control:
        found = control.get("/intacct/documents", params={"object": "APBILL", "record_id": reference}).json()
        [bill] = found["data"]
        control.delete(f"/intacct/documents/APBILL/{bill['RECORDNO']}").raise_for_status()


async def stuck_with_its_bill_deleted(database: Database, books: Books, sandbox: RunningSandbox) -> ExportItem:
    """Report rp-a's item in needs_action after a send whose answer was lost, its bill since deleted in Intacct;
    the two other reports' bills exist, their items pending with unknown outcomes."""
    with sandbox.control() as control:
        control.post(
            "/faults",
            json={"system": "intacct", "operation": "create:APBILL", "mode": "commit_then_fail", "status": 502},
        ).raise_for_status()
    await run_exports(database, books)
    with sandbox.control() as control:
        control.delete("/faults").raise_for_status()
    assert sandbox_bills(sandbox) == 3  # created, though we do not know it
    async with database.tenant_session(books.tenant.id) as session:
        stuck = await session.scalar(select(ExportItem).where(ExportItem.group_key.contains("rp-a")))
        assert stuck is not None
        await session.execute(
            update(ExportItem)
            .where(ExportItem.id == stuck.id)
            .values(state="needs_action", outcome_unknown=True, error_code="control_id_used")
        )
    delete_bill(sandbox, stuck.idempotency_key)  # to export it again, as people do in Intacct
    assert sandbox_bills(sandbox, stuck.idempotency_key) == 0
    return stuck


async def test_a_stuck_item_whose_bill_was_deleted_is_exported_again_as_exactly_one_bill_under_the_new_key(
    database: Database, books: Books, sandbox: RunningSandbox
) -> None:
    stuck = await stuck_with_its_bill_deleted(database, books, sandbox)
    old_key = stuck.idempotency_key

    async with database.tenant_session(books.tenant.id) as session:
        again = await export_again(
            session,
            tenant_id=books.tenant.id,
            item_id=stuck.id,
            actor="support:erin",
            confirm_duplicate_risk=True,
            reason=REASON,
        )
    await run_exports(database, books)

    async with database.tenant_session(books.tenant.id) as session:
        item = await session.get(ExportItem, stuck.id)
        states = (await session.scalars(select(ExportItem.state))).all()
    assert item is not None and item.state == "succeeded"
    assert item.idempotency_key == again.idempotency_key != old_key
    assert sandbox_bills(sandbox, item.idempotency_key) == 1
    assert sandbox_bills(sandbox, old_key) == 0
    assert sandbox_bills(sandbox) == 3  # the other two reports were adopted, not sent again
    assert sorted(states) == ["succeeded"] * 3
    # Exported: nothing is left to export again, nor to replay.
    async with database.tenant_session(books.tenant.id) as session:
        with pytest.raises(ExportAgainRefusedError, match="duplicate the document"):
            await export_again(
                session,
                tenant_id=books.tenant.id,
                item_id=stuck.id,
                actor="support:erin",
                confirm_duplicate_risk=True,
                reason=REASON,
            )
        with pytest.raises(ValueError, match="cannot be replayed"):
            await replay_item(session, tenant_id=books.tenant.id, item_id=stuck.id, actor="support:erin")
