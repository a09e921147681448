"""Queue jobs. Each takes arq's context dict (holding the process's `Database` and worker id) first."""

import json
from datetime import UTC, datetime
from typing import Any

from sync.constants import WORKER_HEARTBEAT_KEY, WORKER_HEARTBEAT_TTL_SECONDS
from sync.queue import Queue


async def record_heartbeat(ctx: dict[str, Any]) -> None:
    """Say this worker is alive, so `/readyz` and operators can count live workers."""
    beat = {"worker_id": ctx["worker_id"], "started_at": ctx["started_at"], "seen_at": datetime.now(UTC).isoformat()}
    await ctx["redis"].set(
        WORKER_HEARTBEAT_KEY.format(queue_name=ctx["queue_name"], worker_id=ctx["worker_id"]),
        json.dumps(beat),
        ex=WORKER_HEARTBEAT_TTL_SECONDS,
    )


async def live_workers(queue: Queue) -> list[dict[str, Any]]:
    beats = []
    async for key in queue.redis.scan_iter(
        match=WORKER_HEARTBEAT_KEY.format(queue_name=queue.queue_name, worker_id="*"), count=100
    ):
        raw = await queue.redis.get(key)
        if raw is not None:
            beats.append(json.loads(raw))
    return beats
