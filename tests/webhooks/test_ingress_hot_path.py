"""The ingress's shortcuts never change an answer: a remembered lookup is checked again by the storing transaction,
a pooled connection the server dropped is replaced, and the batched bell writes jobs arq runs."""

import asyncio
import uuid

import httpx
import pytest
from arq.connections import ArqRedis
from arq.jobs import Job
from fastapi import FastAPI
from redis.asyncio import ConnectionPool
from sqlalchemy import delete, func, select, text, update

from core.db import Database
from core.models import Connection, WebhookEvent
from sandbox.server import free_port
from sync.queue import Queue
from tests.conftest import TenantFixture
from tests.webhooks.ingress_support import WebhookTarget, deliver, fyle_payload, ingress, webhook_target
from webhooks.bell import DispatchBell
from webhooks.constants import INGRESS_APPLICATION_NAME, PROCESS_JOB, PROCESS_JOB_ID
from webhooks.ingress import WebhookIngress

__all__ = ["ingress"]  # the fixture, imported so pytest finds it


async def _stored(database: Database, owner: TenantFixture, target: WebhookTarget) -> int:
    async with database.tenant_session(owner.id) as session:
        count = await session.scalar(
            select(func.count()).select_from(WebhookEvent).where(WebhookEvent.connection_id == target.connection_id)
        )
    return int(count or 0)


def _key(target: WebhookTarget) -> str:
    return target.path.rsplit("/", 1)[1]


async def test_a_remembered_lookup_is_checked_again_when_the_key_moves_or_the_connection_goes(
    client: httpx.AsyncClient, database: Database, tenant: TenantFixture, ingress: WebhookIngress
) -> None:
    target = await webhook_target(client, tenant)
    for _ in range(2):
        assert (await deliver(client, target)).status_code == 202
    assert ingress.lookups.get(_key(target)) is not None, "the second delivery could take the one-trip path"

    async with database.tenant_session(tenant.id) as session:
        await session.execute(
            update(Connection).where(Connection.id == target.connection_id).values(webhook_key=uuid.uuid4().hex)
        )
    moved = await deliver(client, target)
    assert moved.status_code == 404, moved.text
    assert ingress.lookups.get(_key(target)) is None

    other = await webhook_target(client, tenant)
    assert (await deliver(client, other)).status_code == 202
    assert ingress.lookups.get(_key(other)) is not None
    async with database.tenant_session(tenant.id) as session:
        await session.execute(delete(Connection).where(Connection.id == other.connection_id))
    assert (await deliver(client, other)).status_code == 404
    assert await _stored(database, tenant, target) == 2


async def test_a_remembered_lookup_still_tells_a_redelivery_from_a_new_event(
    client: httpx.AsyncClient, database: Database, tenant: TenantFixture
) -> None:
    target = await webhook_target(client, tenant)
    assert (await deliver(client, target, message_id="msg_first")).status_code == 202
    again = await deliver(client, target, fyle_payload("other"), message_id="msg_first")
    assert (again.status_code, again.json()) == (200, {"outcome": "duplicate"})
    assert (await deliver(client, target, message_id="msg_second")).status_code == 202
    assert await _stored(database, tenant, target) == 2


async def test_a_payload_postgresql_refuses_is_400_on_the_one_trip_path_too(
    client: httpx.AsyncClient, database: Database, tenant: TenantFixture
) -> None:
    target = await webhook_target(client, tenant)
    assert (await deliver(client, target)).status_code == 202
    refused = await deliver(client, target, {"text": "a\u0000b"})
    assert refused.status_code == 400, refused.text
    assert refused.json()["type"].endswith("unstorable-payload")
    assert (await deliver(client, target)).status_code == 202, "the connection went back to the pool usable"
    assert await _stored(database, tenant, target) == 2


async def test_pooled_connections_the_server_dropped_are_replaced_without_losing_a_delivery(
    app: FastAPI, client: httpx.AsyncClient, database: Database, tenant: TenantFixture, ingress: WebhookIngress
) -> None:
    target = await webhook_target(client, tenant)
    await asyncio.gather(*(deliver(client, target) for _ in range(4)))  # several connections in the pool
    async with database.owner_session() as session:
        dropped = await session.scalar(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE application_name = :name AND datname = current_database()"
            ),
            {"name": INGRESS_APPLICATION_NAME},
        )
    assert dropped
    response = await deliver(client, target)
    assert response.status_code == 202, response.text
    assert await _stored(database, tenant, target) == 5


async def test_events_rung_together_are_jobs_arq_reads_back(app: FastAPI, queue_name: str) -> None:
    queue: Queue = app.state.queue
    bell = DispatchBell(queue)
    tenant_id, events = uuid.uuid4(), [uuid.uuid4() for _ in range(25)]
    await asyncio.gather(*(bell.ring(tenant_id=tenant_id, event_row_id=event) for event in events))
    queued = {item.decode() for item in await queue.redis.zrange(queue_name, 0, -1)}
    for event in events:
        job_id = PROCESS_JOB_ID.format(event_id=event)
        assert job_id in queued
        info = await Job(job_id, queue.redis, _queue_name=queue_name).info()
        assert info is not None and (info.function, info.args) == (PROCESS_JOB, (str(tenant_id), str(event)))
        await queue.redis.delete(f"arq:job:{job_id}")
        await queue.redis.zrem(queue_name, job_id)


async def test_a_bell_that_cannot_reach_redis_logs_and_returns() -> None:
    """The event stays `received` for the reconciler (`test_reconcile_rings_again_for_received_events`)."""
    unreachable = ArqRedis(connection_pool=ConnectionPool(host="127.0.0.1", port=free_port()))
    bell = DispatchBell(Queue(unreachable, "ledgerline:test:nowhere"))
    try:
        async with asyncio.timeout(10):
            await bell.ring(tenant_id=uuid.uuid4(), event_row_id=uuid.uuid4())
            await bell.quiet()
    finally:
        await unreachable.aclose()


@pytest.fixture
def queue_name(app: FastAPI) -> str:
    name: str = app.state.queue.queue_name
    return name
