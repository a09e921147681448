"""A person's answer to an item that needs action: replay it (one, or every item matching a filter) or skip it.

Service surface (async, keyword-only; the session is the caller's tenant session, or a cross-tenant session for
support staff — each change is audited in the item's tenant chain with the person as actor):

    replay_item(session, *, tenant_id, item_id, actor) -> ExportItem
        needs_action → pending, due now. Raises ItemNotFoundError, ReplayRefusedError (not in needs_action).
    skip_item(session, *, tenant_id, item_id, actor, reason) -> ExportItem
        needs_action → skipped with the reason. Raises ItemNotFoundError, ReplayRefusedError, SkipReasonRequiredError.
    request_replay(session, *, item_filter, actor) -> Replay
        A bulk replay of every needs_action item matching `item_filter` (sync.item_queries.ItemFilter), pending.
        `item_filter.tenant_id` None: across tenants — only in a cross-tenant session. Raises ReplayFilterError.
        After committing, ring the bell: `await enqueue_replay(queue, replay)`.
    get_replay(session, replay_id) -> Replay | None
    sync.reconciler.ring_export_bell(queue, *, tenant_id, connection_id)  after a single replay's commit
    replay_items(ctx, replay_id, tenant_id=None)                       the arq job (REPLAY_JOB)
    return_expired_replays(database) -> int; enqueue_due_replays(database, queue) -> int     for the reconciler

A replay starts the item's retry window afresh (`replayed_at`): transient errors after it are retried with backoff
for a whole window again, however old the item is.

Never a duplicate: a replay changes the state, the due time and the window's start only. The idempotency key stays,
so the destination refuses or finds a second send; an item whose last outcome is unknown keeps `outcome_unknown`, so
the engine looks its reference up (and adopts what it finds) before sending anything. The error fields stay for
history until the next attempt overwrites them; the attempts timeline keeps every one.

A skipped item keeps its expenses linked. Skipping says "these expenses must not reach the books through us" (they
were entered by hand, or are wrong at the source): releasing them would let the next grouping put them in a new
item and export them — the duplicate a skip exists to prevent. An expense that changes at the source after a skip
is flagged (`changed_after_export`) for a person, as for any exported expense.

A bulk replay is a unit of work like a sync run (DESIGN.md): a row with a lease, worked in batches of REPLAY_BATCH
items per transaction. Items are visited once, in id order after `replays.cursor`, which commits with each batch:
an item that fails again after its replay is not replayed twice, and a job resumed after a crash carries on after
the last committed batch. A tenant's replay runs in that tenant's session; a replay across tenants runs in a
cross-tenant session (audited at each opening) so that its progress commits atomically with its items.
"""

import uuid
from contextlib import AbstractAsyncContextManager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import TextClause, Update, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.audit import append_event
from core.db import Database
from core.log import bind_context, get_logger
from core.models import ExportItem, ExportState, Replay, RunState
from core.state_machine import record_transition
from sync.constants import (
    AUDIT_REPLAY_FINISHED,
    AUDIT_REPLAY_REQUESTED,
    RECONCILE_EVERY_SECONDS,
    REPLAY_BATCH,
    REPLAY_JOB,
    REPLAY_LEASE_SECONDS,
    REPLAY_RECONCILE_BATCH,
    REPLAY_STEP_SECONDS,
    RUN_MAX_FAILURES,
)
from sync.item_queries import ItemFilter, matching_items
from sync.queue import Queue
from sync.reconciler import ring_export_bell

__all__ = [
    "ItemNotFoundError",
    "ReplayFilterError",
    "ReplayRefusedError",
    "SkipReasonRequiredError",
    "enqueue_due_replays",
    "enqueue_replay",
    "get_replay",
    "replay_items",
    "request_replay",
    "return_expired_replays",
    "skip_item",
    "work_replay",
]

log = get_logger(__name__)

RECONCILER_ACTOR = "system:reconciler"


class ItemNotFoundError(LookupError):
    """No such item for this caller (another tenant's item looks the same)."""


class ReplayRefusedError(ValueError):
    """The item is not waiting for a person; the message says what state it is in and why that matters."""


class SkipReasonRequiredError(ValueError):
    """A skip must say why: the reason is what the next person reads."""


class ReplayFilterError(ValueError):
    """A bulk replay only replays items that need action, and only a cross-tenant session spans tenants."""


_REFUSALS = {
    ExportState.PENDING.value: "it is already pending and will be exported shortly",
    ExportState.RUNNING.value: "it is being exported right now",
    ExportState.SUCCEEDED.value: "it was exported successfully; replaying it could only duplicate the document",
    ExportState.SKIPPED.value: "it was skipped on purpose",
}


