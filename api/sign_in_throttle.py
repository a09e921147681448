"""Failed sign-ins per client address: API keys and the dashboard's form share one budget per address and window.

A fixed window in Redis (`SET … NX EX` then `INCR`) so every API process counts together. When Redis fails the
throttle does not open: each process keeps counting in its own memory with the same budget, which is stricter (a
guesser spread over processes gets the budget once per process, never unlimited) and needs nothing to be up.
"""

import time
from dataclasses import dataclass, field

from fastapi import Request
from redis.asyncio import Redis
from redis.exceptions import RedisError

from api.constants import SIGN_IN_FAILURES_KEY, SIGN_IN_LOCAL_MAX_ADDRESSES
from api.problems import Problem
from core.log import get_logger

log = get_logger(__name__)


@dataclass
class _LocalWindow:
    started: float
    failures: int = 0


@dataclass
class SignInThrottle:
    redis: Redis
    namespace: str
    """Keeps deployments (and test runs) that share a Redis apart: the queue name."""
    limit: int
    window_seconds: int
    _local: dict[str, _LocalWindow] = field(default_factory=dict)

    def _key(self, address: str) -> str:
        return SIGN_IN_FAILURES_KEY.format(namespace=self.namespace, address=address)

    async def retry_after(self, address: str) -> int | None:
        """Seconds until `address` may try again, or None while it is within its budget."""
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                pipe.get(self._key(address))
                pipe.ttl(self._key(address))
                raw, ttl = await pipe.execute()
        except (RedisError, OSError) as exc:
            log.warning("sign_in_throttle_redis_failed", error=type(exc).__name__, fallback="local")
            return self._local_retry_after(address)
        local = self._local_retry_after(address)  # failures counted while Redis was down still count
        if raw is not None and int(raw) >= self.limit:
            return max(int(ttl), 1, local or 0)
        return local

    async def record_failure(self, address: str) -> None:
        try:
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.set(self._key(address), 0, ex=self.window_seconds, nx=True)
                pipe.incr(self._key(address))
                await pipe.execute()
        except (RedisError, OSError) as exc:
            log.warning("sign_in_throttle_redis_failed", error=type(exc).__name__, fallback="local")
            self._record_local(address)

    def _window(self, address: str, now: float) -> _LocalWindow | None:
        window = self._local.get(address)
        if window is not None and now - window.started >= self.window_seconds:
            del self._local[address]
            return None
        return window

    def _local_retry_after(self, address: str) -> int | None:
        now = time.monotonic()
        window = self._window(address, now)
        if window is None or window.failures < self.limit:
            return None
        return max(int(window.started + self.window_seconds - now), 1)

    def _record_local(self, address: str) -> None:
        now = time.monotonic()
        window = self._window(address, now)
        if window is None:
            if len(self._local) >= SIGN_IN_LOCAL_MAX_ADDRESSES:  # a flood of addresses: forget the oldest window
                del self._local[min(self._local, key=lambda known: self._local[known].started)]
            window = self._local[address] = _LocalWindow(started=now)
        window.failures += 1


def client_address(request: Request) -> str:
    """The caller's address; a configured proxy's `X-Forwarded-For` has already replaced its own (`create_app`)."""
    return request.client.host if request.client else "unknown"


def throttle_of(request: Request) -> SignInThrottle:
    throttle: SignInThrottle = request.app.state.sign_in_throttle
    return throttle


def too_many_failures(retry_after: int) -> Problem:
    return Problem(
        429,
        f"Too many failed sign-in attempts from your address. Try again in {retry_after} seconds.",
        problem="too-many-failed-sign-ins",
        headers={"Retry-After": str(retry_after)},
        retry_after=retry_after,
    )
