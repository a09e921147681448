"""A connection's circuit opens on a run of transient failures, probes once after the cool-down, and closes on success.

Against the real Redis, one connection id per test, with cool-downs of a fraction of a second: time is the subject,
so the tests wait for the moments the circuit itself names.
"""

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from redis.asyncio import Redis

from sync.circuit import CircuitBreaker, CircuitPolicy, CircuitState, CircuitStatus
from sync.constants import CIRCUIT_KEY
from tests.conftest import REDIS_URL

FAST = CircuitPolicy(failure_threshold=3, cooldown_seconds=0.2, max_cooldown_seconds=0.5, probe_lease_seconds=0.3)


@pytest.fixture
async def redis() -> AsyncIterator[Redis]:
    client = Redis.from_url(REDIS_URL)
    yield client
    await client.aclose()


@pytest.fixture
async def other_redis() -> AsyncIterator[Redis]:
    """The second worker's own connection."""
    client = Redis.from_url(REDIS_URL)
    yield client
    await client.aclose()


@pytest.fixture
async def connection_id(redis: Redis) -> AsyncIterator[uuid.UUID]:
    connection_id = uuid.uuid4()
    yield connection_id
    await redis.delete(CIRCUIT_KEY.format(connection_id=connection_id))


async def _wait_until(state: CircuitState) -> None:
    """Let the moment the circuit names pass (a little more, for the two clocks' rounding)."""
    assert state.until is not None
    await asyncio.sleep(max(0.0, (state.until - datetime.now(UTC)).total_seconds()) + 0.01)


def _seconds_left(state: CircuitState) -> float:
    assert state.until is not None
    return (state.until - datetime.now(UTC)).total_seconds()


async def test_the_circuit_opens_after_n_consecutive_failures(
    redis: Redis, other_redis: Redis, connection_id: uuid.UUID
) -> None:
    first, second = (CircuitBreaker(client, connection_id, FAST) for client in (redis, other_redis))
    await first.record_failure()
    await second.record_failure()
    await first.record_success()  # not consecutive: the count starts again
    assert await second.state() == CircuitState(CircuitStatus.CLOSED, None, 0)

    for breaker in (first, second, first):
        assert await breaker.allow()
        await breaker.record_failure()

    state = await second.state()
    assert state.status is CircuitStatus.OPEN and state.failures == 3
    assert _seconds_left(state) == pytest.approx(FAST.cooldown_seconds, abs=0.05)
    assert not await first.allow()
    assert not await second.allow()


async def test_after_the_cool_down_one_probe_goes_and_its_success_closes_the_circuit(
    redis: Redis, other_redis: Redis, connection_id: uuid.UUID
) -> None:
    first, second = (CircuitBreaker(client, connection_id, FAST) for client in (redis, other_redis))
    for _ in range(FAST.failure_threshold):
        await first.record_failure()
    await _wait_until(await first.state())
    assert (await second.state()) == CircuitState(CircuitStatus.HALF_OPEN, None, 3)

    allowed = await asyncio.gather(*(breaker.allow() for breaker in (first, second, first, second)))
    assert sorted(allowed) == [False, False, False, True]
    probing = await first.state()
    assert probing.status is CircuitStatus.HALF_OPEN
    assert _seconds_left(probing) == pytest.approx(FAST.probe_lease_seconds, abs=0.05)

    await second.record_success()
    assert await first.state() == CircuitState(CircuitStatus.CLOSED, None, 0)
    assert await first.allow() and await second.allow()
    assert await redis.exists(CIRCUIT_KEY.format(connection_id=connection_id)) == 0


async def test_a_failed_probe_reopens_for_longer_up_to_the_bound(redis: Redis, connection_id: uuid.UUID) -> None:
    breaker = CircuitBreaker(redis, connection_id, FAST)
    for _ in range(FAST.failure_threshold):
        await breaker.record_failure()

    cool_downs: list[float] = []
    for _ in range(3):
        state = await breaker.state()
        cool_downs.append(_seconds_left(state))
        await _wait_until(state)
        assert await breaker.allow()
        await breaker.record_failure()
    assert cool_downs == pytest.approx([0.2, 0.4, 0.5], abs=0.05)
    assert (await breaker.state()).status is CircuitStatus.OPEN


async def test_a_probe_whose_worker_died_is_given_up_after_its_lease(redis: Redis, connection_id: uuid.UUID) -> None:
    breaker = CircuitBreaker(redis, connection_id, FAST)
    for _ in range(FAST.failure_threshold):
        await breaker.record_failure()
    await _wait_until(await breaker.state())
    assert await breaker.allow()  # the probe's worker never reports back
    assert not await breaker.allow()

    await _wait_until(await breaker.state())
    assert await breaker.allow()


async def test_a_circuit_left_alone_leaves_nothing_behind(redis: Redis, connection_id: uuid.UUID) -> None:
    breaker = CircuitBreaker(redis, connection_id, FAST)
    key = CIRCUIT_KEY.format(connection_id=connection_id)
    for _ in range(FAST.failure_threshold):
        await breaker.record_failure()
        assert await redis.pttl(key) > 0  # closed with failures counted, then open: both expire
    await _wait_until(await breaker.state())
    assert await breaker.allow()
    assert await redis.pttl(key) > 0  # half-open
