"""The only door to arq. Redis rings the bell; PostgreSQL keeps the ledger of work (DESIGN.md).

Job ids are deterministic where a unit of work has one (`export:{item_id}:{attempt}`), so duplicate enqueues
collapse: `enqueue` then answers False and nothing is queued twice. Every job and cron job runs `observed`: its
log lines carry the job's name, id, try and worker, and its outcome is counted in `ledgerline_jobs_total`.
"""

import asyncio
import functools
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any, cast

from arq import create_pool
from arq.connections import ArqRedis, RedisSettings
from arq.constants import job_key_prefix
from arq.cron import CronJob, cron
from arq.jobs import serialize_job
from arq.typing import StartupShutdown, WorkerCoroutine
from arq.utils import timestamp_ms
from arq.worker import Worker

from core.log import bind_context
from core.metrics import JOBS
from sync.constants import JOB_TIMEOUT_SECONDS, MAX_CONCURRENT_JOBS, QUEUE_POLL_SECONDS

JobFunction = Callable[..., Awaitable[Any]]
"""Our jobs take arq's context first; arq's own protocol types are narrower than plain async functions."""
Hook = Callable[[dict[str, Any]], Awaitable[None]]

__all__ = [
    "CronJob",
    "Queue",
    "QueueNotConfiguredError",
    "Worker",
    "build_worker",
    "every_seconds",
    "observed",
    "redis_settings",
]


class QueueNotConfiguredError(RuntimeError):
    """No Redis URL is set and nothing embedded was started."""


def redis_settings(url: str | None) -> RedisSettings:
    if not url:
        raise QueueNotConfiguredError(
            "LEDGERLINE_REDIS_URL is not set. Set it, or run `ledgerline demo` for embedded services."
        )
    settings: RedisSettings = RedisSettings.from_dsn(url)
    return settings


class Queue:
    def __init__(self, redis: ArqRedis, queue_name: str) -> None:
        self.redis = redis
        self.queue_name = queue_name

    @classmethod
    async def connect(cls, url: str | None, queue_name: str) -> "Queue":
        pool = await create_pool(redis_settings(url), default_queue_name=queue_name)
        return cls(pool, queue_name)

    async def enqueue_new(self, function: str, jobs: Sequence[tuple[str, tuple[Any, ...]]]) -> None:
        """Queue jobs whose ids nothing can have used yet (each names a row just inserted), in one round trip.

        `enqueue` costs three to four round trips a job, the price of collapsing duplicate ids; a fresh id has no
        duplicate to collapse, so this writes just what arq's `enqueue_job` writes — the serialized job under its key
        with arq's expiry, and the id in the queue's sorted set, due now — for every job at once."""
        redis = self.redis
        now_ms = timestamp_ms()
        async with redis.pipeline(transaction=False) as pipe:
            for job_id, args in jobs:
                job = serialize_job(function, args, {}, None, now_ms, serializer=redis.job_serializer)
                pipe.psetex(job_key_prefix + job_id, redis.expires_extra_ms, job)
                pipe.zadd(self.queue_name, {job_id: now_ms})
            await pipe.execute()

    async def enqueue(
        self, function: str, *args: Any, job_id: str | None = None, defer_until: datetime | None = None, **kwargs: Any
    ) -> bool:
        """Queue a job; False when a job with the same id is already queued or kept as a result."""
        job = await self.redis.enqueue_job(
            function, *args, _job_id=job_id, _queue_name=self.queue_name, _defer_until=defer_until, **kwargs
        )
        return job is not None

    async def ping(self) -> bool:
        return bool(await self.redis.ping())

    async def close(self) -> None:
        await self.redis.aclose()


def observed(function: JobFunction) -> JobFunction:
    """`function` as a job that binds its arq ids into the log context and counts how it ended.

    arq runs each job in its own task, so what a job binds stays with that job.
    """
    name = function.__name__

    @functools.wraps(function)
    async def run(ctx: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        bind_context(job=name, job_id=ctx.get("job_id"), job_try=ctx.get("job_try"), worker_id=ctx.get("worker_id"))
        try:
            result = await function(ctx, *args, **kwargs)
        except asyncio.CancelledError:  # a job timeout or a worker shutting down; the reconciler resumes the work
            JOBS.labels(name, "cancelled").inc()
            raise
        except Exception:
            JOBS.labels(name, "failed").inc()
            raise
        JOBS.labels(name, "succeeded").inc()
        return result

    return run


def every_seconds(function: JobFunction, seconds: int, *, name: str) -> CronJob:
    """A job run every `seconds` (a divisor of 60), at most once at a time, also right after start-up."""
    return cron(
        cast(WorkerCoroutine, observed(function)),
        name=name,
        second=set(range(0, 60, seconds)),
        run_at_startup=True,
        unique=True,
    )


def every_minutes(function: JobFunction, minutes: int, *, name: str) -> CronJob:
    """A job run every `minutes` (a divisor of 60), on the minute, at most once at a time."""
    return cron(
        cast(WorkerCoroutine, observed(function)),
        name=name,
        minute=set(range(0, 60, minutes)),
        second=0,
        unique=True,
    )


def build_worker(
    *,
    url: str | None,
    queue_name: str,
    functions: Sequence[JobFunction],
    cron_jobs: Sequence[CronJob],
    on_startup: Hook,
    on_shutdown: Hook,
    handle_signals: bool = True,
) -> Worker:
    return Worker(
        functions=[cast(WorkerCoroutine, observed(function)) for function in functions],
        cron_jobs=list(cron_jobs),
        queue_name=queue_name,
        redis_settings=redis_settings(url),
        on_startup=cast(StartupShutdown, on_startup),
        on_shutdown=cast(StartupShutdown, on_shutdown),
        handle_signals=handle_signals,
        job_timeout=JOB_TIMEOUT_SECONDS,
        max_jobs=MAX_CONCURRENT_JOBS,
        poll_delay=QUEUE_POLL_SECONDS,
        keep_result=0,  # a finished job leaves no result behind, so its id can be enqueued again at once
    )
