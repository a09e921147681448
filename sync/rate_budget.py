"""The rate budget of one destination connection, shared by every worker process through Redis.

Systems count calls per connection, not per worker, so the budget lives in Redis and every decision is one Lua
script that checks every limit and takes from all of them or from none: no read-modify-write race between workers.
Time is Redis's own (`TIME`), one clock for every worker whatever their hosts say. Each limit is enforced only when
the spec states it:

- calls per minute: a token bucket of capacity one, refilled at N / (60 s + guard). Systems count a rolling minute,
  and a bucket of capacity B admits B + r·W calls in a window of W seconds: any capacity above one adds a burst
  (at start, or after a pause) on top of a full minute, which is what a rolling window refuses. The guard lets
  network jitter shorter than it bunch calls without N + 1 landing in one minute, for 1/61 of the rate.
- calls per day: hourly counts; the last 25 are summed, which always covers the rolling day, so the cap holds over
  any 24 hours and bites at most an hour early.
- calls in flight: members of a sorted set scored by the end of their lease, so a worker killed while holding a
  slot loses it after the lease instead of leaking it for good.
- `defer_until` (Retry-After) and `observe_remaining` / `observe_day_remaining` (remaining-quota headers) only ever
  add a wait; `meter` feeds them from every answer the connector's HTTP client gets.
- a day reserve: a budget may stop short of the day's allowance (our count and the system's), leaving the rest to
  others. Exports keep one, so a backlog never spends what imports, payment checks and lookups need that day.

Every key expires once it would say no more than its absence does, so idle connections leave nothing behind.
"""

import asyncio
import math
import time
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from redis.asyncio import Redis

from connectors.base import Connector
from connectors.http import retry_at
from connectors.spec import RateLimitSpec
from core.errors import RateLimited
from core.metrics import RATE_BUDGET_REFUSALS, RATE_BUDGET_WAIT_SECONDS, RATE_BUDGET_WAITS
from sync.constants import (
    BUDGET_IDLE_TTL_SECONDS,
    BUDGET_KEY,
    BUDGET_MAX_WAIT_SECONDS,
    BUDGET_REFUSAL_CODE,
    DAY_BUCKET_SECONDS,
    DAY_REMAINING_WINDOW_SECONDS,
    DAY_WINDOW_SECONDS,
    HTTP_TOO_MANY_REQUESTS,
    RATE_LIMIT_SETTING,
    RATE_UNSPENT_CALLS,
    RATE_WINDOW_GUARD_SECONDS,
    RATE_WINDOW_SECONDS,
    REMAINING_WINDOW_SECONDS,
    SLOT_LEASE_SECONDS,
    SLOT_RETRY_SECONDS,
    UNSAID_RETRY_AFTER_SECONDS,
)

__all__ = ["Clock", "Permit", "RateBudget"]

Clock = Callable[[], float]
"""Seconds since the epoch. Only tests bring their own; production reads Redis's clock."""

_KEY_PARTS = ("pace", "day", "slots", "defer", "quota", "day_quota")
"""The keys of a connection's budget, in the order the acquire script takes them."""
CONFIGURABLE_LIMITS = frozenset({"per_minute", "per_day", "concurrency"})
"""The limits a connection's settings may set (`RateBudget.from_spec`)."""

_NOW = """
local function now_from(arg)
  if arg ~= '' then return tonumber(arg) end
  local t = redis.call('TIME')
  return tonumber(t[1]) + tonumber(t[2]) / 1000000
end
local function fmt(x) return string.format('%.17g', x) end
local function ms(seconds) return math.max(1, math.ceil(seconds * 1000)) end
"""

