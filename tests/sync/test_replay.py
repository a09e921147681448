"""Replays and skips against the real database: one item or thousands, audited, resumable, never twice."""

import hashlib
import secrets
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, insert, select, update

from core.db import Database
from core.models import AuditEvent, Connection, ExportItem, ExportItemRecord, ExportState, Replay, SourceRecord
from core.settings import Settings
from sync.item_queries import ItemFacet, ItemFilter, count_items, item_detail, list_items
from sync.queue import Queue
from sync.replay import (
    ReplayRefusedError,
    SkipReasonRequiredError,
    _batch,
    replay_item,
    request_replay,
    return_expired_replays,
    skip_item,
    work_replay,
)
from tests.conftest import TenantFixture, make_tenant


@pytest.fixture
async def queue(settings: Settings) -> AsyncIterator[Queue]:
    queue = await Queue.connect(settings.redis_url, settings.queue_name)
    yield queue
    await queue.close()


async def failed_items(
    database: Database, tenant: TenantFixture, count: int, *, state: ExportState = ExportState.NEEDS_ACTION
) -> tuple[uuid.UUID, list[uuid.UUID]]:
    """A destination with `count` items in `state`, each exporting one expense `ex-<n>` of report `rp-<n // 2>`."""
    connection_id = uuid.uuid4()
    source_id = uuid.uuid4()
    items: list[dict[str, Any]] = []
    records: list[dict[str, Any]] = []
    links: list[dict[str, Any]] = []
    for n in range(count):
        item_id, record_id = uuid.uuid4(), uuid.uuid4()
        items.append(
            {
                "id": item_id,
                "tenant_id": tenant.id,
                "destination_connection_id": connection_id,
                "destination_provider": "intacct",
                "document_type": "bill",
                "group_key": f"report:rp-{n // 2}",
                "idempotency_key": hashlib.sha256(f"{tenant.id}:{n}".encode()).hexdigest()[:40],
                "state": state.value,
                "error_class": "destination_rejected" if state is ExportState.NEEDS_ACTION else None,
                "error_message": f"The period is closed for vendor V{n:05d}"
                if state is ExportState.NEEDS_ACTION
                else None,
            }
        )
        records.append(
            {
                "id": record_id,
                "tenant_id": tenant.id,
                "connection_id": source_id,
                "kind": "expense",
                "remote_id": f"ex-{tenant.slug}-{n}",
                "parent_remote_id": f"rp-{tenant.slug}-{n // 2}",
                "data": {"id": f"ex-{n}"},
                "fingerprint": "f",
            }
        )
        links.append({"tenant_id": tenant.id, "export_item_id": item_id, "source_record_id": record_id})
    async with database.tenant_session(tenant.id) as session:
        for connection, provider, role in ((connection_id, "intacct", "destination"), (source_id, "fyle", "source")):
            session.add(
                Connection(
                    id=connection,
                    tenant_id=tenant.id,
                    name=f"{provider}-{connection.hex[:6]}",
                    provider=provider,
                    role=role,
                    webhook_key=secrets.token_urlsafe(12),
                )
            )
        await session.flush()
        for start in range(0, count, 1000):
            await session.execute(insert(ExportItem), items[start : start + 1000])
            await session.execute(insert(SourceRecord), records[start : start + 1000])
            await session.execute(insert(ExportItemRecord), links[start : start + 1000])
    return connection_id, [row["id"] for row in items]


async def _states(database: Database, tenant: TenantFixture) -> dict[str, int]:
    async with database.tenant_session(tenant.id) as session:
        rows = await session.execute(select(ExportItem.state, func.count()).group_by(ExportItem.state))
        return {state: count for state, count in rows.all()}


async def test_replaying_an_item_makes_it_pending_due_now_and_audits_who(
    database: Database, tenant: TenantFixture
) -> None:
    _, (item_id,) = await failed_items(database, tenant, 1)
    async with database.tenant_session(tenant.id) as session:
        await session.execute(
            update(ExportItem).values(outcome_unknown=True, next_attempt_at=func.now() + timedelta(days=1))
        )
    async with database.tenant_session(tenant.id) as session:
        before = await session.get(ExportItem, item_id)
        assert before is not None
        key = before.idempotency_key
        item = await replay_item(session, tenant_id=tenant.id, item_id=item_id, actor="api_key:alice")
    assert item.state == "pending"
    assert item.next_attempt_at <= datetime.now(UTC)
    assert item.idempotency_key == key  # the destination recognises a second send
    assert item.outcome_unknown  # the engine looks the reference up before sending
    assert item.error_class == "destination_rejected"  # kept for history until the next attempt
    async with database.tenant_session(tenant.id) as session:
        event = await session.scalar(select(AuditEvent).where(AuditEvent.entity_id == str(item_id)))
    assert event is not None
    assert (event.actor, event.action, event.data["from"]) == ("api_key:alice", "export_item.pending", "needs_action")


