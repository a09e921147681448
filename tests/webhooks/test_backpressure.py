"""Backpressure: too many deliveries, too many events waiting, or no database connection to spare each answer 429
with Retry-After at once, instead of a timeout; nothing refused is stored."""

import asyncio
from contextlib import AsyncExitStack

import httpx
from sqlalchemy import func, select, update

from core.db import Database
from core.models import WebhookEvent, WebhookState
from tests.conftest import TenantFixture
from tests.webhooks.ingress_support import deliver, ingress, webhook_target, with_limits
from webhooks.ingress import WebhookIngress

__all__ = ["ingress"]  # the fixture, imported so pytest finds it


def _retry_after(response: httpx.Response) -> int:
    assert response.status_code == 429, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    return int(response.headers["retry-after"])


async def _stored(database: Database, owner: TenantFixture) -> int:
    async with database.tenant_session(owner.id) as session:
        return int(await session.scalar(select(func.count()).select_from(WebhookEvent)) or 0)


async def test_exceeding_the_rate_of_a_connection_is_429_with_retry_after(
    client: httpx.AsyncClient, database: Database, tenant: TenantFixture, ingress: WebhookIngress
) -> None:
    target = await webhook_target(client, tenant)
    with_limits(ingress, rate_limit_requests=3, rate_limit_window_seconds=3600)
    for _ in range(3):
        assert (await deliver(client, target)).status_code == 202
    refused = await deliver(client, target)
    assert 1 <= _retry_after(refused) <= 3600
    assert await _stored(database, tenant) == 3
    # Another connection has its own budget.
    assert (await deliver(client, await webhook_target(client, tenant))).status_code == 202


async def test_a_full_inbox_is_429_until_the_dispatcher_catches_up(
    client: httpx.AsyncClient, database: Database, tenant: TenantFixture, ingress: WebhookIngress
) -> None:
    target = await webhook_target(client, tenant)
    with_limits(ingress, inbox_limit=2, inbox_check_every_seconds=0.0)
    assert (await deliver(client, target)).status_code == 202
    assert (await deliver(client, target)).status_code == 202
    assert _retry_after(await deliver(client, target)) > 0
    async with database.tenant_session(tenant.id) as session:
        await session.execute(update(WebhookEvent).values(state=WebhookState.PROCESSED.value))
    assert (await deliver(client, target)).status_code == 202


async def test_an_exhausted_pool_is_429_quickly_and_recovers(
    client: httpx.AsyncClient, tenant: TenantFixture, ingress: WebhookIngress
) -> None:
    target = await webhook_target(client, tenant)
    async with AsyncExitStack() as held:
        for _ in range(ingress.pool.size):
            await held.enter_async_context(ingress.pool.connection(wait_seconds=5))
        with_limits(ingress, pool_wait_seconds=0.05)
        started = asyncio.get_running_loop().time()
        busy = await deliver(client, target)
        assert _retry_after(busy) >= 1
        assert asyncio.get_running_loop().time() - started < 2
    assert (await deliver(client, target)).status_code == 202
