"""The export job in-process against the sandbox: a job that finds a full batch due starts a sibling chain, so the
connection's second slot works too; a sibling that finds every slot taken ends at once."""

import uuid
from collections.abc import AsyncIterator

import pytest

from core.crypto import CredentialVault
from core.db import Database
from core.settings import Settings
from sync.export_chains import ExportChains
from sync.jobs import export_connection
from sync.queue import Queue
from tests.sandbox_fixtures import RunningSandbox
from tests.sync.conftest import Books, sandbox_settings
from tests.sync.workers import item_states


@pytest.fixture
async def context(settings: Settings, sandbox: RunningSandbox, database: Database) -> AsyncIterator[dict[str, object]]:
    configured = sandbox_settings(settings, sandbox)
    queue = await Queue.connect(configured.redis_url, f"test-{uuid.uuid4().hex[:8]}")
    try:
        yield {
            "database": database,
            "queue": queue,
            "settings": configured,
            "vault": CredentialVault(configured.vault_key_list()),
            "worker_id": "test",
        }
    finally:
        await queue.redis.delete(queue.queue_name)
        await queue.close()


async def queued_job_ids(context: dict[str, object]) -> list[str]:
    queue = context["queue"]
    assert isinstance(queue, Queue)
    return [member.decode() for member in await queue.redis.zrange(queue.queue_name, 0, -1)]


async def test_a_job_with_a_full_batch_due_starts_a_sibling_chain(
    database: Database, books: Books, context: dict[str, object]
) -> None:
    await books.add_reports(database, 57)  # 60 bills: the first batch of 50 is full
    totals = await export_connection(context, str(books.tenant.id), str(books.destination_id))

    assert totals["succeeded"] == 60
    assert await item_states(database, books.tenant.id) == {"succeeded": 60}
    siblings = [job for job in await queued_job_ids(context) if job.startswith(f"export:{books.destination_id}:more:")]
    assert len(siblings) == 1


async def test_a_small_backlog_starts_no_sibling_and_a_sibling_without_a_free_slot_ends_at_once(
    database: Database, books: Books, context: dict[str, object]
) -> None:
    totals = await export_connection(context, str(books.tenant.id), str(books.destination_id))
    assert totals["succeeded"] == 3
    assert await queued_job_ids(context) == []

    await books.add_reports(database, 57)
    queue = context["queue"]
    assert isinstance(queue, Queue)
    chains = ExportChains(queue.redis, books.destination_id, slots=2, ttl_seconds=30)
    held = [await chains.take(), await chains.take()]  # two chains already work the connection
    try:
        assert await export_connection(context, str(books.tenant.id), str(books.destination_id)) == {"busy": 1}
    finally:
        for token in held:
            assert token is not None
            await chains.release(token)
    assert await item_states(database, books.tenant.id) == {"succeeded": 3, "pending": 57}
