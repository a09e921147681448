"""A connection's rate budget holds across workers: rolling minute, day, concurrency, deferrals and quota reports.

Every test runs against the real Redis under its own connection id. Two `RateBudget` objects on two Redis clients
stand for two worker processes. Where minutes or days are the subject, a clock shared by both is handed to the Lua
scripts, so the simulated time passes in milliseconds.
"""

import asyncio
import bisect
import random
import sys
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from redis.asyncio import Redis

from connectors.spec import RateLimitSpec
from core.errors import RateLimited
from sync.constants import (
    BUDGET_KEY,
    DAY_BUCKET_SECONDS,
    DAY_REMAINING_WINDOW_SECONDS,
    RATE_UNSPENT_CALLS,
    RATE_WINDOW_GUARD_SECONDS,
    RATE_WINDOW_SECONDS,
    SLOT_RETRY_SECONDS,
)
from sync.rate_budget import Permit, RateBudget
from tests.conftest import REDIS_URL

REPOSITORY = Path(__file__).resolve().parents[2]

HOLDER = """
import asyncio, sys, uuid
from redis.asyncio import Redis
from sync.rate_budget import Permit, RateBudget

async def main() -> None:
    budget = RateBudget(
        Redis.from_url(sys.argv[1]), uuid.UUID(sys.argv[2]), concurrency=1, lease_seconds=float(sys.argv[3])
    )
    assert isinstance(await budget.acquire(), Permit)
    print("held", flush=True)
    await asyncio.Event().wait()

asyncio.run(main())
"""
"""A worker that takes the only slot and hangs on to it until it is killed."""