async def _locked_item(session: AsyncSession, tenant_id: uuid.UUID, item_id: uuid.UUID) -> ExportItem:
    item = await session.scalar(
        select(ExportItem).where(ExportItem.tenant_id == tenant_id, ExportItem.id == item_id).with_for_update()
    )
    if item is None:
        raise ItemNotFoundError(f"No export item {item_id} exists for this tenant.")
    return item


def _refuse(item: ExportItem, verb: str) -> ReplayRefusedError:
    why = _REFUSALS.get(item.state, f"it is {item.state}")
    return ReplayRefusedError(f"Export item {item.id} cannot be {verb}: {why}. Only items that need action can be.")


async def replay_item(session: AsyncSession, *, tenant_id: uuid.UUID, item_id: uuid.UUID, actor: str) -> ExportItem:
    item = await _locked_item(session, tenant_id, item_id)
    if item.state != ExportState.NEEDS_ACTION.value:
        raise _refuse(item, "replayed")
    await record_transition(
        session,
        tenant_id=tenant_id,
        item_id=item.id,
        source=item.state,
        target=ExportState.PENDING,
        actor=actor,
        details={"reason": "replay", "outcome_unknown": item.outcome_unknown, "error_class": item.error_class},
    )
    item.state = ExportState.PENDING.value
    item.next_attempt_at = item.replayed_at = datetime.now(UTC)
    await session.flush()
    await session.refresh(item)
    return item


async def skip_item(
    session: AsyncSession, *, tenant_id: uuid.UUID, item_id: uuid.UUID, actor: str, reason: str
) -> ExportItem:
    reason = reason.strip()
    if not reason:
        raise SkipReasonRequiredError("Say why the item is skipped; the reason is kept with it and audited.")
    item = await _locked_item(session, tenant_id, item_id)
    if item.state != ExportState.NEEDS_ACTION.value:
        raise _refuse(item, "skipped")
    await record_transition(
        session,
        tenant_id=tenant_id,
        item_id=item.id,
        source=item.state,
        target=ExportState.SKIPPED,
        actor=actor,
        details={"reason": reason, "error_class": item.error_class},
    )
    item.state = ExportState.SKIPPED.value
    item.skip_reason = reason
    item.status_written_back_at = None  # the source is told it was skipped
    await session.flush()
    await session.refresh(item)
    return item


# Bulk replays.


async def request_replay(session: AsyncSession, *, item_filter: ItemFilter, actor: str) -> Replay:
    if item_filter.state not in (None, ExportState.NEEDS_ACTION):
        raise ReplayFilterError("Only items that need action can be replayed; leave the state out or say needs_action.")
    item_filter = replace(item_filter, state=ExportState.NEEDS_ACTION)
    total = await session.scalar(select(func.count()).select_from(matching_items(item_filter).subquery()))
    replay = Replay(
        id=uuid.uuid4(),
        tenant_id=item_filter.tenant_id,
        filter=item_filter.as_json(),
        total=total or 0,
        done=0,
        failed=0,
        requested_by=actor,
    )
    session.add(replay)
    await session.flush()
    await append_event(
        session,
        tenant_id=replay.tenant_id,
        actor=actor,
        action=AUDIT_REPLAY_REQUESTED,
        entity_type="replays",
        entity_id=str(replay.id),
        data={"filter": replay.filter, "total": replay.total},
    )
    await session.refresh(replay)
    return replay


async def get_replay(session: AsyncSession, replay_id: uuid.UUID) -> Replay | None:
    return await session.get(Replay, replay_id)


def replay_job_id(replay_id: uuid.UUID) -> str:
    """A fresh id each time: a killed earlier step may still hold any id we could derive."""
    return f"replay:{replay_id}:{uuid.uuid4()}"


async def enqueue_replay(queue: Queue, replay: Replay, *, at: datetime | None = None) -> bool:
    tenant = str(replay.tenant_id) if replay.tenant_id else None
    return await queue.enqueue(REPLAY_JOB, str(replay.id), tenant, job_id=replay_job_id(replay.id), defer_until=at)


def _scope(
    database: Database, tenant_id: uuid.UUID | None, replay_id: uuid.UUID, actor: str
) -> AbstractAsyncContextManager[AsyncSession]:
    if tenant_id is not None:
        return database.tenant_session(tenant_id)
    return database.cross_tenant_session(actor=actor, reason=f"bulk replay {replay_id} across tenants")


