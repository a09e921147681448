"""A circuit breaker per destination connection, shared by every worker through Redis.

When a system is down, each item retrying on its own backoff still sends a steady trickle of doomed calls and burns
its attempts. After a run of consecutive transient failures the circuit opens: nobody calls for a cool-down, then
one probe goes (half-open). Its success closes the circuit; its failure re-opens it for longer, up to a bound. Only
transient failures (5xx, resets, timeouts) should be recorded: a refused document says nothing about the system's
health. Every transition is one Lua script on Redis's own clock, so workers agree on a single state.
"""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import IntEnum, StrEnum

from redis.asyncio import Redis

from sync.constants import (
    CIRCUIT_COOLDOWN_FACTOR,
    CIRCUIT_COOLDOWN_SECONDS,
    CIRCUIT_FAILURE_THRESHOLD,
    CIRCUIT_KEY,
    CIRCUIT_MAX_COOLDOWN_SECONDS,
    CIRCUIT_MEMORY_SECONDS,
    CIRCUIT_PROBE_LEASE_SECONDS,
)

__all__ = ["Admission", "CircuitBreaker", "CircuitPolicy", "CircuitState", "CircuitStatus"]

_PRELUDE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local function fmt(x) return string.format('%.17g', x) end
local function ms(seconds) return math.max(1, math.ceil(seconds * 1000)) end
"""

_ALLOW = (
    _PRELUDE
    + """
-- KEYS: circuit; ARGV: probe lease, memory. Open past its cool-down, or half-open with a probe given up: probe now.
-- Returns 1 (closed: go), 2 (go as the probe) or 0 (wait).
local state = redis.call('HMGET', KEYS[1], 'status', 'until')
if state[1] ~= 'open' and state[1] ~= 'half_open' then return 1 end
if now < tonumber(state[2]) then return 0 end
local lease = tonumber(ARGV[1])
redis.call('HSET', KEYS[1], 'status', 'half_open', 'until', fmt(now + lease))
redis.call('PEXPIRE', KEYS[1], ms(lease + tonumber(ARGV[2])))
return 2
"""
)

_FAILURE = (
    _PRELUDE
    + """
-- KEYS: circuit; ARGV: threshold, cool-down, factor, max cool-down, memory
local state = redis.call('HMGET', KEYS[1], 'status', 'failures', 'cooldown')
local failures = tonumber(state[2] or '0') + 1
local memory = tonumber(ARGV[5])
local cooldown = nil
if state[1] == 'half_open' then
  cooldown = math.min(tonumber(ARGV[4]), tonumber(state[3]) * tonumber(ARGV[3]))
elseif state[1] ~= 'open' and failures >= tonumber(ARGV[1]) then
  cooldown = tonumber(ARGV[2])
end
if cooldown then
  redis.call('HSET', KEYS[1], 'status', 'open', 'until', fmt(now + cooldown), 'cooldown', fmt(cooldown),
             'failures', failures)
  redis.call('PEXPIRE', KEYS[1], ms(cooldown + memory))
else
  -- Below the threshold, or a call let through before the circuit opened: count it, change nothing else.
  redis.call('HSET', KEYS[1], 'failures', failures)
  redis.call('PEXPIRE', KEYS[1], math.max(redis.call('PTTL', KEYS[1]), ms(memory)))
end
"""
)

_RETURN_PROBE = (
    _PRELUDE
    + """
-- KEYS: circuit. A probe that made no call hands its turn back: the next caller probes at once.
local state = redis.call('HMGET', KEYS[1], 'status', 'until')
if state[1] == 'half_open' and tonumber(state[2]) > now then
  redis.call('HSET', KEYS[1], 'until', fmt(now))
end
"""
)

_STATE = (
    _PRELUDE
    + """
-- KEYS: circuit. Returns status, until, failures and the time they were read at.
local state = redis.call('HMGET', KEYS[1], 'status', 'until', 'failures')
return {state[1] or 'closed', state[2] or '', state[3] or '0', fmt(now)}
"""
)


class CircuitStatus(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"
    """A probe may go (`until` is None) or is out (`until` is when it is given up)."""


class Admission(IntEnum):
    """What `CircuitBreaker.admit` answers (the allow script's own return values)."""

    WAIT = 0
    GO = 1
    PROBE = 2
    """The cool-down is over and this caller alone may try: keep the try small, and report how it went."""


@dataclass(frozen=True, slots=True)
class CircuitState:
    """What the dashboard shows: `until` is the end of the cool-down when open, of the probe's lease when half-open."""

    status: CircuitStatus
    until: datetime | None
    failures: int


@dataclass(frozen=True, slots=True)
class CircuitPolicy:
    failure_threshold: int = CIRCUIT_FAILURE_THRESHOLD
    cooldown_seconds: float = CIRCUIT_COOLDOWN_SECONDS
    max_cooldown_seconds: float = CIRCUIT_MAX_COOLDOWN_SECONDS
    probe_lease_seconds: float = CIRCUIT_PROBE_LEASE_SECONDS


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


class CircuitBreaker:
    """Create one per worker and connection; they all read and move the same state in Redis."""

    def __init__(self, redis: Redis, connection_id: uuid.UUID, policy: CircuitPolicy | None = None) -> None:
        self.redis = redis
        self.connection_id = connection_id
        self.policy = policy or CircuitPolicy()
        self._key = CIRCUIT_KEY.format(connection_id=connection_id)
        self._allow = redis.register_script(_ALLOW)
        self._failure = redis.register_script(_FAILURE)
        self._state = redis.register_script(_STATE)
        self._return_probe = redis.register_script(_RETURN_PROBE)

    async def allow(self) -> bool:
        """May a call go now? Past the cool-down, True for exactly one caller: the probe."""
        return await self.admit() is not Admission.WAIT

    async def admit(self) -> Admission:
        """Like `allow`, telling the probe apart from a call through a closed circuit."""
        answer = await self._allow(
            keys=[self._key], args=[repr(self.policy.probe_lease_seconds), CIRCUIT_MEMORY_SECONDS]
        )
        return Admission(int(answer))

    async def return_probe(self) -> None:
        """The probe made no call after all (nothing was due): let the next caller probe instead of waiting for
        the probe's lease to run out."""
        await self._return_probe(keys=[self._key])

    async def record_success(self) -> None:
        """Any success closes the circuit and forgets past failures: the system answers."""
        await self.redis.delete(self._key)

    async def record_failure(self) -> None:
        """A transient failure: counts towards opening; from a probe, re-opens for a longer cool-down."""
        policy = self.policy
        await self._failure(
            keys=[self._key],
            args=[
                policy.failure_threshold,
                repr(policy.cooldown_seconds),
                repr(CIRCUIT_COOLDOWN_FACTOR),
                repr(policy.max_cooldown_seconds),
                CIRCUIT_MEMORY_SECONDS,
            ],
        )

    async def state(self) -> CircuitState:
        """For the dashboard; reading changes nothing."""
        raw_status, raw_until, raw_failures, raw_now = (_text(value) for value in await self._state(keys=[self._key]))
        status = CircuitStatus(raw_status)
        until = float(raw_until) if raw_until else None
        if until is not None and until <= float(raw_now):
            # Cool-down over (or the probe given up): the next `allow()` sends a probe.
            return CircuitState(CircuitStatus.HALF_OPEN, None, int(raw_failures))
        return CircuitState(status, None if until is None else datetime.fromtimestamp(until, UTC), int(raw_failures))