class SharedClock:
    """Simulated epoch seconds that every worker of a test reads."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


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
    keys = [key async for key in redis.scan_iter(match=BUDGET_KEY.format(connection_id=connection_id, part="*"))]
    if keys:
        await redis.delete(*keys)


def _busiest_window(moments: list[float], width: float) -> int:
    """The most moments inside any half-open window [t, t + width)."""
    ordered = sorted(moments)
    return max((bisect.bisect_left(ordered, start + width) - index for index, start in enumerate(ordered)), default=0)


async def test_two_workers_never_put_more_than_n_calls_in_any_rolling_minute(
    redis: Redis, other_redis: Redis, connection_id: uuid.UUID
) -> None:
    per_minute, minutes = 120, 3
    draw = random.Random(7)  # calls take 20-80 ms and sleepers wake up to 5 ms late, so the workers interleave
    clock = SharedClock()
    start = clock.now
    workers = [RateBudget(client, connection_id, per_minute=per_minute, clock=clock) for client in (redis, other_redis)]
    next_try = [start, start]
    granted: list[list[float]] = [[], []]
    while True:  # each turn goes to the worker due first, as time would have it
        turn = min((0, 1), key=next_try.__getitem__)
        if next_try[turn] >= start + minutes * 60:
            break
        clock.now = next_try[turn]
        outcome = await workers[turn].acquire()
        if isinstance(outcome, Permit):
            granted[turn].append(clock.now)
            next_try[turn] = clock.now + draw.uniform(0.02, 0.08)
        else:
            next_try[turn] = clock.now + outcome + draw.uniform(0, 0.005)

    everything = granted[0] + granted[1]
    # Jitter shorter than the guard may stretch what the system sees as one minute; it still sees at most N.
    assert _busiest_window(everything, RATE_WINDOW_SECONDS + 0.9 * RATE_WINDOW_GUARD_SECONDS) <= per_minute
    after_first_minute = sum(1 for moment in everything if moment >= start + 60)
    assert after_first_minute / (per_minute * (minutes - 1)) >= 0.95
    assert min(len(granted[0]), len(granted[1])) >= len(everything) // 3


async def test_two_workers_share_the_rate_in_real_time(
    redis: Redis, other_redis: Redis, connection_id: uuid.UUID
) -> None:
    per_minute, seconds = 600, 1.0
    interval = (RATE_WINDOW_SECONDS + RATE_WINDOW_GUARD_SECONDS) / (per_minute - RATE_UNSPENT_CALLS)
    started = time.monotonic()
    moments: list[float] = []

    async def work(budget: RateBudget) -> None:
        while time.monotonic() < started + seconds:
            async with budget.slot():
                moments.append(time.monotonic())

    await asyncio.gather(
        *(work(RateBudget(client, connection_id, per_minute=per_minute)) for client in (redis, other_redis))
    )
    within = [moment for moment in moments if moment < started + seconds]
    # Never above the rate; near it, whichever worker wins each token (slack for a loaded test machine).
    assert 0.7 * seconds / interval <= len(within) <= 1 + (seconds + 0.05) / interval


async def test_concurrency_cap_holds_across_workers(redis: Redis, other_redis: Redis, connection_id: uuid.UUID) -> None:
    workers = [RateBudget(client, connection_id, concurrency=2) for client in (redis, other_redis)]
    active = peak = 0
    both_in = asyncio.Event()
    gate = asyncio.Event()

    async def call(budget: RateBudget) -> None:
        nonlocal active, peak
        async with budget.slot():
            active += 1
            peak = max(peak, active)
            if active == 2:
                both_in.set()
            await gate.wait()
            active -= 1

    calls = [asyncio.create_task(call(workers[index % 2])) for index in range(5)]
    await both_in.wait()
    refused = await workers[1].acquire()
    assert isinstance(refused, float) and 0 < refused <= SLOT_RETRY_SECONDS
    gate.set()
    await asyncio.gather(*calls)
    assert peak == 2
    assert isinstance(await workers[0].acquire(), Permit)


async def test_a_killed_holder_loses_its_slot_after_the_lease(redis: Redis, connection_id: uuid.UUID) -> None:
    lease = 1.0
    holder = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        HOLDER,
        REDIS_URL,
        str(connection_id),
        str(lease),
        stdout=asyncio.subprocess.PIPE,
        cwd=REPOSITORY,
    )
    try:
        assert holder.stdout is not None
        assert await holder.stdout.readline() == b"held\n"
        held_at = time.time()
    finally:
        holder.kill()
        await holder.wait()

    budget = RateBudget(redis, connection_id, concurrency=1, lease_seconds=lease)
    assert isinstance(await budget.acquire(), float)
    async with budget.slot(max_wait=3 * lease):
        taken_at = time.time()
    assert held_at + lease - 0.1 <= taken_at <= held_at + lease + 0.5


async def test_defer_until_blocks_every_worker_until_the_moment(
    redis: Redis, other_redis: Redis, connection_id: uuid.UUID
) -> None:
    clock = SharedClock()
    first, second = (RateBudget(client, connection_id, per_minute=600, clock=clock) for client in (redis, other_redis))
    moment = datetime.fromtimestamp(clock.now + 30, UTC)
    await first.defer_until(moment)
    await second.defer_until(datetime.fromtimestamp(clock.now + 5, UTC))  # an earlier moment does not shorten it

    for budget in (first, second):
        assert await budget.acquire() == pytest.approx(30, abs=1e-3)
    clock.now = moment.timestamp() - 0.001
    assert await second.acquire() == pytest.approx(0.001, abs=1e-6)
    clock.now = moment.timestamp()
    assert isinstance(await second.acquire(), Permit)


async def test_a_zero_remaining_report_stops_calls_until_the_window_ends(
    redis: Redis, other_redis: Redis, connection_id: uuid.UUID
) -> None:
    clock = SharedClock()
    first, second = (RateBudget(client, connection_id, clock=clock) for client in (redis, other_redis))
    await first.observe_remaining(0, 20)

    for budget in (first, second):
        assert await budget.acquire() == pytest.approx(20, abs=1e-3)
    clock.now += 20
    assert isinstance(await second.acquire(), Permit)


async def test_a_remaining_report_caps_every_worker_together(
    redis: Redis, other_redis: Redis, connection_id: uuid.UUID
) -> None:
    clock = SharedClock()
    first, second = (RateBudget(client, connection_id, clock=clock) for client in (redis, other_redis))
    await first.observe_remaining(2, 60)

    assert isinstance(await first.acquire(), Permit)
    assert isinstance(await second.acquire(), Permit)
    assert await first.acquire() == pytest.approx(60, abs=1e-3)
    await second.observe_remaining(1, 60)  # a newer report replaces the older one
    assert isinstance(await first.acquire(), Permit)
    assert isinstance(await second.acquire(), float)


async def test_the_daily_cap_holds_over_any_rolling_day(redis: Redis, connection_id: uuid.UUID) -> None:
    clock = SharedClock()
    clock.now = (clock.now // DAY_BUCKET_SECONDS + 0.5) * DAY_BUCKET_SECONDS  # half past an hour
    budget = RateBudget(redis, connection_id, per_day=3, clock=clock)
    for _ in range(3):
        assert isinstance(await budget.acquire(), Permit)

    clock.now += 24 * 3600 - 1
    wait = await budget.acquire()
    # The hour of the first calls leaves the count at the end of its 25th hour: never early, at most an hour late.
    assert wait == pytest.approx(DAY_BUCKET_SECONDS / 2 + 1, abs=1e-3)
    clock.now += DAY_BUCKET_SECONDS / 2 + 1
    assert isinstance(await budget.acquire(), Permit)


async def test_slot_gives_up_with_rate_limited_when_the_wait_would_overrun(
    redis: Redis, connection_id: uuid.UUID
) -> None:
    budget = RateBudget(redis, connection_id, per_minute=1)
    async with budget.slot():
        pass
    with pytest.raises(RateLimited) as refused:
        async with budget.slot(max_wait=1):
            pytest.fail("a second call inside the same minute")
    assert refused.value.retry_at is not None
    assert (refused.value.retry_at - datetime.now(UTC)).total_seconds() == pytest.approx(61, abs=1)


async def test_from_spec_enforces_only_the_limits_the_spec_states(redis: Redis, connection_id: uuid.UUID) -> None:
    unlimited = RateBudget.from_spec(redis, connection_id, RateLimitSpec())
    for _ in range(50):
        assert await unlimited.acquire() == Permit(slot=None)
    assert [key async for key in redis.scan_iter(match=BUDGET_KEY.format(connection_id=connection_id, part="*"))] == []

    spec = RateLimitSpec(per_minute=60, per_day=5000, concurrency=5)
    xero = RateBudget.from_spec(redis, connection_id, spec)
    assert (xero.per_minute, xero.per_day, xero.concurrency) == (60, 5000, 5)


async def test_every_key_of_a_budget_expires(redis: Redis, connection_id: uuid.UUID) -> None:
    budget = RateBudget(redis, connection_id, per_minute=60, per_day=5000, concurrency=5)
    permit = await budget.acquire()
    assert isinstance(permit, Permit) and permit.slot is not None
    await budget.defer_until(datetime.fromtimestamp(time.time() + 60, UTC))
    await budget.observe_remaining(10, 60)
    await budget.observe_day_remaining(1000)

    pattern = BUDGET_KEY.format(connection_id=connection_id, part="*")
    keys = [key async for key in redis.scan_iter(match=pattern)]
    assert len(keys) == 6
    for key in keys:
        assert await redis.pttl(key) > 0, key
    await budget.release(permit)
    assert len([key async for key in redis.scan_iter(match=pattern)]) == 5  # the last slot back: its set is gone


async def test_a_budget_with_a_day_reserve_leaves_it_to_the_connections_other_callers(
    redis: Redis, other_redis: Redis, connection_id: uuid.UUID
) -> None:
    clock = SharedClock()
    spec = RateLimitSpec(per_day=10)
    exports = RateBudget.from_spec(redis, connection_id, spec, day_reserve_share=0.2, clock=clock)
    runs = RateBudget.from_spec(other_redis, connection_id, spec, clock=clock)
    assert exports.day_reserve == 2

    granted = [await exports.acquire() for _ in range(9)]
    assert all(isinstance(outcome, Permit) for outcome in granted[:8])
    assert isinstance(granted[8], float) and granted[8] > 0  # the export backlog stops at 8 of 10
    assert isinstance(await runs.acquire(), Permit)
    assert isinstance(await runs.acquire(), Permit)
    assert isinstance(await runs.acquire(), float)  # the day is spent, by nobody beyond it


async def test_the_systems_day_remaining_stops_a_budget_short_of_its_reserve(
    redis: Redis, other_redis: Redis, connection_id: uuid.UUID
) -> None:
    """The system's count wins over ours (a Redis that forgot, calls of another process): at 3 left, exports with a
    reserve of 2 take 1, the others the last 2."""
    clock = SharedClock()
    spec = RateLimitSpec(per_day=5000)
    exports = RateBudget.from_spec(redis, connection_id, spec, day_reserve_share=0.2, clock=clock)
    runs = RateBudget.from_spec(other_redis, connection_id, spec, clock=clock)
    await runs.observe_day_remaining(1003)

    for _ in range(3):
        assert isinstance(await exports.acquire(), Permit)
    assert await exports.acquire() == pytest.approx(DAY_REMAINING_WINDOW_SECONDS, abs=1e-3)
    assert isinstance(await runs.acquire(), Permit)
    clock.now += DAY_REMAINING_WINDOW_SECONDS
    assert isinstance(await exports.acquire(), Permit)  # nothing newer said: it asks the system again


async def test_the_meter_reads_both_remaining_headers_from_every_answer(redis: Redis, connection_id: uuid.UUID) -> None:
    limits = RateLimitSpec(remaining_header="X-Minute-Left", day_remaining_header="X-Day-Left")
    budget = RateBudget(redis, connection_id, day_reserve=5)

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"X-Minute-Left": "59", "X-Day-Left": "5"})

    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as client:
        budget.meter(client, limits)
        await client.get("https://system.test/")
        with pytest.raises(RateLimited):  # 5 left in the day, all of them reserved for others
            await budget.wait(max_wait=0.1)


async def test_paced_at_a_rolling_minutes_limit_its_remaining_header_never_says_zero(
    redis: Redis, connection_id: uuid.UUID
) -> None:
    """A system counting a rolling minute (Xero) reports what is left after each call; the budget reads 0 as 'none
    until the window ends', so its own pace must never fill the window — or every full minute costs another."""
    per_minute, minutes = 60, 5
    clock = SharedClock()
    budget = RateBudget(redis, connection_id, per_minute=per_minute, clock=clock)
    start, answered = clock.now, []
    while clock.now < start + minutes * RATE_WINDOW_SECONDS:
        outcome = await budget.acquire()
        if isinstance(outcome, Permit):
            answered.append(clock.now)
            in_window = len(answered) - bisect.bisect_left(answered, clock.now - RATE_WINDOW_SECONDS)
            await budget.observe_remaining(per_minute - in_window, RATE_WINDOW_SECONDS)
            assert in_window < per_minute, f"the rolling minute filled at call {len(answered)}"
        else:
            clock.now += outcome
    assert len(answered) >= 0.95 * per_minute * minutes
