"""The `run_sync` job: work one step of a sync run, then finish it or hand it back to the queue.

What a failure does to a run is decided once, from the error class, like for export items: a rate limit waits
without counting against the run, a transient failure is retried with backoff a few times, anything else fails the
run with the error's message and hint for a person to read.
"""

import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from core.errors import LedgerlineError, OutcomeUnknown, RateLimited, Transient
from core.log import bind_context, get_logger
from core.models import RunState
from sync.backoff import BackoffSchedule
from sync.constants import CONNECTOR_STATE, RUN_LEASE_SECONDS, RUN_MAX_FAILURES, RUN_STEP_SECONDS
from sync.run_phases import PHASE_WORK, RunContext
from sync.runs import RunKind, RunPhase, claim_run, enqueue_run, log_line, next_phase, save_step

log = get_logger(__name__)


async def run_sync(ctx: dict[str, Any], tenant_id: str, run_id: str) -> str:
    database, owner = ctx["database"], ctx["worker_id"]
    bind_context(tenant_id=tenant_id, run_id=run_id)
    async with database.tenant_session(uuid.UUID(tenant_id)) as session:
        run = await claim_run(session, run_id=uuid.UUID(run_id), owner=owner, lease_seconds=RUN_LEASE_SECONDS)
    if run is None:
        return "not claimed"
    context = RunContext(
        database=database,
        queue=ctx["queue"],
        settings=ctx["settings"],
        vault=ctx["vault"],
        run=run,
        actor=f"worker:{owner}",
        counts=dict(run.counts),
        shared=ctx.get(CONNECTOR_STATE),
    )
    try:
        state, phase, at, failures, error = await _work(context)
    finally:
        await context.aclose()
    async with database.tenant_session(run.tenant_id) as session:
        saved = await save_step(
            session,
            run=run,
            owner=owner,
            state=state,
            phase=phase,
            counts=context.counts,
            log_lines=context.log,
            next_attempt_at=at,
            failures=failures,
            error_message=error,
        )
    if saved and state is RunState.PENDING:
        await enqueue_run(ctx["queue"], run, at=at)
    return state.value if saved else "lease lost"


async def _work(context: RunContext) -> tuple[RunState, RunPhase | None, datetime | None, int | None, str | None]:
    """Work phases until the run is done, waits, fails, or has had its share of time for this step."""
    run, kind = context.run, RunKind(context.run.kind)
    phase = RunPhase(run.phase) if run.phase else next_phase(kind, None)
    deadline = time.monotonic() + RUN_STEP_SECONDS
    try:
        while phase is not None:
            wait = await PHASE_WORK[phase](context)
            now = datetime.now(UTC)
            if wait is not None:
                return RunState.PENDING, phase, now + timedelta(seconds=wait), None, None
            phase = next_phase(kind, phase)
            if phase is not None and time.monotonic() > deadline:
                return RunState.PENDING, phase, now, None, None
        context.log.append(log_line(None, "run finished"))
        return RunState.SUCCEEDED, None, None, None, None
    except LedgerlineError as exc:
        return _after_failure(context, phase, exc)
    except Exception as exc:  # a bug: fail the run visibly instead of retrying it forever
        log.exception("sync_run_crashed", phase=phase.value if phase else None)
        message = f"internal error ({type(exc).__name__}); the worker log has the details"
        context.log.append(log_line(phase, message))
        return RunState.FAILED, phase, None, context.run.attempt_count + 1, message


def _after_failure(
    context: RunContext, phase: RunPhase | None, error: LedgerlineError
) -> tuple[RunState, RunPhase | None, datetime | None, int | None, str | None]:
    run, now = context.run, datetime.now(UTC)
    message = error.message if not error.hint else f"{error.message} — {error.hint}"
    context.log.append(log_line(phase, f"{error.error_class}: {message}"))
    log.warning("sync_run_failed", phase=phase.value if phase else None, error_class=error.error_class)
    if isinstance(error, RateLimited):
        return RunState.PENDING, phase, error.retry_at or now + timedelta(seconds=30), None, message
    if isinstance(error, Transient | OutcomeUnknown) and run.attempt_count + 1 < RUN_MAX_FAILURES:
        backoff = BackoffSchedule(base_seconds=context.settings.export_retry_base_seconds)
        at = backoff.next_attempt(attempt=run.attempt_count + 1, first_attempt_at=run.created_at, now=now)
        if at is not None:
            return RunState.PENDING, phase, at, run.attempt_count + 1, message
    return RunState.FAILED, phase, None, run.attempt_count + 1, message
