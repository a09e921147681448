"""Per-connection rate of verified webhook deliveries: a fixed-window counter in Redis, taken in slices.

Only deliveries whose signature holds are counted, under the connection's id: a forger who knows a connection's URL
cannot spend its budget (failures are `webhooks.failure_limit`'s), and a made-up key gets no budget of its own.

Why not `sync.rate_budget`'s token bucket: that one paces *our* calls to a system that counts a rolling minute, so a
burst at a window edge would break the system's contract. Here we protect ourselves: a window edge admitting up to
twice the limit for a moment is harmless, and in exchange the counter is one short-lived key per connection and
window, shared by every process. When Redis does not answer, each process counts in its own memory against the same
limit (closed, never open: a limit that lets everything through is none), and asks Redis again after
`REDIS_RECHECK_SECONDS`.

Why slices: asking Redis on every delivery costs a round trip per delivery, about a tenth of what the whole delivery
costs this process. So a process takes `limit / RATE_LIMIT_SLICES_PER_WINDOW` hits at once (`INCRBY`, and `EXPIRE`
on the window's first slice, in one short script) and spends them locally until the window ends. It never admits more
than the limit across processes (a slice is granted only up to what is left); it may admit less, by what other
processes took and did not spend: at most one slice each, a `1 / RATE_LIMIT_SLICES_PER_WINDOW` share of the limit.
Small limits are counted hit by hit. The connection's id is hashed into the Redis key.

A process takes one slice of a key at a time: the deliveries that arrive while a slice is being taken (at every
window's start, all those in flight) wait for that one instead of each asking Redis for a slice of its own, which
put a burst of round trips on the hot path at every window's start and took slices that went unspent.
"""

import asyncio
import hashlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from redis.asyncio import Redis
from redis.exceptions import RedisError

from core.log import get_logger
from webhooks.constants import (
    RATE_LIMIT_KEY,
    RATE_LIMIT_MAX_LOCAL_KEYS,
    RATE_LIMIT_SLICES_PER_WINDOW,
    REDIS_RECHECK_SECONDS,
)

log = get_logger(__name__)

_TAKE_SLICE = """
local count = redis.call('INCRBY', KEYS[1], ARGV[1])
if count == tonumber(ARGV[1]) then
    redis.call('EXPIRE', KEYS[1], ARGV[2])
end
return count
"""


@dataclass(frozen=True, slots=True)
class RateDecision:
    allowed: bool
    retry_after_seconds: int


def _refused(window: int, now: float, window_seconds: int) -> RateDecision:
    return RateDecision(allowed=False, retry_after_seconds=max(1, math.ceil((window + 1) * window_seconds - now)))


@dataclass(slots=True)
class _Slice:
    window: int
    left: int
    last: bool
    """The window's counter reached the limit with this slice: no other slice will be granted in this window."""


class FixedWindowLimiter:
    def __init__(self, redis: Redis, *, clock: Callable[[], float] = time.time) -> None:
        self._take_slice = redis.register_script(_TAKE_SLICE)
        self._clock = clock
        self._slices: dict[str, _Slice] = {}
        self._taking: dict[str, asyncio.Task[_Slice]] = {}
        self._local_window = -1
        self._local_counts: dict[str, int] = {}
        self._redis_down_until = 0.0

    async def hit(self, connection_id: str, *, limit: int, window_seconds: int) -> RateDecision:
        now = self._clock()
        window = int(now // window_seconds)
        if now < self._redis_down_until:
            return self._hit_locally(connection_id, window, now, limit=limit, window_seconds=window_seconds)
        held = self._slices.get(connection_id)
        try:
            # Again when the deliveries that waited for the same slice spent it first: each take either grants hits
            # or is the window's last, so this ends.
            while held is None or held.window != window or (held.left == 0 and not held.last):
                held = await self._take_one_at_a_time(connection_id, window, limit=limit, window_seconds=window_seconds)
        except (RedisError, OSError):
            log.warning("webhook_rate_limit_unavailable", exc_info=True)
            self._redis_down_until = now + REDIS_RECHECK_SECONDS
            return self._hit_locally(connection_id, window, now, limit=limit, window_seconds=window_seconds)
        if held.left > 0:
            held.left -= 1
            return RateDecision(allowed=True, retry_after_seconds=0)
        return _refused(window, now, window_seconds)

    def _hit_locally(
        self, connection_id: str, window: int, now: float, *, limit: int, window_seconds: int
    ) -> RateDecision:
        """The same limit, counted in this process alone while Redis does not answer."""
        if window != self._local_window:
            self._local_window, self._local_counts = window, {}
        if connection_id not in self._local_counts and len(self._local_counts) >= RATE_LIMIT_MAX_LOCAL_KEYS:
            self._local_counts.clear()
        count = self._local_counts[connection_id] = self._local_counts.get(connection_id, 0) + 1
        if count <= limit:
            return RateDecision(allowed=True, retry_after_seconds=0)
        return _refused(window, now, window_seconds)

    async def _take_one_at_a_time(self, connection_id: str, window: int, *, limit: int, window_seconds: int) -> _Slice:
        taking = self._taking.get(connection_id)
        if taking is None or taking.done():
            taking = asyncio.create_task(self._take(connection_id, window, limit=limit, window_seconds=window_seconds))
            self._taking[connection_id] = taking
            taking.add_done_callback(lambda done: self._forget_take(connection_id, done))
        # Shielded: a cancelled delivery must not cancel the take the others wait for.
        return await asyncio.shield(taking)

    def _forget_take(self, connection_id: str, done: asyncio.Task[_Slice]) -> None:
        if self._taking.get(connection_id) is done:
            del self._taking[connection_id]

    async def _take(self, connection_id: str, window: int, *, limit: int, window_seconds: int) -> _Slice:
        size = max(1, limit // RATE_LIMIT_SLICES_PER_WINDOW)
        digest = hashlib.sha256(connection_id.encode()).hexdigest()[:32]
        key = RATE_LIMIT_KEY.format(key_digest=digest, window=window)
        count = int(await self._take_slice(keys=[key], args=[size, window_seconds + 1]))
        granted = max(0, min(size, limit - (count - size)))
        if len(self._slices) >= RATE_LIMIT_MAX_LOCAL_KEYS:
            # Unspent hits of forgotten slices are admitted less, never more.
            self._slices = {key: held for key, held in self._slices.items() if held.window == window}
            if len(self._slices) >= RATE_LIMIT_MAX_LOCAL_KEYS:
                self._slices.clear()
        held = _Slice(window=window, left=granted, last=count >= limit)
        self._slices[connection_id] = held
        return held