@pytest.mark.parametrize("state", [ExportState.PENDING, ExportState.SUCCEEDED, ExportState.SKIPPED])
async def test_replaying_or_skipping_an_item_not_needing_action_is_refused(
    database: Database, tenant: TenantFixture, state: ExportState
) -> None:
    _, (item_id,) = await failed_items(database, tenant, 1, state=state)
    async with database.tenant_session(tenant.id) as session:
        with pytest.raises(ReplayRefusedError, match="cannot be replayed"):
            await replay_item(session, tenant_id=tenant.id, item_id=item_id, actor="a")
        with pytest.raises(ReplayRefusedError, match="cannot be skipped"):
            await skip_item(session, tenant_id=tenant.id, item_id=item_id, actor="a", reason="why")
    assert await _states(database, tenant) == {state.value: 1}


async def test_skip_requires_a_reason_and_keeps_the_expenses_linked(database: Database, tenant: TenantFixture) -> None:
    _, (item_id,) = await failed_items(database, tenant, 1)
    async with database.tenant_session(tenant.id) as session:
        with pytest.raises(SkipReasonRequiredError):
            await skip_item(session, tenant_id=tenant.id, item_id=item_id, actor="a", reason="  ")
    async with database.tenant_session(tenant.id) as session:
        item = await skip_item(session, tenant_id=tenant.id, item_id=item_id, actor="bob", reason="entered by hand")
        live = await session.scalar(
            select(func.count()).where(
                ExportItemRecord.export_item_id == item_id, ExportItemRecord.released_at.is_(None)
            )
        )
    assert (item.state, item.skip_reason, item.status_written_back_at) == ("skipped", "entered by hand", None)
    assert live == 1


async def test_bulk_replay_of_1200_items_processes_all_and_a_second_finds_nothing(
    database: Database, queue: Queue
) -> None:
    tenant = await make_tenant(database, "Bulk")
    connection_id, _ = await failed_items(database, tenant, 1200)
    chosen = ItemFilter(tenant_id=tenant.id, connection_id=connection_id)
    async with database.tenant_session(tenant.id) as session:
        replay = await request_replay(session, item_filter=chosen, actor="api_key:carol")
    assert (replay.total, replay.done, replay.state) == (1200, 0, "pending")
    # One batch, then hand over: progress is visible between steps.
    step = await work_replay(
        database, queue, replay_id=replay.id, tenant_id=tenant.id, owner="w1", batch=500, max_batches=1
    )
    assert step == "pending"
    async with database.tenant_session(tenant.id) as session:
        halfway = await session.get(Replay, replay.id)
        assert halfway is not None and (halfway.done, halfway.state) == (500, "pending")
    assert await work_replay(database, queue, replay_id=replay.id, tenant_id=tenant.id, owner="w1") == "succeeded"
    async with database.tenant_session(tenant.id) as session:
        finished = await session.get(Replay, replay.id)
        assert finished is not None
        assert (finished.done, finished.total, finished.state) == (1200, 1200, "succeeded")
        assert finished.finished_at is not None
        audited = await session.scalar(
            select(func.count()).where(AuditEvent.data["replay_id"].astext == str(replay.id))
        )
    assert audited == 1200
    assert await _states(database, tenant) == {"pending": 1200}
    async with database.tenant_session(tenant.id) as session:
        again = await request_replay(session, item_filter=chosen, actor="api_key:carol")
    assert again.total == 0
    assert await work_replay(database, queue, replay_id=again.id, tenant_id=tenant.id, owner="w1") == "succeeded"
    async with database.tenant_session(tenant.id) as session:
        second = await session.get(Replay, again.id)
    assert second is not None and second.done == 0


