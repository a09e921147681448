"""The reconciler: hands expired leases back as `pending` (outcome unknown) and rings the bell for due work.

Redis only rings the bell: after a `FLUSHALL`, a restart, or a worker killed mid-job, every unit of work is still a
row in PostgreSQL, and this finds it again. It runs at worker start-up and every few seconds (arq cron). Discovery
across tenants goes through owner-run functions that return ids only; every change happens in the owning
tenant's session, audited like any other transition.
"""

import time
import uuid
from contextlib import suppress
from dataclasses import dataclass

from sqlalchemy import TextClause, func, select, text, update

from core.db import Database
from core.models import Connection, ExportItem, ExportState, RunState, SyncRun, WebhookEvent, WebhookState
from core.state_machine import record_transition
from sync.constants import RECONCILE_BATCH, RECONCILE_EVERY_SECONDS, RUN_JOB, SCHEDULE_BATCH
from sync.queue import Queue
from sync.runs import RunKind, RunRefusedError, RunTrigger, request_run

RECONCILER_ACTOR = "system:reconciler"
SCHEDULER_ACTOR = "system:scheduler"
EXPORT_JOB = "export_connection"
WEBHOOK_JOB = "process_webhook_event"
"""Handles one stored webhook event (`sync.webhook_events`); args `(tenant_id, event_id)`, the row's ids."""


@dataclass(frozen=True, slots=True)
class ReconcileReport:
    expired: int
    enqueued: int
    runs_expired: int = 0
    runs_enqueued: int = 0
    scheduled: int = 0
    webhooks_expired: int = 0
    webhooks_enqueued: int = 0


async def return_expired_leases(database: Database) -> int:
    """Every running item whose lease ran out goes back to `pending`, flagged outcome-unknown (it may have been
    sent): the next attempt looks its reference up before sending again."""
    async with database.unscoped_session() as session:
        rows = (
            await session.execute(
                text("SELECT tenant_id, item_id FROM ledgerline_expired_export_leases(:n)"), {"n": RECONCILE_BATCH}
            )
        ).all()
    by_tenant: dict[uuid.UUID, list[uuid.UUID]] = {}
    for tenant_id, item_id in rows:
        by_tenant.setdefault(tenant_id, []).append(item_id)
    returned = 0
    for tenant_id, item_ids in by_tenant.items():
        async with database.tenant_session(tenant_id) as session:
            expired = (
                await session.scalars(
                    update(ExportItem)
                    .where(
                        # An item a batch is finishing right now is locked: skipped, never waited for (waiting,
                        # with others locked, deadlocked with that batch's finish); the next pass sees it again.
                        ExportItem.id.in_(
                            select(ExportItem.id)
                            .where(
                                ExportItem.id.in_(item_ids),
                                ExportItem.state == ExportState.RUNNING.value,
                                ExportItem.lease_expires_at < func.now(),
                            )
                            .order_by(ExportItem.id)
                            .with_for_update(skip_locked=True)
                        ),
                    )
                    .values(
                        state=ExportState.PENDING.value,
                        outcome_unknown=True,
                        lease_owner=None,
                        lease_expires_at=None,
                        next_attempt_at=func.now(),
                    )
                    .returning(ExportItem.id)
                    .execution_options(synchronize_session=False)
                )
            ).all()
            for item_id in expired:
                await record_transition(
                    session,
                    tenant_id=tenant_id,
                    item_id=item_id,
                    source=ExportState.RUNNING.value,
                    target=ExportState.PENDING,
                    actor=RECONCILER_ACTOR,
                    details={"reason": "lease expired", "outcome_unknown": True},
                )
            returned += len(expired)
    return returned


async def enqueue_due_exports(database: Database, queue: Queue) -> int:
    """One export job per destination connection with due items; duplicates collapse on the job id."""
    async with database.unscoped_session() as session:
        rows = (
            await session.execute(
                text("SELECT tenant_id, connection_id FROM ledgerline_due_export_connections(:n)"),
                {"n": RECONCILE_BATCH},
            )
        ).all()
    enqueued = 0
    for tenant_id, connection_id in rows:
        if await ring_export_bell(queue, tenant_id=tenant_id, connection_id=connection_id):
            enqueued += 1
    return enqueued


async def ring_export_bell(queue: Queue, *, tenant_id: uuid.UUID, connection_id: uuid.UUID) -> bool:
    """Ask for an export job of the connection now; it collapses with any other ring in the same window."""
    return await queue.enqueue(EXPORT_JOB, str(tenant_id), str(connection_id), job_id=export_job_id(connection_id))


