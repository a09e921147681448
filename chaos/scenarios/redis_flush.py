"""Redis flush: mid-export, Redis forgets every queued job, arq's bookkeeping, the workers' heartbeats, rate budgets
and circuit state (tests/sync/test_worker_export.py at run size, twice). PostgreSQL holds the ledger of work, so the
reconciler re-enqueues what is due and nothing is lost or sent twice."""

import asyncio
import time

from redis.asyncio import Redis

from chaos.constants import EXPENSES, PACE_POLL_SECONDS, RECOVERY_DEADLINE_SECONDS, WORKERS
from chaos.scenario import Injected, Options, Scenario
from chaos.world import World

FLUSH_AT = (0.0, 0.5)
"""Flush once the first bill is exported, and again when half of them are, each while items are unfinished (a flush
after the last item has nothing left to lose)."""


async def act(world: World, options: Options) -> Injected:
    redis = Redis.from_url(world.settings.redis_url or "")
    flushed_at: list[int] = []
    try:
        await world.start_workers(WORKERS)
        await world.start_run()
        deadline = time.monotonic() + RECOVERY_DEADLINE_SECONDS
        while len(flushed_at) < len(FLUSH_AT) and time.monotonic() < deadline:
            progress = await world.progress()
            if progress.unfinished and progress.succeeded > FLUSH_AT[len(flushed_at)] * progress.total:
                await (redis.flushall() if options.redis_flush == "all" else redis.flushdb())
                flushed_at.append(progress.succeeded)
            await asyncio.sleep(PACE_POLL_SECONDS)
    finally:
        await redis.aclose()
    fault_end = time.monotonic()
    recovery = await world.recover(fault_end)
    problems = [] if len(flushed_at) == len(FLUSH_AT) else [f"flushed {len(flushed_at)} times only"]
    return Injected(recovery, {"flush": options.redis_flush, "succeeded_at_flushes": flushed_at}, problems=problems)


SCENARIO = Scenario(
    name="Redis flush",
    fault=f"FLUSHALL (or FLUSHDB) at the first bill and at half, {WORKERS} workers",
    act=act,
    expenses=EXPENSES,
)