_ACQUIRE = (
    _NOW
    + """
-- KEYS: pace, day, slots, defer, quota, day quota
-- ARGV: now, interval, day cap, concurrency, lease, slot token, slot retry, idle ttl, day bucket, day buckets,
--       counted (1: a call that counts against the rates and the reported quota; 0: a concurrency slot only),
--       day reserve (calls of the system's reported day remaining left to others)
local now = now_from(ARGV[1])
local interval = tonumber(ARGV[2])
local counted = ARGV[11] ~= '0'
local day_cap = tonumber(ARGV[3])
local concurrency = tonumber(ARGV[4])
local lease = tonumber(ARGV[5])
local idle = tonumber(ARGV[8])
local bucket = tonumber(ARGV[9])
local buckets = tonumber(ARGV[10])
local wait = 0

local deferred = tonumber(redis.call('GET', KEYS[4]) or '0')
if deferred > now then wait = deferred - now end

local quota = redis.call('HMGET', KEYS[5], 'remaining', 'until')
local quota_active = counted and quota[1] and tonumber(quota[2]) > now
if quota_active and tonumber(quota[1]) < 1 then wait = math.max(wait, tonumber(quota[2]) - now) end

local day_quota = redis.call('HMGET', KEYS[6], 'remaining', 'until')
local day_quota_active = counted and day_quota[1] and tonumber(day_quota[2]) > now
if day_quota_active and tonumber(day_quota[1]) - tonumber(ARGV[12]) < 1 then
  wait = math.max(wait, tonumber(day_quota[2]) - now)
end

-- The bucket of capacity one is kept as the moment its token is back.
local ready = now
if interval > 0 then
  ready = math.max(now, tonumber(redis.call('GET', KEYS[1]) or '0'))
  if ready > now then wait = math.max(wait, ready - now) end
end

local this_bucket = math.floor(now / bucket)
if day_cap > 0 then
  local counts = redis.call('HGETALL', KEYS[2])
  local used, oldest = 0, this_bucket
  for i = 1, #counts, 2 do
    local b = tonumber(counts[i])
    if b <= this_bucket - buckets then
      redis.call('HDEL', KEYS[2], counts[i])
    else
      used = used + tonumber(counts[i + 1])
      oldest = math.min(oldest, b)
    end
  end
  if used >= day_cap then wait = math.max(wait, (oldest + buckets) * bucket - now) end
end

if concurrency > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
  if redis.call('ZCARD', KEYS[3]) >= concurrency then
    local first = redis.call('ZRANGE', KEYS[3], 0, 0, 'WITHSCORES')
    wait = math.max(wait, math.min(tonumber(ARGV[7]), tonumber(first[2]) - now))
  end
end

if wait > 0 then return {0, fmt(wait)} end

if interval > 0 then
  redis.call('SET', KEYS[1], fmt(ready + interval), 'PX', ms(ready + interval - now + idle))
end
if day_cap > 0 then
  redis.call('HINCRBY', KEYS[2], this_bucket, 1)
  redis.call('PEXPIRE', KEYS[2], ms(buckets * bucket + idle))
end
if quota_active then redis.call('HINCRBY', KEYS[5], 'remaining', -1) end
if day_quota_active then redis.call('HINCRBY', KEYS[6], 'remaining', -1) end
if concurrency > 0 then
  redis.call('ZADD', KEYS[3], now + lease, ARGV[6])
  local last = redis.call('ZRANGE', KEYS[3], -1, -1, 'WITHSCORES')
  redis.call('PEXPIRE', KEYS[3], ms(tonumber(last[2]) - now))
end
return {1, '0'}
"""
)

_DEFER = (
    _NOW
    + """
-- KEYS: defer; ARGV: now, until. Keeps the later moment: a deferral only ever grows.
local now = now_from(ARGV[1])
local deadline = tonumber(ARGV[2])
if deadline > now and deadline > tonumber(redis.call('GET', KEYS[1]) or '0') then
  redis.call('SET', KEYS[1], fmt(deadline), 'PX', ms(deadline - now))
end
"""
)

_OBSERVE = (
    _NOW
    + """
-- KEYS: quota; ARGV: now, remaining, window. The newest report replaces the one before.
local now = now_from(ARGV[1])
local window = tonumber(ARGV[3])
redis.call('HSET', KEYS[1], 'remaining', ARGV[2], 'until', fmt(now + window))
redis.call('PEXPIRE', KEYS[1], ms(window))
"""
)


@dataclass(frozen=True, slots=True)
class Permit:
    """Leave to make one call. `slot` names the concurrency slot it holds, if concurrency is limited."""

    slot: str | None