async def _claim(session: AsyncSession, replay_id: uuid.UUID, owner: str) -> Replay | None:
    return await session.scalar(
        update(Replay)
        .where(Replay.id == replay_id, Replay.state == RunState.PENDING.value, Replay.next_attempt_at <= func.now())
        .values(
            state=RunState.RUNNING.value,
            lease_owner=owner,
            lease_expires_at=func.now() + timedelta(seconds=REPLAY_LEASE_SECONDS),
            started_at=func.coalesce(Replay.started_at, func.now()),
        )
        .returning(Replay)
        .execution_options(synchronize_session=False)
    )


def _held(replay_id: uuid.UUID, owner: str) -> Update:
    return update(Replay).where(
        Replay.id == replay_id, Replay.state == RunState.RUNNING.value, Replay.lease_owner == owner
    )


async def _batch(
    session: AsyncSession, replay: Replay, owner: str, limit: int
) -> tuple[bool, int, set[tuple[uuid.UUID, uuid.UUID]]] | None:
    """One batch in the caller's transaction. None when the lease was lost; else (more to do, items replayed, the
    (tenant, connection) pairs to ring for)."""
    held = await session.scalar(
        _held(replay.id, owner)
        .values(lease_expires_at=func.now() + timedelta(seconds=REPLAY_LEASE_SECONDS))
        .returning(Replay)
        .execution_options(synchronize_session=False)
    )
    if held is None:
        return None
    query = matching_items(ItemFilter.from_json(held.filter))
    if held.cursor is not None:
        query = query.where(ExportItem.id > held.cursor)
    # FOR UPDATE (not SKIP LOCKED): an item someone is changing right now is waited for and checked again, so the
    # cursor never passes an item that still needs action.
    ids = list((await session.scalars(query.order_by(ExportItem.id).limit(limit).with_for_update(of=ExportItem))).all())
    if not ids:
        return False, 0, set()
    moved = (
        await session.execute(
            update(ExportItem)
            .where(ExportItem.id.in_(ids), ExportItem.state == ExportState.NEEDS_ACTION.value)
            .values(state=ExportState.PENDING.value, next_attempt_at=func.now(), replayed_at=func.now())
            .returning(
                ExportItem.tenant_id, ExportItem.id, ExportItem.destination_connection_id, ExportItem.error_class
            )
            .execution_options(synchronize_session=False)
        )
    ).all()
    # Audit chains are locked in tenant order, so two replays across tenants never wait on each other in a cycle.
    for tenant_id, item_id, _, error_class in sorted(moved, key=lambda row: (str(row[0]), str(row[1]))):
        await record_transition(
            session,
            tenant_id=tenant_id,
            item_id=item_id,
            source=ExportState.NEEDS_ACTION.value,
            target=ExportState.PENDING,
            actor=held.requested_by,
            details={"reason": "bulk replay", "replay_id": str(held.id), "error_class": error_class},
        )
    await session.execute(
        _held(replay.id, owner)
        .values(done=Replay.done + len(moved), cursor=max(ids))
        .execution_options(synchronize_session=False)
    )
    return True, len(moved), {(row[0], row[2]) for row in moved}


async def _finish(
    session: AsyncSession,
    replay_id: uuid.UUID,
    owner: str,
    state: RunState,
    *,
    error: str | None = None,
    failures: int | None = None,
    at: datetime | None = None,
) -> Replay | None:
    values: dict[str, Any] = {"state": state.value, "lease_owner": None, "lease_expires_at": None}
    if state is not RunState.PENDING:
        values["finished_at"] = func.now()
    if error is not None:
        values["error_message"] = error
    if failures is not None:
        values["attempt_count"] = failures
    if at is not None:
        values["next_attempt_at"] = at
    finished = await session.scalar(
        _held(replay_id, owner).values(**values).returning(Replay).execution_options(synchronize_session=False)
    )
    if finished is not None and state is not RunState.PENDING:
        await append_event(
            session,
            tenant_id=finished.tenant_id,
            actor=f"worker:{owner}",
            action=AUDIT_REPLAY_FINISHED,
            entity_type="replays",
            entity_id=str(replay_id),
            data={"state": state.value, "total": finished.total, "done": finished.done, "error": error},
        )
    return finished


