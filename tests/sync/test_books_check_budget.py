"""The books check takes its turns in the connection's shared rate budget, as the workers do. It reads every
document back; unpaced, under an allowance the workers keep busy (Xero's 60 calls a minute) it met a 429 a few calls
in, retried from the start, spent the freed calls again and never finished (the Xero chaos scenario, one run in two).
"""

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta

import pytest
from redis.asyncio import Redis

from connectors.base import DestinationConnector
from connectors.factory import open_connector
from connectors.registry import connector_class, destination_vocabulary
from core.crypto import CredentialVault
from core.db import Database
from core.errors import RateLimited
from core.models import Connection
from core.repository import TenantRepository
from core.settings import Settings
from mappings.settings_store import save_settings
from sync.books_check import check_connection_books
from sync.constants import BUDGET_REFUSAL_CODE
from sync.import_engine import import_dimensions
from sync.rate_budget import RateBudget
from tests.e2e.conftest import product_settings  # noqa: F401 - the e2e fixture, reused here
from tests.e2e.test_xero_export import FAST_PER_MINUTE, add_xero, export_settings, xero_requests
from tests.sandbox_fixtures import RunningSandbox
from tests.sync.fyle_source import make_source

DEFERRED_SECONDS = 120
"""Longer than the budget lets one call wait: a call asked for while the connection is deferred is refused at once."""


@pytest.fixture
async def xero_connection(
    database: Database,
    product_settings: Settings,  # noqa: F811 - the fixture imported above
    sandbox: RunningSandbox,
) -> AsyncIterator[tuple[uuid.UUID, uuid.UUID]]:
    source = await make_source(database, product_settings, sandbox)
    connection_id = await add_xero(database, product_settings, sandbox, source.tenant_id, per_minute=FAST_PER_MINUTE)
    vault = CredentialVault(product_settings.vault_key_list())
    connector = await open_connector(
        database=database,
        vault=vault,
        settings=product_settings,
        tenant_id=source.tenant_id,
        connection_id=connection_id,
    )
    assert isinstance(connector, DestinationConnector)
    async with connector:  # the accounts the settings name
        await import_dimensions(database, connector, tenant_id=source.tenant_id, connection_id=connection_id, actor="t")
    async with database.tenant_session(source.tenant_id) as session:  # bills and spend money: kinds read back
        destination = await session.get(Connection, connection_id)
        assert destination is not None
        await save_settings(
            TenantRepository(session, source.tenant_id, "admin"),
            destination=destination,
            settings=export_settings(sandbox),
            vocabulary=destination_vocabulary("xero"),
        )
    yield source.tenant_id, connection_id


async def check(database: Database, settings: Settings, tenant_id: uuid.UUID, connection_id: uuid.UUID) -> None:
    await check_connection_books(
        database=database,
        settings=settings,
        tenant_id=tenant_id,
        connection_id=connection_id,
        since=date(2000, 1, 1),
        until=datetime.now(UTC).date(),
    )


async def test_a_books_check_waits_its_turn_in_the_connections_budget_instead_of_spending_the_allowance(
    database: Database,
    product_settings: Settings,  # noqa: F811 - the fixture imported above
    sandbox: RunningSandbox,
    xero_connection: tuple[uuid.UUID, uuid.UUID],
) -> None:
    tenant_id, connection_id = xero_connection
    assert product_settings.redis_url is not None
    redis = Redis.from_url(product_settings.redis_url)
    try:
        spec = connector_class("xero").spec.rate_limit
        budget = RateBudget.from_spec(redis, connection_id, spec, None)
        # Xero told a worker to wait: nobody calls it until then, the books check included.
        await budget.defer_until(datetime.now(UTC) + timedelta(seconds=DEFERRED_SECONDS))
        before = len(xero_requests(sandbox))
        with pytest.raises(RateLimited) as refused:
            await check(database, product_settings, tenant_id, connection_id)
        assert refused.value.code == BUDGET_REFUSAL_CODE, refused.value
        assert refused.value.retry_at is not None and refused.value.retry_at > datetime.now(UTC)
        assert len(xero_requests(sandbox)) == before, "the check called Xero while the connection was deferred"

    finally:
        await redis.aclose()
