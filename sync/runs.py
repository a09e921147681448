"""Sync runs: one row per requested run of a destination connection, worked in steps and resumable.

A run is a unit of work like an export item: a worker claims it with a lease, works its phases for a while, and
either finishes it or hands it back (`pending`, due again later) so that long runs take turns with everyone else's
work and survive a killed worker or a flushed Redis — the reconciler finds every pending or expired run again.
A run remembers its phase, so a resumed run carries on where it stopped. Phases are idempotent, so repeating the
one a dead worker was in is harmless.
"""

import uuid
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.audit import append_event
from core.models import Connection, ConnectionRole, RunState, SyncRun
from sync.constants import RUN_JOB, RUN_LOG_LINES
from sync.queue import Queue


class RunKind(StrEnum):
    SYNC = "sync"
    IMPORT = "import"
    PULL = "pull"
    EXPORT = "export"
    PAYMENTS = "payments"
    REALTIME = "realtime"
    """Pull, group, export and write back at once: what a webhook starts when the tenant chose real-time export."""


class RunPhase(StrEnum):
    IMPORT = "import"
    PULL = "pull"
    GROUP = "group"
    EXPORT = "export"
    WRITE_BACK = "write_back"
    PAYMENTS = "payments"


class RunTrigger(StrEnum):
    MANUAL = "manual"
    SCHEDULE = "schedule"
    WEBHOOK = "webhook"


PHASES: dict[RunKind, tuple[RunPhase, ...]] = {
    RunKind.SYNC: (
        RunPhase.IMPORT,
        RunPhase.PULL,
        RunPhase.GROUP,
        RunPhase.EXPORT,
        RunPhase.WRITE_BACK,
        RunPhase.PAYMENTS,
    ),
    RunKind.IMPORT: (RunPhase.IMPORT,),
    RunKind.PULL: (RunPhase.PULL, RunPhase.GROUP),
    RunKind.EXPORT: (RunPhase.GROUP, RunPhase.EXPORT, RunPhase.WRITE_BACK),
    RunKind.PAYMENTS: (RunPhase.PAYMENTS,),
    RunKind.REALTIME: (RunPhase.PULL, RunPhase.GROUP, RunPhase.EXPORT, RunPhase.WRITE_BACK),
}

OPEN_STATES = (RunState.PENDING.value, RunState.RUNNING.value)


class RunRefusedError(ValueError):
    """A run cannot be requested for this connection (not a destination, paused, needs re-authorization)."""


def next_phase(kind: RunKind, phase: RunPhase | None) -> RunPhase | None:
    """The phase after `phase` (the first when None); None when the run has no more."""
    phases = PHASES[kind]
    if phase is None:
        return phases[0]
    index = phases.index(phase) + 1
    return phases[index] if index < len(phases) else None


async def request_run(
    session: AsyncSession,
    *,
    connection: Connection,
    kind: RunKind,
    trigger: RunTrigger,
    requested_by: str,
    join_started: bool = True,
) -> tuple[SyncRun, bool]:
    """The open run of this kind for the connection, or a new pending one; True when it is new.

    Requests coalesce: a webhook storm or an impatient click while a run is waiting or running joins that run
    instead of queueing another. Serialised per connection by locking its row. With `join_started=False` only a
    run not yet started is joined: a webhook says the source changed just now, and a run already past its pull
    would not see that change, so one more run waits behind it (and every later event joins that one)."""
    if connection.role != ConnectionRole.DESTINATION.value:
        raise RunRefusedError("sync runs belong to destination connections; this one is a source")
    if connection.status != "active":
        raise RunRefusedError(f"the connection is {connection.status}: {connection.status_reason or 're-authorize it'}")
    await session.execute(select(Connection.id).where(Connection.id == connection.id).with_for_update())
    existing = await session.scalar(
        select(SyncRun)
        .where(
            SyncRun.tenant_id == connection.tenant_id,
            SyncRun.connection_id == connection.id,
            SyncRun.kind == kind.value,
            SyncRun.state.in_(OPEN_STATES),
            true() if join_started else SyncRun.started_at.is_(None),
        )
        .order_by(SyncRun.created_at)
        .limit(1)
    )
    if existing is not None:
        return existing, False
    run = SyncRun(
        id=uuid.uuid4(),
        tenant_id=connection.tenant_id,
        connection_id=connection.id,
        kind=kind.value,
        trigger=trigger.value,
        requested_by=requested_by,
        counts={},
        log=[],
    )
    session.add(run)
    await session.flush()
    await append_event(
        session,
        tenant_id=connection.tenant_id,
        actor=requested_by,
        action="sync_run.requested",
        entity_type="sync_runs",
        entity_id=str(run.id),
        data={"connection_id": str(connection.id), "kind": kind.value, "trigger": trigger.value},
    )
    return run, True


