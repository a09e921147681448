"""Failed sign-ins per client address: API keys and the dashboard's form share one budget per address and window.

An attempt is counted *before* its key is looked at, and handed back once the key proves right, so the counter
holds the failures plus the attempts in flight: guesses sent all at once cannot all pass a check made before the
first of them failed. Counting and checking are one Redis script (a fixed window, `EXPIRE` on the first count), so
every API process counts together. When Redis fails the throttle does not open: each process keeps counting in its
own memory with the same budget, which is stricter (a guesser spread over processes gets the budget once per
process, never unlimited) and needs nothing to be up.

An IPv6 caller is counted by its /64: a subscriber holds the whole network and could take a new address per guess.

A request's key is checked once (`sign_in_once`), by whichever layer asks first: the Idempotency-Key layer looks the
key up before the route does, and a second, unthrottled look-up there would tell a guesser past its budget which
guess was right (that key claims the idempotency key, and a retry comes back replayed).
"""

import time
from dataclasses import dataclass, field

from redis.asyncio import Redis
from redis.exceptions import RedisError
from starlette.requests import HTTPConnection

from core.api_keys import Principal, authenticate
from core.caller_address import caller_scope
from core.db import Database
from core.log import get_logger
from web.constants import SIGN_IN_FAILURES_KEY, SIGN_IN_LOCAL_MAX_ADDRESSES
from web.problems import Problem

log = get_logger(__name__)

# Counts the attempt unless the budget is spent: {1, 0} when counted, {0, ttl} when refused (nothing counted).
_TAKE_ATTEMPT = """
local count = tonumber(redis.call('GET', KEYS[1]) or '0')
if count >= tonumber(ARGV[1]) then
    return {0, redis.call('TTL', KEYS[1])}
end
if redis.call('INCR', KEYS[1]) == 1 then
    redis.call('EXPIRE', KEYS[1], ARGV[2])
end
return {1, 0}
"""
# Hands an attempt back; never below zero, and never creates a key (a window that ended stays ended).
_GIVE_BACK = """
if tonumber(redis.call('GET', KEYS[1]) or '0') > 0 then
    return redis.call('DECR', KEYS[1])
end
return 0
"""


@dataclass
class _LocalWindow:
    started: float
    failures: int = 0


@dataclass(frozen=True, slots=True)
class SignInAttempt:
    """An attempt as the throttle counted it: refused (`retry_after` seconds to wait), or counted until settled."""

    address: str
    retry_after: int | None
    counted_locally: bool = False


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

    async def attempt(self, address: str) -> SignInAttempt:
        """Count an attempt from `address` before its key is checked, or refuse it when the budget is spent."""
        local = self._local_retry_after(address)  # failures counted while Redis was down still count
        if local is not None:
            return SignInAttempt(address, retry_after=local)
        try:
            take = self.redis.register_script(_TAKE_ATTEMPT)  # no I/O: EVALSHA, loading the script once if needed
            counted, ttl = await take(keys=[self._key(address)], args=[self.limit, self.window_seconds])
        except (RedisError, OSError) as exc:
            log.warning("sign_in_throttle_redis_failed", error=type(exc).__name__, fallback="local")
            return self._attempt_locally(address)
        if not int(counted):
            return SignInAttempt(address, retry_after=max(int(ttl), 1))
        return SignInAttempt(address, retry_after=None)

    async def settle(self, attempt: SignInAttempt, *, succeeded: bool) -> None:
        """A failed attempt stays counted; a right key hands its count back."""
        if attempt.retry_after is not None or not succeeded:
            return
        await self._give_back(attempt)

    async def _give_back(self, attempt: SignInAttempt) -> None:
        if attempt.counted_locally:
            window = self._window(attempt.address, time.monotonic())
            if window is not None and window.failures > 0:
                window.failures -= 1
            return
        try:
            await self.redis.register_script(_GIVE_BACK)(keys=[self._key(attempt.address)])
        except (RedisError, OSError) as exc:
            log.warning("sign_in_throttle_redis_failed", error=type(exc).__name__, fallback="kept")

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

    def _attempt_locally(self, address: str) -> SignInAttempt:
        now = time.monotonic()
        window = self._window(address, now)
        if window is None:
            if len(self._local) >= SIGN_IN_LOCAL_MAX_ADDRESSES:  # a flood of addresses: forget the oldest window
                del self._local[min(self._local, key=lambda known: self._local[known].started)]
            window = self._local[address] = _LocalWindow(started=now)
        window.failures += 1
        return SignInAttempt(address, retry_after=None, counted_locally=True)


def client_address(request: HTTPConnection) -> str:
    """Whom the budget belongs to: the caller's address (a configured proxy's `X-Forwarded-For` has already replaced
    its own, `create_app`), or for IPv6 its /64."""
    return caller_scope(request.client.host if request.client else "unknown")


def throttle_of(request: HTTPConnection) -> SignInThrottle:
    throttle: SignInThrottle = request.app.state.sign_in_throttle
    return throttle


@dataclass(frozen=True, slots=True)
class SignInOutcome:
    token: str
    principal: Principal | None
    retry_after: int | None
    """Set when the address had spent its budget: the key was not looked at."""


async def sign_in_once(request: HTTPConnection, database: Database, token: str) -> SignInOutcome:
    """The throttled check of this request's bearer `token`, made once per request and kept in its state."""
    known = getattr(request.state, "sign_in", None)
    if isinstance(known, SignInOutcome) and known.token == token:
        return known
    throttle = throttle_of(request)
    attempt = await throttle.attempt(client_address(request))
    principal = None
    if attempt.retry_after is None:
        async with database.unscoped_session() as session:
            principal = await authenticate(session, token)
        await throttle.settle(attempt, succeeded=principal is not None)
    outcome = SignInOutcome(token=token, principal=principal, retry_after=attempt.retry_after)
    request.state.sign_in = outcome
    return outcome


def too_many_failures(retry_after: int) -> Problem:
    return Problem(
        429,
        f"Too many failed sign-in attempts from your address. Try again in {retry_after} seconds.",
        problem="too-many-failed-sign-ins",
        headers={"Retry-After": str(retry_after)},
        retry_after=retry_after,
    )
