"""Export chains against the real Redis: a connection never has more chains than slots, a finished chain frees its
slot, a dead chain's slot frees itself, and a chain that outlived its slot yields to the one that took it."""

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from sync.export_chains import ExportChains
from tests.conftest import REDIS_URL


@pytest.fixture
async def redis() -> AsyncIterator[Redis]:
    client = Redis.from_url(REDIS_URL)
    yield client
    await client.aclose()


async def test_a_connection_has_at_most_its_slots_of_chains(redis: Redis) -> None:
    chains = ExportChains(redis, uuid.uuid4(), slots=2, ttl_seconds=30)
    first, second, third = await chains.take(), await chains.take(), await chains.take()
    assert first is not None and second is not None and third is None
    await chains.release(first)
    assert await chains.take() is not None
    assert await chains.keep(second)


async def test_a_dead_chains_slot_frees_itself(redis: Redis) -> None:
    chains = ExportChains(redis, uuid.uuid4(), slots=1, ttl_seconds=0.2)
    assert await chains.take() is not None
    assert await chains.take() is None
    await asyncio.sleep(0.3)
    assert await chains.take() is not None


async def test_a_chain_that_outlived_its_slot_yields_to_the_new_holder(redis: Redis) -> None:
    chains = ExportChains(redis, uuid.uuid4(), slots=1, ttl_seconds=0.2)
    slow = await chains.take()
    assert slow is not None
    await asyncio.sleep(0.3)
    newer = await chains.take()
    assert newer is not None
    assert not await chains.keep(slow)
    await chains.release(slow)  # not its slot any more: the newer chain keeps it
    assert await chains.keep(newer)
    assert await chains.take() is None


async def test_after_a_flush_a_running_chain_takes_its_slot_again(redis: Redis) -> None:
    connection_id = uuid.uuid4()
    chains = ExportChains(redis, connection_id, slots=1, ttl_seconds=30)
    token = await chains.take()
    assert token is not None
    await redis.delete(f"ledgerline:export-chain:{{{connection_id}}}:0")
    assert await chains.keep(token)
    assert await chains.take() is None
