"""Failed deliveries (a missing or wrong signature, an unknown key) counted per source address and overall, so that a
flood of forged deliveries cannot make the ingress look every guess up in PostgreSQL.

Why per address and overall, not per URL key: the key is the caller's choice, so a forger varies it and each guess
gets a fresh budget; the address is the connection's peer (as the server, or a configured proxy, reports it), and the
overall count holds back a forger with many addresses. Once a budget is spent, a delivery is still verified against
what this process remembers of the key (`webhooks.lookup_cache`: no database, no Redis), so a sender that signs
correctly keeps being answered while everything unverifiable is told 429 until the window ends.

Checking costs nothing (process memory); counting a failure costs one Redis round trip, which only failures pay. Each
process counts in memory as well, and blocks at the limit by its own count or by the shared one, whichever comes
first: when Redis does not answer, the local count still holds (fail closed), and Redis is asked again only after
`REDIS_RECHECK_SECONDS`.
"""

import hashlib
import math
import time
from collections.abc import Callable

from redis.asyncio import Redis
from redis.exceptions import RedisError

from core.log import get_logger
from webhooks.constants import FAILURE_KEY, FAILURE_MAX_LOCAL_ADDRESSES, REDIS_RECHECK_SECONDS

log = get_logger(__name__)

_COUNT_FAILURE = """
local counts = {}
for index, key in ipairs(KEYS) do
    counts[index] = redis.call('INCR', key)
    if counts[index] == 1 then
        redis.call('EXPIRE', key, ARGV[1])
    end
end
return counts
"""


def _address_scope(address: str) -> str:
    return "address:" + hashlib.sha256(address.encode()).hexdigest()[:32]


class FailureGuard:
    def __init__(self, redis: Redis, *, clock: Callable[[], float] = time.time) -> None:
        self._count_failure = redis.register_script(_COUNT_FAILURE)
        self._clock = clock
        self._window = -1
        self._by_address: dict[str, int] = {}
        self._overall = 0
        self._blocked: set[str] = set()
        self._all_blocked = False
        self._redis_down_until = 0.0

    def _roll(self, window: int) -> None:
        if window != self._window:
            self._window, self._by_address, self._overall = window, {}, 0
            self._blocked, self._all_blocked = set(), False

    def refusal(self, address: str, *, window_seconds: int) -> int | None:
        """Seconds until the window ends when `address`, or everyone, already failed too often in it; else None."""
        now = self._clock()
        window = int(now // window_seconds)
        self._roll(window)
        if self._all_blocked or address in self._blocked:
            return max(1, math.ceil((window + 1) * window_seconds - now))
        return None

    async def record(self, address: str, *, per_address: int, overall: int, window_seconds: int) -> None:
        """Count one failed delivery from `address`, here and in Redis when it answers."""
        now = self._clock()
        window = int(now // window_seconds)
        self._roll(window)
        if address not in self._by_address and len(self._by_address) >= FAILURE_MAX_LOCAL_ADDRESSES:
            self._by_address.clear()  # the overall count still holds them back
        from_address = self._by_address[address] = self._by_address.get(address, 0) + 1
        self._overall += 1
        shared_address, shared_overall = 0, 0
        if now >= self._redis_down_until:
            keys = [FAILURE_KEY.format(scope=scope, window=window) for scope in (_address_scope(address), "all")]
            try:
                shared_address, shared_overall = map(
                    int, await self._count_failure(keys=keys, args=[window_seconds + 1])
                )
            except (RedisError, OSError):
                log.warning("webhook_failure_count_unavailable", exc_info=True)
                self._redis_down_until = now + REDIS_RECHECK_SECONDS
        if max(from_address, shared_address) >= per_address:
            if len(self._blocked) >= FAILURE_MAX_LOCAL_ADDRESSES:
                self._all_blocked = True  # more failing addresses than a process tracks: an attack, not a typo
            self._blocked.add(address)
        if max(self._overall, shared_overall) >= overall:
            self._all_blocked = True
