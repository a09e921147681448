"""Queue jobs. Each takes arq's context dict first: the process's `Database`, `Queue`, settings, vault, worker id.

Jobs only ring the bell; correctness never depends on a job running once. Two export jobs of one connection at
the same time simply claim different items (SKIP LOCKED); a lost job is re-enqueued by the reconciler.
"""

import json
import uuid
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.exc import DBAPIError

from connectors.base import DestinationConnector
from connectors.factory import open_connector
from core.audit_anchors import anchor_chain_heads
from core.connection_status import mark_needs_reauth
from core.errors import AuthError
from core.log import bind_context, get_logger
from sync.backoff import BackoffSchedule
from sync.circuit import CircuitBreaker
from sync.constants import (
    AUDIT_ANCHOR_ACTOR,
    BATCHES_PER_EXPORT_JOB,
    CLAIM_BATCH,
    CONNECTOR_STATE,
    DEFAULT_EXPORT_CHAINS,
    EXPORT_CONTINUE_AFTER_FAILURE_SECONDS,
    EXPORT_DAY_RESERVE_SHARE,
    WORKER_HEARTBEAT_KEY,
    WORKER_HEARTBEAT_TTL_SECONDS,
)
from sync.export_chains import ExportChains
from sync.export_engine import ConnectionGuards, ExportEngine
from sync.queue import Queue
from sync.rate_budget import RateBudget
from sync.receipts import ReceiptFetcher
from sync.reconciler import EXPORT_JOB, reconcile
from sync.replay import enqueue_due_replays, return_expired_replays

log = get_logger(__name__)


async def record_heartbeat(ctx: dict[str, Any]) -> None:
    """Say this worker is alive, so `/readyz` and operators can count live workers."""
    beat = {"worker_id": ctx["worker_id"], "started_at": ctx["started_at"], "seen_at": datetime.now(UTC).isoformat()}
    await ctx["redis"].set(
        WORKER_HEARTBEAT_KEY.format(queue_name=ctx["queue_name"], worker_id=ctx["worker_id"]),
        json.dumps(beat),
        ex=WORKER_HEARTBEAT_TTL_SECONDS,
    )


async def anchor_audit_chains(ctx: dict[str, Any]) -> int:
    """Record each audit chain's head that moved since it was last anchored (`core.audit_anchors`)."""
    database = ctx["database"]
    async with database.cross_tenant_session(actor=AUDIT_ANCHOR_ACTOR, reason="anchor audit chain heads") as session:
        moved = await anchor_chain_heads(session, actor=AUDIT_ANCHOR_ACTOR)
    return len(moved)


async def live_workers(queue: Queue) -> list[dict[str, Any]]:
    beats = []
    async for key in queue.redis.scan_iter(
        match=WORKER_HEARTBEAT_KEY.format(queue_name=queue.queue_name, worker_id="*"), count=100
    ):
        raw = await queue.redis.get(key)
        if raw is not None:
            beats.append(json.loads(raw))
    return beats


async def reconcile_work(ctx: dict[str, Any]) -> dict[str, int]:
    database, queue = ctx["database"], ctx["queue"]
    report = await reconcile(database, queue)
    if report.expired:
        log.warning("leases_expired", returned_to_pending=report.expired)
    # Replays sit above the reconciler (they ring its export bell), so they are reconciled here.
    replays_expired = await return_expired_replays(database)
    replays_enqueued = await enqueue_due_replays(database, queue)
    return asdict(report) | {"replays_expired": replays_expired, "replays_enqueued": replays_enqueued}


