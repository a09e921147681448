"""The `process_webhook_event` job: handle one stored event, once in effect, and record what became of it.

An event is a unit of work like an export item (DESIGN.md): the ingress stores it as `received` before answering
the sender and rings the bell; a worker claims it with a lease, handles it (`sync.webhook_handling`), and finishes it
fenced on that lease — `processed` with its outcome, or back to `received` with backoff after a failure, and
`failed` with the message after a few attempts. Handling and finishing share one transaction, so the runs an event
requests exist exactly when the event says `processed`. The reconciler frees the leases of dead workers and rings
again for due events, so a flushed Redis or a killed worker loses no event; support replays failed ones.
"""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.audit import append_event
from core.log import bind_context, get_logger
from core.models import WebhookEvent, WebhookState
from core.repository import TenantRepository
from sync.backoff import BackoffSchedule
from sync.queue import Queue
from sync.reconciler import WEBHOOK_JOB
from sync.runs import enqueue_run
from sync.webhook_handling import WebhookActionError, handle

log = get_logger(__name__)

WEBHOOK_LEASE_SECONDS: Final = 60
"""Handling an event only requests runs, so a worker holding one longer than this is dead or stuck."""
WEBHOOK_MAX_ATTEMPTS: Final = 5
"""Attempts (with backoff between them) before an event is marked failed for a person to look at and replay."""
AUDIT_PROCESSED: Final = "webhook_event.processed"
AUDIT_RETRYING: Final = "webhook_event.retrying"
AUDIT_FAILED: Final = "webhook_event.failed"
AUDIT_REPLAYED: Final = "webhook_event.replayed"
REPLAYABLE_STATES: Final = (WebhookState.PROCESSED.value, WebhookState.FAILED.value)


class _LeaseLostError(Exception):
    """Our lease went to the reconciler while we worked: roll back, the new holder handles the event."""


async def claim_event(
    session: AsyncSession, *, event_id: uuid.UUID, owner: str, lease_seconds: int
) -> WebhookEvent | None:
    """Take a due `received` event nobody holds (or whose holder's lease ran out) and count the attempt; None if it
    is not due, held, or finished. A dead holder's late finish is then refused by the fence."""
    claimable = (
        select(WebhookEvent.id)
        .where(
            WebhookEvent.id == event_id,
            WebhookEvent.state == WebhookState.RECEIVED.value,
            WebhookEvent.next_attempt_at <= func.now(),
            WebhookEvent.lease_owner.is_(None) | (WebhookEvent.lease_expires_at < func.now()),
        )
        .with_for_update(skip_locked=True)
    )
    return await session.scalar(
        update(WebhookEvent)
        .where(WebhookEvent.id.in_(claimable))
        .values(
            lease_owner=owner,
            lease_expires_at=func.now() + timedelta(seconds=lease_seconds),
            attempt_count=WebhookEvent.attempt_count + 1,
        )
        .returning(WebhookEvent)
        .execution_options(synchronize_session=False)
    )


async def finish_event(
    session: AsyncSession,
    *,
    event: WebhookEvent,
    owner: str,
    state: WebhookState,
    data: dict[str, Any],
    error_message: str | None = None,
    next_attempt_at: datetime | None = None,
) -> bool:
    """End an attempt on an event we hold, audited; False (nothing written) when the lease was lost."""
    values: dict[str, Any] = {
        "state": state.value,
        "lease_owner": None,
        "lease_expires_at": None,
        "error_message": error_message,
    }
    if next_attempt_at is not None:
        values["next_attempt_at"] = next_attempt_at
    if state is not WebhookState.RECEIVED:
        values["processed_at"] = func.now()
    saved = await session.scalar(
        update(WebhookEvent)
        .where(
            WebhookEvent.tenant_id == event.tenant_id,
            WebhookEvent.id == event.id,
            WebhookEvent.state == WebhookState.RECEIVED.value,
            WebhookEvent.lease_owner == owner,
        )
        .values(**values)
        .returning(WebhookEvent.id)
        .execution_options(synchronize_session=False)
    )
    if saved is None:
        return False
    action = {
        WebhookState.PROCESSED: AUDIT_PROCESSED,
        WebhookState.RECEIVED: AUDIT_RETRYING,
        WebhookState.FAILED: AUDIT_FAILED,
    }[state]
    await append_event(
        session,
        tenant_id=event.tenant_id,
        actor=f"worker:{owner}",
        action=action,
        entity_type=WebhookEvent.__tablename__,
        entity_id=str(event.id),
        data={"attempt": event.attempt_count, **data},
    )
    return True