async def work_replay(
    database: Database,
    queue: Queue,
    *,
    replay_id: uuid.UUID,
    tenant_id: uuid.UUID | None,
    owner: str,
    batch: int = REPLAY_BATCH,
    step_seconds: float = REPLAY_STEP_SECONDS,
    max_batches: int | None = None,
) -> str:
    """One step of a replay: claim it, work batches for a while, then finish it or hand it back (re-enqueued).
    Returns what happened: not claimed, lease lost, pending (handed back), succeeded, failed."""
    actor = f"worker:{owner}"
    async with _scope(database, tenant_id, replay_id, actor) as session:
        replay = await _claim(session, replay_id, owner)
    if replay is None:
        return "not claimed"
    deadline = datetime.now(UTC) + timedelta(seconds=step_seconds)
    batches = 0
    try:
        while True:
            async with _scope(database, tenant_id, replay_id, actor) as session:
                outcome = await _batch(session, replay, owner, batch)
            if outcome is None:
                return "lease lost"
            more, _, bells = outcome
            for bell_tenant, connection_id in bells:
                await ring_export_bell(queue, tenant_id=bell_tenant, connection_id=connection_id)
            batches += 1
            if not more:
                async with _scope(database, tenant_id, replay_id, actor) as session:
                    done = await _finish(session, replay_id, owner, RunState.SUCCEEDED)
                return RunState.SUCCEEDED.value if done else "lease lost"
            if (max_batches is not None and batches >= max_batches) or datetime.now(UTC) >= deadline:
                async with _scope(database, tenant_id, replay_id, actor) as session:
                    back = await _finish(session, replay_id, owner, RunState.PENDING, at=datetime.now(UTC))
                if back is None:
                    return "lease lost"
                await enqueue_replay(queue, back)
                return RunState.PENDING.value
    except Exception as exc:
        log.exception("replay_step_failed", replay_id=str(replay_id))
        failures = replay.attempt_count + 1
        message = f"{type(exc).__name__}: {exc}"[:500]
        state = RunState.PENDING if failures < RUN_MAX_FAILURES else RunState.FAILED
        at = datetime.now(UTC) + timedelta(seconds=30 * 2**failures) if state is RunState.PENDING else None
        async with _scope(database, tenant_id, replay_id, actor) as session:
            back = await _finish(session, replay_id, owner, state, error=message, failures=failures, at=at)
        if back is not None and state is RunState.PENDING:
            await enqueue_replay(queue, back, at=at)
        return state.value


async def replay_items(ctx: dict[str, Any], replay_id: str, tenant_id: str | None = None) -> str:
    """The arq job: one step of a bulk replay. `tenant_id` None: a replay across tenants."""
    bind_context(replay_id=replay_id, tenant_id=tenant_id or "*")
    return await work_replay(
        ctx["database"],
        ctx["queue"],
        replay_id=uuid.UUID(replay_id),
        tenant_id=uuid.UUID(tenant_id) if tenant_id else None,
        owner=ctx["worker_id"],
    )


# Discovery after a lost bell (Redis flushed, worker killed): owner-run functions of migration 0006, ids only.


_EXPIRED_REPLAYS = text("SELECT tenant_id, replay_id FROM ledgerline_expired_replay_leases(:n)")
_DUE_REPLAYS = text("SELECT tenant_id, replay_id FROM ledgerline_due_replays(:n)")


async def _discover(database: Database, query: TextClause) -> list[tuple[uuid.UUID | None, uuid.UUID]]:
    async with database.unscoped_session() as session:
        found = await session.execute(query, {"n": REPLAY_RECONCILE_BATCH})
        return [(row[0], row[1]) for row in found.all()]


async def return_expired_replays(database: Database) -> int:
    """Replays whose worker died mid-step go back to `pending`, due now; they resume after their cursor."""
    returned = 0
    for tenant_id, replay_id in await _discover(database, _EXPIRED_REPLAYS):
        async with _scope(database, tenant_id, replay_id, RECONCILER_ACTOR) as session:
            back = await session.scalar(
                update(Replay)
                .where(
                    Replay.id == replay_id,
                    Replay.state == RunState.RUNNING.value,
                    Replay.lease_expires_at < func.now(),
                )
                .values(
                    state=RunState.PENDING.value, lease_owner=None, lease_expires_at=None, next_attempt_at=func.now()
                )
                .returning(Replay.id)
                .execution_options(synchronize_session=False)
            )
            returned += back is not None
    return returned


async def enqueue_due_replays(database: Database, queue: Queue) -> int:
    enqueued = 0
    for tenant_id, replay_id in await _discover(database, _DUE_REPLAYS):
        tenant = str(tenant_id) if tenant_id else None
        enqueued += await queue.enqueue(REPLAY_JOB, str(replay_id), tenant, job_id=f"replay:{replay_id}:{_window()}")
    return enqueued


def _window() -> int:
    return int(datetime.now(UTC).timestamp() // RECONCILE_EVERY_SECONDS)