async def test_a_crashed_replay_resumes_after_its_last_batch_without_replaying_twice(
    database: Database, queue: Queue
) -> None:
    tenant = await make_tenant(database, "Crash")
    await failed_items(database, tenant, 700)
    async with database.tenant_session(tenant.id) as session:
        replay = await request_replay(session, item_filter=ItemFilter(tenant_id=tenant.id), actor="api_key:dave")
    # A worker claims it, commits one batch, and dies holding the lease.
    async with database.tenant_session(tenant.id) as session:
        await session.execute(
            update(Replay)
            .where(Replay.id == replay.id)
            .values(state="running", lease_owner="dead", lease_expires_at=func.now() + timedelta(minutes=5))
        )
    async with database.tenant_session(tenant.id) as session:
        held = await session.get(Replay, replay.id)
        assert held is not None
        assert await _batch(session, held, "dead", 300) is not None
    # Meanwhile one replayed item fails again: a resumed replay must not pick it up a second time.
    async with database.tenant_session(tenant.id) as session:
        again = await session.scalar(select(ExportItem.id).where(ExportItem.state == "pending").limit(1))
        await session.execute(update(ExportItem).where(ExportItem.id == again).values(state="needs_action"))
    assert await work_replay(database, queue, replay_id=replay.id, tenant_id=tenant.id, owner="w2") == "not claimed"
    async with database.tenant_session(tenant.id) as session:
        await session.execute(update(Replay).where(Replay.id == replay.id).values(lease_expires_at=func.now()))
    assert await return_expired_replays(database) >= 1
    assert await work_replay(database, queue, replay_id=replay.id, tenant_id=tenant.id, owner="w2") == "succeeded"
    async with database.tenant_session(tenant.id) as session:
        finished = await session.get(Replay, replay.id)
        per_item = (
            await session.execute(
                select(AuditEvent.entity_id, func.count())
                .where(AuditEvent.data["replay_id"].astext == str(replay.id))
                .group_by(AuditEvent.entity_id)
            )
        ).all()
    assert finished is not None and (finished.done, finished.state) == (700, "succeeded")
    assert len(per_item) == 700 and all(count == 1 for _, count in per_item)
    assert await _states(database, tenant) == {"pending": 699, "needs_action": 1}
    # The dead worker's lease is gone: anything it still tries is refused.
    async with database.tenant_session(tenant.id) as session:
        stale = await session.get(Replay, replay.id)
        assert stale is not None
        assert await _batch(session, stale, "dead", 300) is None


async def test_search_finds_an_item_by_expense_report_reference_and_message_words(
    database: Database, tenant: TenantFixture, other_tenant: TenantFixture
) -> None:
    _, ids = await failed_items(database, tenant, 6)
    await failed_items(database, other_tenant, 6)
    async with database.tenant_session(tenant.id) as session:
        by_expense, _ = await list_items(session, ItemFilter(tenant_id=tenant.id, expense_id=f"ex-{tenant.slug}-3"))
        by_report, _ = await list_items(session, ItemFilter(tenant_id=tenant.id, expense_id=f"rp-{tenant.slug}-1"))
        key = await session.scalar(select(ExportItem.idempotency_key).where(ExportItem.id == ids[4]))
        by_reference, _ = await list_items(session, ItemFilter(reference=key))
        by_words, _ = await list_items(session, ItemFilter(search="period clos V00005"))
        none_found, _ = await list_items(session, ItemFilter(expense_id=f"ex-{other_tenant.slug}-3"))
        page, cursor = await list_items(session, ItemFilter(tenant_id=tenant.id), limit=4)
        rest, end = await list_items(session, ItemFilter(tenant_id=tenant.id), limit=4, cursor=cursor)
        counts = await count_items(session, ItemFilter(tenant_id=tenant.id), group_by=ItemFacet.ERROR_CLASS)
        detail = await item_detail(session, ids[3])
    assert [row.id for row in by_expense] == [ids[3]]
    assert {row.id for row in by_report} == {ids[2], ids[3]}
    assert [row.id for row in by_reference] == [ids[4]]
    assert [row.id for row in by_words] == [ids[5]]
    assert none_found == []  # row-level security: the other tenant's expense is invisible
    assert len(page) == 4 and len(rest) == 2 and end is None
    assert {row.id for row in [*page, *rest]} == set(ids)
    assert [(facet.key, facet.count) for facet in counts] == [("destination_rejected", 6)]
    assert detail is not None and [record["remote_id"] for record in detail.records] == [f"ex-{tenant.slug}-3"]


async def test_support_sees_every_tenant_in_a_cross_tenant_session(
    database: Database, tenant: TenantFixture, other_tenant: TenantFixture
) -> None:
    _, mine = await failed_items(database, tenant, 2)
    _, theirs = await failed_items(database, other_tenant, 2)
    async with database.cross_tenant_session(actor="support:erin", reason="ticket 8") as session:
        rows, _ = await list_items(session, ItemFilter(search="closed"), limit=200)
        tenants = await count_items(session, ItemFilter(), group_by=ItemFacet.TENANT)
    seen = {row.id for row in rows}
    assert set(mine) | set(theirs) <= seen or len(rows) == 200
    assert {tenant.id, other_tenant.id} <= {uuid.UUID(facet.key) for facet in tenants if facet.key}
