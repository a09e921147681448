"""What a worker counts while it exports: outcomes by error class, destination call latency, rate-budget waits.

Counters are process-wide, so each test compares before and after.
"""

import uuid
from collections.abc import AsyncIterator

import pytest
from prometheus_client import REGISTRY
from redis.asyncio import Redis
from sqlalchemy import update

from core.db import Database
from core.errors import RateLimited
from core.models import Mapping
from sync.constants import BUDGET_KEY
from sync.export_engine import ExportEngine
from sync.rate_budget import RateBudget
from tests.conftest import REDIS_URL
from tests.sandbox_fixtures import RunningSandbox
from tests.sync.conftest import Books


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def exports(outcome: str, error_class: str) -> float:
    return sample("ledgerline_exports_total", outcome=outcome, error_class=error_class)


def pushes(outcome: str) -> float:
    return sample(
        "ledgerline_destination_call_duration_seconds_count", system="intacct", operation="push", outcome=outcome
    )


async def test_a_successful_export_counts_each_item_and_times_the_push(database: Database, books: Books) -> None:
    before = exports("succeeded", "none"), pushes("answered")
    seconds_before = sample(
        "ledgerline_destination_call_duration_seconds_sum", system="intacct", operation="push", outcome="answered"
    )
    report = await ExportEngine(database, owner="w1").run_batch(
        books.connector, tenant_id=books.tenant.id, connection_id=books.destination_id
    )
    assert report.succeeded == 3
    assert exports("succeeded", "none") - before[0] == 3
    assert pushes("answered") - before[1] == 1  # three bills fit in one call of the batch size
    seconds = sample(
        "ledgerline_destination_call_duration_seconds_sum", system="intacct", operation="push", outcome="answered"
    )
    assert seconds > seconds_before


async def test_a_missing_mapping_counts_as_needs_action_of_class_mapping_without_a_call(
    database: Database, books: Books
) -> None:
    async with database.tenant_session(books.tenant.id) as session:
        await session.execute(update(Mapping).where(Mapping.source_type == "category").values(source_value="Lodging"))
    before = exports("needs_action", "mapping"), pushes("answered")
    await ExportEngine(database, owner="w1").run_batch(
        books.connector, tenant_id=books.tenant.id, connection_id=books.destination_id
    )
    assert exports("needs_action", "mapping") - before[0] == 3
    assert pushes("answered") == before[1]


async def test_an_outage_counts_retries_of_unknown_outcome(
    database: Database, books: Books, sandbox: RunningSandbox
) -> None:
    with sandbox.control() as control:
        control.post(
            "/faults", json={"system": "intacct", "operation": "create:*", "mode": "error", "status": 503}
        ).raise_for_status()
    before = exports("retrying", "outcome_unknown"), pushes("outcome_unknown")
    await ExportEngine(database, owner="w1").run_batch(
        books.connector, tenant_id=books.tenant.id, connection_id=books.destination_id
    )
    assert exports("retrying", "outcome_unknown") - before[0] == 3
    assert pushes("outcome_unknown") - before[1] == 1


@pytest.fixture
async def redis() -> AsyncIterator[Redis]:
    client = Redis.from_url(REDIS_URL)
    yield client
    await client.aclose()


@pytest.fixture
async def budget(redis: Redis) -> AsyncIterator[RateBudget]:
    connection_id = uuid.uuid4()
    yield RateBudget(redis, connection_id, per_minute=600)  # one call every ~0.1 s
    keys = [key async for key in redis.scan_iter(match=BUDGET_KEY.format(connection_id=connection_id, part="*"))]
    if keys:
        await redis.delete(*keys)


async def test_rate_budget_waits_and_refusals_are_counted_with_their_seconds(budget: RateBudget) -> None:
    waits, seconds = (
        sample("ledgerline_rate_budget_waits_total", grain="request"),
        sample("ledgerline_rate_budget_wait_seconds_total", grain="request"),
    )
    refusals = sample("ledgerline_rate_budget_refusals_total", grain="request")
    await budget.wait(hold=False)
    await budget.wait(hold=False)  # the bucket's token is back only after ~0.1 s: one sleep
    assert sample("ledgerline_rate_budget_waits_total", grain="request") - waits >= 1
    slept = sample("ledgerline_rate_budget_wait_seconds_total", grain="request") - seconds
    assert 0 < slept <= 0.2
    # A budget of one call a minute, used up: the next call cannot wait, however slow the machine (a 0.1 s token
    # could be back before a busy machine asks again).
    scarce_id = uuid.uuid4()
    scarce = RateBudget(budget.redis, scarce_id, per_minute=1)
    try:
        await scarce.wait(hold=False)
        with pytest.raises(RateLimited):
            await scarce.wait(hold=False, max_wait=0)
    finally:
        pattern = BUDGET_KEY.format(connection_id=scarce_id, part="*")
        await budget.redis.delete(*[key async for key in budget.redis.scan_iter(match=pattern)])
    assert sample("ledgerline_rate_budget_refusals_total", grain="request") - refusals == 1
