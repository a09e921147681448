"""The per-connection rate limit over real Redis: processes share one counter per window, each taking slices of it,
and together they never admit more than the limit."""

import asyncio
import random
import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from core.settings import Settings
from webhooks.constants import RATE_LIMIT_SLICES_PER_WINDOW
from webhooks.rate_limit import FixedWindowLimiter

WINDOW = 3600


class Clock:
    """A window of its own per test, so the test finds its counters among any others in Redis."""

    def __init__(self) -> None:
        self.now = random.randrange(10**6, 10**7) * WINDOW + 10.0

    def __call__(self) -> float:
        return self.now

    async def counters(self, redis: Redis) -> dict[bytes, int]:
        pattern = f"ledgerline:webhooks:rate:*:{int(self.now // WINDOW)}"
        return {key: int(await redis.get(key) or 0) async for key in redis.scan_iter(match=pattern)}


@pytest.fixture
async def redis(settings: Settings) -> AsyncIterator[Redis]:
    client = Redis.from_url(settings.redis_url or "")
    yield client
    await client.aclose()


async def test_processes_together_never_admit_more_than_the_limit_and_lose_at_most_a_slice_each(
    redis: Redis,
) -> None:
    clock, key, limit = Clock(), uuid.uuid4().hex, 1000
    processes = [FixedWindowLimiter(redis, clock=clock) for _ in range(3)]
    admitted = 0
    for turn in range(3 * limit):
        admitted += (await processes[turn % 3].hit(key, limit=limit, window_seconds=WINDOW)).allowed
    assert limit - 2 * (limit // RATE_LIMIT_SLICES_PER_WINDOW) <= admitted <= limit
    # Once the window is spent, refusals are answered locally: the counter no longer moves.
    before = await clock.counters(redis)
    refused = await processes[0].hit(key, limit=limit, window_seconds=WINDOW)
    assert not refused.allowed and refused.retry_after_seconds == WINDOW - 10
    assert await clock.counters(redis) == before


async def test_a_small_limit_is_counted_hit_by_hit_across_processes(redis: Redis) -> None:
    clock, key = Clock(), uuid.uuid4().hex
    first, second = FixedWindowLimiter(redis, clock=clock), FixedWindowLimiter(redis, clock=clock)
    verdicts = [(await limiter.hit(key, limit=3, window_seconds=WINDOW)).allowed for limiter in (first, second) * 3]
    assert verdicts == [True, True, True, False, False, False]


async def test_each_window_starts_afresh_and_its_counter_expires(redis: Redis) -> None:
    clock, key = Clock(), uuid.uuid4().hex
    limiter = FixedWindowLimiter(redis, clock=clock)
    assert (await limiter.hit(key, limit=1, window_seconds=WINDOW)).allowed
    assert not (await limiter.hit(key, limit=1, window_seconds=WINDOW)).allowed
    clock.now += WINDOW
    assert (await limiter.hit(key, limit=1, window_seconds=WINDOW)).allowed
    [counter] = await clock.counters(redis)
    assert 0 < await redis.ttl(counter) <= WINDOW + 1
    assert key.encode() not in counter, "the URL key itself never reaches Redis"


async def test_deliveries_arriving_together_share_one_slice_instead_of_each_taking_one(redis: Redis) -> None:
    clock, key, limit = Clock(), uuid.uuid4().hex, 1000
    limiter = FixedWindowLimiter(redis, clock=clock)
    size = limit // RATE_LIMIT_SLICES_PER_WINDOW
    verdicts = await asyncio.gather(*(limiter.hit(key, limit=limit, window_seconds=WINDOW) for _ in range(2 * size)))
    assert all(verdict.allowed for verdict in verdicts)
    assert list((await clock.counters(redis)).values()) == [2 * size], "two slices taken, one after the other"
