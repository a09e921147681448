"""Per-connection request rate of the webhook endpoint: a fixed-window counter in Redis.

Why not `sync.rate_budget`'s token bucket: that one paces *our* calls to a system that counts a rolling minute, so a
burst at a window edge would break the system's contract. Here we protect ourselves: a window edge admitting up to
twice the limit for a moment is harmless, and in exchange a decision is one pipelined round trip (`INCR` + `EXPIRE
NX`) with one short-lived key per connection and window, and no script to load. The URL key is hashed before it
becomes part of a Redis key, so Redis never holds it.
"""

import hashlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from redis.asyncio import Redis

from webhooks.constants import RATE_LIMIT_KEY


@dataclass(frozen=True, slots=True)
class RateDecision:
    allowed: bool
    retry_after_seconds: int


class FixedWindowLimiter:
    def __init__(self, redis: Redis, *, clock: Callable[[], float] = time.time) -> None:
        self._redis = redis
        self._clock = clock

    async def hit(self, connection_key: str, *, limit: int, window_seconds: int) -> RateDecision:
        now = self._clock()
        window = int(now // window_seconds)
        digest = hashlib.sha256(connection_key.encode()).hexdigest()[:32]
        key = RATE_LIMIT_KEY.format(key_digest=digest, window=window)
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.incr(key)
            pipe.expire(key, window_seconds + 1, nx=True)
            count, _ = await pipe.execute()
        if int(count) <= limit:
            return RateDecision(allowed=True, retry_after_seconds=0)
        return RateDecision(allowed=False, retry_after_seconds=max(1, math.ceil((window + 1) * window_seconds - now)))