class RateBudget:
    """One destination connection's shared limits; create one per worker, all agree through Redis.

    Two grains, because a connector call is not an HTTP call (an Intacct push is the create plus a read of the
    record URLs, and maybe a login): the engine holds a concurrency `slot(counted=False)` around each connector
    call, and `meter` makes every HTTP request the connector sends take its place in the rates, and feeds the
    system's answers (Retry-After, remaining quota) back in.
    """

    def __init__(
        self,
        redis: Redis,
        connection_id: uuid.UUID,
        *,
        per_minute: int | None = None,
        per_day: int | None = None,
        concurrency: int | None = None,
        day_reserve: int = 0,
        lease_seconds: float = SLOT_LEASE_SECONDS,
        clock: Clock | None = None,
    ) -> None:
        """`day_reserve`: calls of each day this budget leaves to other callers of the connection, stopping that
        many short of `per_day` in its own count and of the day's remaining calls the system reports."""
        self.redis = redis
        self.connection_id = connection_id
        self.per_minute = per_minute
        self.per_day = per_day
        self.concurrency = concurrency
        self.day_reserve = day_reserve
        self.lease_seconds = lease_seconds
        self._clock = clock
        self._keys = {part: BUDGET_KEY.format(connection_id=connection_id, part=part) for part in _KEY_PARTS}
        self._acquire = redis.register_script(_ACQUIRE)
        self._defer = redis.register_script(_DEFER)
        self._observe = redis.register_script(_OBSERVE)

    @classmethod
    def of_connection(
        cls, redis: Redis, connection_id: uuid.UUID, connector: Connector, *, day_reserve_share: float = 0.0
    ) -> "RateBudget":
        """The budget of the connection `connector` reaches: its spec's limits, or those its settings set."""
        configured = connector.context.settings.get(RATE_LIMIT_SETTING)
        spec = connector.spec.rate_limit
        return cls.from_spec(redis, connection_id, spec, configured, day_reserve_share=day_reserve_share)

    @classmethod
    def from_spec(
        cls,
        redis: Redis,
        connection_id: uuid.UUID,
        spec: RateLimitSpec,
        configured: Mapping[str, Any] | None = None,
        *,
        day_reserve_share: float = 0.0,
        clock: Clock | None = None,
    ) -> "RateBudget":
        """The limits a connector's spec states; one it leaves unset is not enforced at all.

        `configured` (a connection's `settings["rate_limit"]`) replaces the spec's numbers: some systems limit by
        the customer's contract (Intacct's performance tier), which only the connection can say.
        `day_reserve_share`: the share of the day's allowance this budget leaves to others (`day_reserve`).
        """
        limits = {key: value for key, value in (configured or {}).items() if key in CONFIGURABLE_LIMITS}
        if limits:
            spec = RateLimitSpec.model_validate({**spec.model_dump(), **limits})
        reserve = math.ceil(spec.per_day * day_reserve_share) if spec.per_day else 0
        return cls(
            redis,
            connection_id,
            per_minute=spec.per_minute,
            per_day=spec.per_day,
            concurrency=spec.concurrency,
            day_reserve=reserve,
            clock=clock,
        )

    def _now_arg(self) -> str:
        return "" if self._clock is None else repr(self._clock())

    def _now(self) -> float:
        return time.time() if self._clock is None else self._clock()

    async def acquire(self, *, counted: bool = True, hold: bool = True) -> Permit | float:
        """A permit, or the seconds to wait before asking again (nothing is taken when refused).

        `counted`: the call counts against the rates and any reported quota; `hold`: it takes a concurrency slot.
        A deferral applies either way.
        """
        interval = 0.0
        if counted and self.per_minute:
            interval = (RATE_WINDOW_SECONDS + RATE_WINDOW_GUARD_SECONDS) / max(1, self.per_minute - RATE_UNSPENT_CALLS)
        concurrency = (self.concurrency or 0) if hold else 0
        token = uuid.uuid4().hex
        granted, wait = await self._acquire(
            keys=[self._keys[part] for part in _KEY_PARTS],
            args=[
                self._now_arg(),
                repr(interval),
                max(1, (self.per_day or 0) - self.day_reserve) if counted and self.per_day else 0,
                concurrency,
                repr(self.lease_seconds),
                token,
                repr(SLOT_RETRY_SECONDS),
                BUDGET_IDLE_TTL_SECONDS,
                DAY_BUCKET_SECONDS,
                DAY_WINDOW_SECONDS // DAY_BUCKET_SECONDS + 1,
                int(counted),
                self.day_reserve,
            ],
        )
        if not granted:
            return float(wait)
        return Permit(slot=token if concurrency else None)

    async def release(self, permit: Permit) -> None:
        """Give the permit's concurrency slot back (the call itself stays counted against the rate)."""
        if permit.slot is not None:
            await self.redis.zrem(self._keys["slots"], permit.slot)

    async def wait(
        self, *, max_wait: float = BUDGET_MAX_WAIT_SECONDS, counted: bool = True, hold: bool = True
    ) -> Permit:
        """A permit, waiting for one at most `max_wait` seconds; `RateLimited` (code `BUDGET_REFUSAL_CODE`, with
        the moment the budget names) as soon as the wait would overrun."""
        deadline = time.monotonic() + max_wait
        grain = "slot" if hold else "request"
        while not isinstance(outcome := await self.acquire(counted=counted, hold=hold), Permit):
            if time.monotonic() + outcome > deadline:
                RATE_BUDGET_REFUSALS.labels(grain).inc()
                raise RateLimited(
                    f"the rate budget of connection {self.connection_id} is spent for {outcome:.1f} s",
                    code=BUDGET_REFUSAL_CODE,
                    retry_at=datetime.now(UTC) + timedelta(seconds=outcome),
                    hint="Ledgerline spaces the calls to the system; the item waits for its turn.",
                )
            RATE_BUDGET_WAITS.labels(grain).inc()
            RATE_BUDGET_WAIT_SECONDS.labels(grain).inc(outcome)
            await asyncio.sleep(outcome)
        return outcome

    @asynccontextmanager
    async def slot(self, *, max_wait: float = BUDGET_MAX_WAIT_SECONDS, counted: bool = True) -> AsyncIterator[Permit]:
        """Hold a permit for the body, waiting for one at most `max_wait` seconds.

        Raises `RateLimited` (with the moment the budget names) as soon as the wait would overrun, so the engine
        defers the work instead of a worker sleeping on one connection.
        """
        permit = await self.wait(max_wait=max_wait, counted=counted)
        try:
            yield permit
        finally:
            await self.release(permit)

    async def defer_until(self, when: datetime) -> None:
        """Nobody calls the system before `when` (a `RateLimited.retry_at`); an earlier deferral is extended."""
        await self._defer(keys=[self._keys["defer"]], args=[self._now_arg(), repr(when.timestamp())])

    async def deferred_until(self) -> datetime | None:
        """The moment calls may go again, while the connection is deferred; None when it is not."""
        raw = await self.redis.get(self._keys["defer"])
        if raw is None or float(raw) <= self._now():
            return None
        return datetime.fromtimestamp(float(raw), UTC)

    async def observe_remaining(self, remaining: int, window_seconds: float) -> None:
        """The system says `remaining` calls are left for the next `window_seconds` (e.g. `X-MinLimit-Remaining`).

        At most that many more permits are given in the window, across all workers; at zero, none until it ends.
        """
        if window_seconds > 0:
            await self._observe(
                keys=[self._keys["quota"]], args=[self._now_arg(), max(0, remaining), repr(window_seconds)]
            )

    async def observe_day_remaining(self, remaining: int) -> None:
        """The system says `remaining` calls are left in its day (e.g. `X-DayLimit-Remaining`). Taken as good for
        `DAY_REMAINING_WINDOW_SECONDS`: every answer renews it, and at zero a call after that window asks again
        (a 429 then says until when). A budget with a `day_reserve` stops that many short of it."""
        await self._observe(
            keys=[self._keys["day_quota"]],
            args=[self._now_arg(), max(0, remaining), repr(DAY_REMAINING_WINDOW_SECONDS)],
        )

    def meter(self, client: httpx.AsyncClient, limits: RateLimitSpec) -> None:
        """Every request `client` sends waits for its turn in the rates; every answer tightens the budget.

        Through httpx's event hooks, so each HTTP request counts, whatever a connector call makes of them (logins,
        follow-up reads, lookups after a failure). Installing twice on one client changes nothing.
        """
        for hook in client.event_hooks["request"]:
            if getattr(hook, "__self__", None) is self:
                return
        before, after = self._before_request, _Observer(self, limits)
        client.event_hooks = {
            "request": [*client.event_hooks["request"], before],
            "response": [*client.event_hooks["response"], after],
        }

    async def _before_request(self, request: httpx.Request) -> None:
        await self.wait(counted=True, hold=False)


@dataclass(frozen=True, slots=True)
class _Observer:
    """The response hook of `RateBudget.meter`: what the system says about its limits, fed back into the budget."""

    budget: RateBudget
    limits: RateLimitSpec

    async def __call__(self, response: httpx.Response) -> None:
        if response.status_code == HTTP_TOO_MANY_REQUESTS:
            when = retry_at(response, self.limits)
            await self.budget.defer_until(when or datetime.now(UTC) + timedelta(seconds=UNSAID_RETRY_AFTER_SECONDS))
            return
        minute = _count(response, self.limits.remaining_header)
        if minute is not None:
            await self.budget.observe_remaining(minute, REMAINING_WINDOW_SECONDS)
        day = _count(response, self.limits.day_remaining_header)
        if day is not None:
            await self.budget.observe_day_remaining(day)


def _count(response: httpx.Response, header: str | None) -> int | None:
    value = response.headers.get(header) if header else None
    return int(value) if value is not None and value.strip().isdigit() else None