async def claim_run(session: AsyncSession, *, run_id: uuid.UUID, owner: str, lease_seconds: int) -> SyncRun | None:
    """Take a due pending run for one step; None if it is not due, taken, finished, or its connection is paused."""
    claimable = (
        select(SyncRun.id)
        .join(Connection, (Connection.tenant_id == SyncRun.tenant_id) & (Connection.id == SyncRun.connection_id))
        .where(
            SyncRun.id == run_id,
            SyncRun.state == RunState.PENDING.value,
            SyncRun.next_attempt_at <= func.now(),
            Connection.paused.is_(False),
        )
        .with_for_update(of=SyncRun, skip_locked=True)
    )
    return await session.scalar(
        update(SyncRun)
        .where(SyncRun.id.in_(claimable))
        .values(
            state=RunState.RUNNING.value,
            lease_owner=owner,
            lease_expires_at=func.now() + timedelta(seconds=lease_seconds),
            started_at=func.coalesce(SyncRun.started_at, func.now()),
        )
        .returning(SyncRun)
        .execution_options(synchronize_session=False)
    )


async def save_step(
    session: AsyncSession,
    *,
    run: SyncRun,
    owner: str,
    state: RunState,
    phase: RunPhase | None,
    counts: dict[str, Any],
    log_lines: list[dict[str, Any]],
    next_attempt_at: datetime | None = None,
    failures: int | None = None,
    error_message: str | None = None,
) -> bool:
    """End a step of a run we hold: back to pending (due at `next_attempt_at`) or finished. Fenced on the lease:
    False (nothing written) when the lease was lost to the reconciler and someone else carries the run on."""
    finished = state in (RunState.SUCCEEDED, RunState.FAILED, RunState.CANCELLED)
    values: dict[str, Any] = {
        "state": state.value,
        "phase": phase.value if phase else None,
        "counts": counts,
        "log": [*run.log, *log_lines][-RUN_LOG_LINES:],
        "lease_owner": None,
        "lease_expires_at": None,
        "error_message": error_message,
    }
    if failures is not None:
        values["attempt_count"] = failures
    if next_attempt_at is not None:
        values["next_attempt_at"] = next_attempt_at
    if finished:
        values["finished_at"] = func.now()
    saved = await session.scalar(
        update(SyncRun)
        .where(
            SyncRun.tenant_id == run.tenant_id,
            SyncRun.id == run.id,
            SyncRun.state == RunState.RUNNING.value,
            SyncRun.lease_owner == owner,
        )
        .values(**values)
        .returning(SyncRun.id)
        .execution_options(synchronize_session=False)
    )
    if saved is not None and finished:
        await append_event(
            session,
            tenant_id=run.tenant_id,
            actor=f"worker:{owner}",
            action=f"sync_run.{state.value}",
            entity_type="sync_runs",
            entity_id=str(run.id),
            data={"counts": counts, "error": error_message},
        )
    return saved is not None


def log_line(phase: RunPhase | None, message: str, **data: Any) -> dict[str, Any]:
    return {"at": datetime.now(UTC).isoformat(), "phase": phase.value if phase else None, "message": message, **data}


def continuation_job_id(run_id: uuid.UUID) -> str:
    """A fresh id: a killed earlier step may still hold any id we could derive."""
    return f"run:{run_id}:next:{uuid.uuid4()}"


async def enqueue_run(queue: Queue, run: SyncRun, *, at: datetime | None = None, job_id: str | None = None) -> bool:
    return await queue.enqueue(
        RUN_JOB, str(run.tenant_id), str(run.id), job_id=job_id or continuation_job_id(run.id), defer_until=at
    )


async def set_paused(session: AsyncSession, *, connection: Connection, paused: bool, actor: str) -> bool:
    """Pause or resume a connection, audited; False when it already was. While paused nothing of it is claimed:
    its export items and runs wait, keeping their attempts."""
    if connection.paused == paused:
        return False
    connection.paused = paused
    await append_event(
        session,
        tenant_id=connection.tenant_id,
        actor=actor,
        action="connection.paused" if paused else "connection.resumed",
        entity_type="connections",
        entity_id=str(connection.id),
    )
    await session.flush()
    return True