async def export_connection(
    ctx: dict[str, Any], tenant_id: str, connection_id: str, generation: int = 0, chain: str | None = None
) -> dict[str, int]:
    """Export a few batches of one destination connection, then hand over: a continuation job goes to the back of
    the queue, so one tenant's backlog takes turns with everyone else's work. A job is one link of a chain holding
    one of the connection's few chain slots (`sync.export_chains`); a new job finding them all taken ends at once."""
    tenant, connection = uuid.UUID(tenant_id), uuid.UUID(connection_id)
    bind_context(tenant_id=tenant_id, connection_id=connection_id)
    try:
        connector = await open_connector(
            database=ctx["database"],
            vault=ctx["vault"],
            settings=ctx["settings"],
            tenant_id=tenant,
            connection_id=connection,
            shared=ctx.get(CONNECTOR_STATE),
        )
    except AuthError as exc:  # e.g. credentials no vault key opens: wait for a person, do not fail every period
        async with ctx["database"].tenant_session(tenant) as session:
            await mark_needs_reauth(
                session,
                tenant_id=tenant,
                connection_id=connection,
                reason=exc.message,
                actor=f"worker:{ctx['worker_id']}",
                data={"error_code": exc.code},
            )
        return {"needs_reauth": 1}
    if not isinstance(connector, DestinationConnector):
        await connector.aclose()
        raise TypeError(f"connection {connection_id} is not a destination")
    settings, redis = ctx["settings"], ctx["queue"].redis
    chains = ExportChains(
        redis,
        connection,
        slots=connector.spec.rate_limit.concurrency or DEFAULT_EXPORT_CHAINS,
        ttl_seconds=settings.export_lease_seconds,
    )
    chain = chain if chain is not None and await chains.keep(chain) else await chains.take()
    if chain is None:
        await connector.aclose()
        return {"busy": 1}
    engine = ExportEngine(
        ctx["database"],
        owner=ctx["worker_id"],
        lease_seconds=settings.export_lease_seconds,
        backoff=BackoffSchedule(base_seconds=settings.export_retry_base_seconds),
    )
    guards = ConnectionGuards(
        budget=RateBudget.of_connection(redis, connection, connector, day_reserve_share=EXPORT_DAY_RESERVE_SHARE),
        breaker=CircuitBreaker(redis, connection),
    )
    receipts = ReceiptFetcher(
        ctx["database"], vault=ctx["vault"], settings=settings, tenant_id=tenant, actor=f"worker:{ctx['worker_id']}"
    )
    totals = {"claimed": 0, "succeeded": 0, "retrying": 0, "needs_action": 0}
    more = False

    async def hand_over(delay: float | None = None) -> None:
        # A fresh id: a killed earlier continuation may still hold any id we could derive.
        await ctx["queue"].enqueue(
            EXPORT_JOB,
            tenant_id,
            connection_id,
            generation + 1,
            chain,
            job_id=f"export:{connection_id}:next:{uuid.uuid4()}",
            defer_until=None if delay is None else datetime.now(UTC) + timedelta(seconds=delay),
        )

    try:
        async with connector, receipts:
            for batch in range(BATCHES_PER_EXPORT_JOB):
                report = await engine.run_batch(
                    connector, tenant_id=tenant, connection_id=connection, guards=guards, receipts=receipts
                )
                if batch == 0 and report.claimed >= CLAIM_BATCH and chains.slots > 1:
                    # A full batch: more is due. A sibling job starts another chain if a slot is free (else it
                    # ends at once), so the system works one batch while this process builds or finishes another.
                    await ctx["queue"].enqueue(
                        EXPORT_JOB, tenant_id, connection_id, job_id=f"export:{connection_id}:more:{uuid.uuid4()}"
                    )
                for key in totals:
                    totals[key] += getattr(report, key)
                if report.held is not None:
                    # Nothing more now. The reconciler re-enqueues the items once the connection may be called
                    # again (deferred, circuit) or once it is active and unpaused again (re-authorized).
                    log.info("export_held", reason=report.held.value, until=report.held_until)
                    break
                if report.claimed == 0 or report.connection_error is not None or not await chains.keep(chain):
                    break
            else:
                more = True
    except DBAPIError as exc:
        if exc.connection_invalidated:  # the database dropped us: carry on in a moment, not a reconcile period
            await hand_over(EXPORT_CONTINUE_AFTER_FAILURE_SECONDS)
        raise
    if more:
        await hand_over()
    else:
        await chains.release(chain)
    return totals