def export_job_id(connection_id: uuid.UUID) -> str:
    """Deterministic per reconcile window: enqueuing a connection twice in one window is a no-op.

    Not one id forever: a job whose worker was killed keeps its id taken in Redis until arq's in-progress key
    expires, and a fixed id would keep the connection's work from being enqueued again until then.
    """
    window = int(time.time() // RECONCILE_EVERY_SECONDS)
    return f"export:{connection_id}:{window}"


def _window() -> int:
    return int(time.time() // RECONCILE_EVERY_SECONDS)


_EXPIRED_RUNS = text("SELECT tenant_id, run_id FROM ledgerline_expired_run_leases(:n)")
_DUE_RUNS = text("SELECT tenant_id, run_id FROM ledgerline_due_sync_runs(:n)")
_DUE_SCHEDULES = text("SELECT tenant_id, connection_id FROM ledgerline_due_schedules(:n)")
_EXPIRED_WEBHOOKS = text("SELECT tenant_id, event_id FROM ledgerline_expired_webhook_leases(:n)")
_DUE_WEBHOOKS = text("SELECT tenant_id, event_id FROM ledgerline_due_webhook_events(:n)")


async def _discover(database: Database, query: TextClause, limit: int) -> dict[uuid.UUID, list[uuid.UUID]]:
    """Ids from one owner-run discovery function, by tenant."""
    async with database.unscoped_session() as session:
        rows = (await session.execute(query, {"n": limit})).all()
    found: dict[uuid.UUID, list[uuid.UUID]] = {}
    for tenant_id, row_id in rows:
        found.setdefault(tenant_id, []).append(row_id)
    return found


async def return_expired_runs(database: Database) -> int:
    """Runs whose worker died mid-step go back to `pending`; they resume at the phase they were in."""
    returned = 0
    for tenant_id, run_ids in (await _discover(database, _EXPIRED_RUNS, RECONCILE_BATCH)).items():
        async with database.tenant_session(tenant_id) as session:
            result = await session.execute(
                update(SyncRun)
                .where(
                    SyncRun.id.in_(run_ids),
                    SyncRun.state == RunState.RUNNING.value,
                    SyncRun.lease_expires_at < func.now(),
                )
                .values(
                    state=RunState.PENDING.value, lease_owner=None, lease_expires_at=None, next_attempt_at=func.now()
                )
                .execution_options(synchronize_session=False)
            )
            returned += result.rowcount  # type: ignore[attr-defined]
    return returned


async def enqueue_due_runs(database: Database, queue: Queue) -> int:
    enqueued = 0
    for tenant_id, run_ids in (await _discover(database, _DUE_RUNS, RECONCILE_BATCH)).items():
        for run_id in run_ids:
            enqueued += await queue.enqueue(RUN_JOB, str(tenant_id), str(run_id), job_id=f"run:{run_id}:{_window()}")
    return enqueued


async def return_expired_webhook_leases(database: Database) -> int:
    """Events whose worker died while handling them are free again and due now. Handling is idempotent (runs
    coalesce), so handling one again is harmless."""
    returned = 0
    for tenant_id, event_ids in (await _discover(database, _EXPIRED_WEBHOOKS, RECONCILE_BATCH)).items():
        async with database.tenant_session(tenant_id) as session:
            result = await session.execute(
                update(WebhookEvent)
                .where(
                    WebhookEvent.id.in_(event_ids),
                    WebhookEvent.state == WebhookState.RECEIVED.value,
                    WebhookEvent.lease_expires_at < func.now(),
                )
                .values(lease_owner=None, lease_expires_at=None, next_attempt_at=func.now())
                .execution_options(synchronize_session=False)
            )
            returned += result.rowcount  # type: ignore[attr-defined]
    return returned


async def enqueue_due_webhook_events(database: Database, queue: Queue) -> int:
    enqueued = 0
    for tenant_id, event_ids in (await _discover(database, _DUE_WEBHOOKS, RECONCILE_BATCH)).items():
        for event_id in event_ids:
            enqueued += await queue.enqueue(
                WEBHOOK_JOB, str(tenant_id), str(event_id), job_id=f"webhook:{event_id}:{_window()}"
            )
    return enqueued


async def schedule_due_runs(database: Database) -> int:
    """A pending sync run for every destination whose interval has passed since its last run; the bell for it is
    rung with the other due runs."""
    scheduled = 0
    for tenant_id, connection_ids in (await _discover(database, _DUE_SCHEDULES, SCHEDULE_BATCH)).items():
        async with database.tenant_session(tenant_id) as session:
            for connection_id in connection_ids:
                connection = await session.get(Connection, connection_id)
                if connection is None:
                    continue
                with suppress(RunRefusedError):  # changed since discovery: the next pass decides again
                    _, created = await request_run(
                        session,
                        connection=connection,
                        kind=RunKind.SYNC,
                        trigger=RunTrigger.SCHEDULE,
                        requested_by=SCHEDULER_ACTOR,
                    )
                    scheduled += created
    return scheduled


async def reconcile(database: Database, queue: Queue) -> ReconcileReport:
    expired = await return_expired_leases(database)
    runs_expired = await return_expired_runs(database)
    webhooks_expired = await return_expired_webhook_leases(database)
    scheduled = await schedule_due_runs(database)
    return ReconcileReport(
        expired=expired,
        enqueued=await enqueue_due_exports(database, queue),
        runs_expired=runs_expired,
        runs_enqueued=await enqueue_due_runs(database, queue),
        scheduled=scheduled,
        webhooks_expired=webhooks_expired,
        webhooks_enqueued=await enqueue_due_webhook_events(database, queue),
    )
