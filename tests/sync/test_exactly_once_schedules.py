"""Exactly once under any mix of faults (issue 15): seeded schedules of combined faults, then the simulator's bills.

Each schedule (`tests/sync/schedules.py`) mixes export batches with commit-then-fail writes (then an error or a
hang), failing and rate-limited lookups and reads, worker kills at a random await point, lease expiry under a slow
destination with a second worker claiming, settings saves that regroup, expenses added to, moved between and removed
from reports, replays, skips, "export again", closed periods and missing mappings. After the faults stop and the
system settles, Intacct must hold every exportable expense in exactly one bill, no expense in two and no reference
twice.

`LEDGERLINE_SCHEDULES` sets how many schedules run (fixed seeds, plus one random seed per run); `make chaos` runs
5,000. `LEDGERLINE_SCHEDULE_SEED=<seed>` replays one schedule: each failure names its seed. Two schedules run at a
time, each against its own simulator server (faults are per simulator) and its own tenant.
"""

import asyncio
import os
import secrets
from collections.abc import AsyncIterator, Iterator

import pytest
from redis.asyncio import Redis

from core.db import Database
from core.settings import Settings
from sandbox.app import Sandbox
from sandbox.constants import DEFAULT_SEED
from sandbox.server import BackgroundServer
from tests.conftest import REDIS_URL
from tests.sandbox_fixtures import RunningSandbox
from tests.sync.schedules import Observed, make_plan, play

SCHEDULES_ENV = "LEDGERLINE_SCHEDULES"
SEED_ENV = "LEDGERLINE_SCHEDULE_SEED"
DEFAULT_SCHEDULES = 200
FIRST_FIXED_SEED = 1500
LANES = 2
"""Schedules played at once: while one waits on a timeout or a slow answer, the other runs."""


def _seeds() -> list[int]:
    """One seed when replaying one; else fixed seeds and a random one (new every run)."""
    chosen = os.environ.get(SEED_ENV)
    if chosen:
        return [int(chosen)]
    count = int(os.environ.get(SCHEDULES_ENV, str(DEFAULT_SCHEDULES)))
    return [*range(FIRST_FIXED_SEED, FIRST_FIXED_SEED + count - 1), FIRST_FIXED_SEED + count + secrets.randbelow(2**31)]


SEEDS = _seeds()
GROUPS = [tuple(SEEDS[start : start + LANES]) for start in range(0, len(SEEDS), LANES)]


@pytest.fixture(scope="module")
async def redis() -> AsyncIterator[Redis]:
    client = Redis.from_url(REDIS_URL)
    yield client
    await client.aclose()


@pytest.fixture(scope="module")
def lanes(running_sandbox: RunningSandbox) -> Iterator[list[RunningSandbox]]:
    """The session's simulator server and more of their own, one per schedule played at once."""
    boxes = [Sandbox(seed=DEFAULT_SEED) for _ in range(LANES - 1)]
    servers = [BackgroundServer(box.asgi()).start() for box in boxes]
    try:
        yield [running_sandbox, *(RunningSandbox(box, server.url) for box, server in zip(boxes, servers, strict=True))]
    finally:
        for server in servers:
            server.stop()


def _group_id(group: tuple[int, ...]) -> str:
    """The run's random seed is named `random`: pytest-xdist's workers each draw one and must collect the same ids (a
    failure names the seed)."""
    return "seeds=" + "+".join("random" if len(SEEDS) > 1 and seed == SEEDS[-1] else str(seed) for seed in group)


@pytest.mark.parametrize("seeds", GROUPS, ids=[_group_id(group) for group in GROUPS])
async def test_schedules_of_combined_faults_export_every_expense_exactly_once(
    seeds: tuple[int, ...], database: Database, settings: Settings, lanes: list[RunningSandbox], redis: Redis
) -> None:
    played = await asyncio.gather(
        *(
            play(make_plan(seed), database=database, settings=settings, sandbox=lane, redis=redis)
            for seed, lane in zip(seeds, lanes, strict=False)
        ),
        return_exceptions=True,
    )
    failures = []
    for seed, outcome in zip(seeds, played, strict=True):
        if isinstance(outcome, BaseException):
            failures.append(f"seed {seed} crashed; replay with {SEED_ENV}={seed}\n{outcome}")
            continue
        observed, story = outcome
        assert isinstance(observed, Observed)
        if observed.problems:
            failures.append(
                f"seed {seed}: {len(observed.problems)} problem(s); replay with {SEED_ENV}={seed}\n"
                + "\n".join(observed.problems)
                + "\n"
                + story
            )
    assert not failures, "\n\n".join(failures)