async def process_webhook_event(ctx: dict[str, Any], tenant_id: str, event_id: str) -> str:
    database, owner = ctx["database"], ctx["worker_id"]
    bind_context(tenant_id=tenant_id, webhook_event_id=event_id)
    tenant = uuid.UUID(tenant_id)
    async with database.tenant_session(tenant) as session:
        event = await claim_event(
            session, event_id=uuid.UUID(event_id), owner=owner, lease_seconds=WEBHOOK_LEASE_SECONDS
        )
    if event is None:
        return "not claimed"
    try:
        async with database.tenant_session(tenant) as session:
            outcome = await handle(session, event, f"webhook:{event.id}")
            if not await finish_event(
                session, event=event, owner=owner, state=WebhookState.PROCESSED, data=outcome.as_data()
            ):
                raise _LeaseLostError
    except _LeaseLostError:
        return "lease lost"
    except WebhookActionError as exc:
        message = exc.message
    except Exception as exc:  # a bug or a lost database: retried like any failure, the details stay in the log
        log.exception("webhook_event_crashed", provider=event.provider)
        message = f"internal error ({type(exc).__name__}); the worker log has the details"
    else:
        log.info("webhook_event_processed", outcome=outcome.message)
        for run, created in outcome.runs:
            if created:  # a joined run is already waiting with its own bell
                await enqueue_run(ctx["queue"], run, job_id=f"run:{run.id}:requested")
        return WebhookState.PROCESSED.value
    return await _after_failure(ctx, event, message)


async def _after_failure(ctx: dict[str, Any], event: WebhookEvent, message: str) -> str:
    """Back to `received` with backoff, or `failed` once the attempts are spent."""
    now, at = datetime.now(UTC), None
    if event.attempt_count < WEBHOOK_MAX_ATTEMPTS:
        backoff = BackoffSchedule(base_seconds=ctx["settings"].export_retry_base_seconds)
        # The attempt cap bounds retries; measuring the window from now keeps a replayed old event retrying too.
        at = backoff.next_attempt(attempt=event.attempt_count, first_attempt_at=now, now=now)
    state = WebhookState.RECEIVED if at is not None else WebhookState.FAILED
    log.warning("webhook_event_failed", attempt=event.attempt_count, retry_at=at, error=message)
    data = {"error": message, "next_attempt_at": at.isoformat() if at else None}
    async with ctx["database"].tenant_session(event.tenant_id) as session:
        saved = await finish_event(
            session,
            event=event,
            owner=ctx["worker_id"],
            state=state,
            data=data,
            error_message=message,
            next_attempt_at=at,
        )
    if not saved:
        return "lease lost"
    if at is not None:
        await enqueue_event(ctx["queue"], event, job_id=f"webhook:{event.id}:attempt:{event.attempt_count + 1}", at=at)
    return state.value


async def enqueue_event(queue: Queue, event: WebhookEvent, *, job_id: str, at: datetime | None = None) -> bool:
    return await queue.enqueue(WEBHOOK_JOB, str(event.tenant_id), str(event.id), job_id=job_id, defer_until=at)


class NotReplayableError(ValueError):
    """Only a finished event (processed or failed) can be replayed; a received one is still on its way."""


async def replay_event(repository: TenantRepository, *, event: WebhookEvent) -> WebhookEvent:
    """A finished event back to `received` with fresh attempts, audited; the caller rings the bell after commit."""
    previous = event.state
    replayed = await repository.session.scalar(
        update(WebhookEvent)
        .where(
            WebhookEvent.tenant_id == repository.tenant_id,
            WebhookEvent.id == event.id,
            WebhookEvent.state.in_(REPLAYABLE_STATES),
        )
        .values(
            state=WebhookState.RECEIVED.value,
            attempt_count=0,
            next_attempt_at=func.now(),
            error_message=None,
            processed_at=None,
            lease_owner=None,
            lease_expires_at=None,
        )
        .returning(WebhookEvent)
        .execution_options(synchronize_session=False, populate_existing=True)
    )
    if replayed is None:
        raise NotReplayableError(f"the event is {event.state}; only processed or failed events can be replayed")
    await repository.audit(AUDIT_REPLAYED, entity=replayed, data={"previous_state": previous})
    return replayed


def replay_job_id(event_id: uuid.UUID) -> str:
    """A fresh id: the event's earlier jobs may still hold any id we could derive."""
    return f"webhook:{event_id}:replay:{uuid.uuid4()}"
