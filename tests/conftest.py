"""Shared fixtures: a uniquely named, migrated PostgreSQL database per test session, real Redis, the real app.

Nothing of ours is mocked. Set LEDGERLINE_TEST_DATABASE_URL / LEDGERLINE_TEST_REDIS_URL to point elsewhere; when
nothing answers there, the session starts the embedded PostgreSQL and Redis and says so in its header.
"""

import os
import secrets
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.pool import NullPool

from core import migrate
from core.api_keys import issue_key
from core.audit import append_event
from core.crypto import CredentialVault
from core.db import Database, sqlalchemy_url
from core.models import ApiKeyRole, Tenant
from core.settings import Settings
from ledgerline.app import create_app
from tests.services import find_or_start

pytest_plugins = ["tests.sandbox_fixtures"]

SERVICES = find_or_start(
    os.environ.get("LEDGERLINE_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
    os.environ.get("LEDGERLINE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0"),
)
SERVER_URL = SERVICES.database_url


def _worker_redis(url: str) -> str:
    """Under pytest-xdist each worker keeps to a Redis database of its own (its queue, budgets, throttles and a test's
    flush never reach another worker's); its PostgreSQL database is its session's own already."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not worker.startswith("gw"):
        return url
    return urlsplit(url)._replace(path=f"/{1 + int(worker.removeprefix('gw'))}").geturl()


REDIS_URL = _worker_redis(SERVICES.redis_url)
LEDGERLINE_CLI = str(Path(sys.executable).with_name("ledgerline"))
"""The installed console script of the environment running the tests."""


def pytest_report_header() -> list[str]:
    return SERVICES.notices


def pytest_unconfigure() -> None:
    SERVICES.stop()


def _admin_execute(statement: str) -> None:
    engine = create_engine(sqlalchemy_url(SERVER_URL), poolclass=NullPool, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(statement))
    engine.dispose()


def create_database(prefix: str = "ledgerline_test") -> str:
    """A new empty database on the test server; returns its owner URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    _admin_execute(f'CREATE DATABASE "{name}"')
    return make_url(SERVER_URL).set(database=name).render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    _admin_execute(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    url = create_database()
    migrate.upgrade(url)
    yield url
    drop_database(url)


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    return Settings(
        env="test",
        database_url=database_url,
        redis_url=REDIS_URL,
        queue_name=f"ledgerline:test:{uuid.uuid4().hex[:8]}",
        vault_keys=CredentialVault.new_key(),
        session_secret=secrets.token_urlsafe(32),
        log_json=True,
    )


def settings_env(settings: Settings) -> dict[str, str]:
    """The environment a subprocess (`ledgerline …`) needs to see the same settings."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("LEDGERLINE_")}
    env.update(
        LEDGERLINE_ENV=settings.env,
        LEDGERLINE_DATABASE_URL=settings.database_url or "",
        LEDGERLINE_REDIS_URL=settings.redis_url or "",
        LEDGERLINE_QUEUE_NAME=settings.queue_name,
        LEDGERLINE_VAULT_KEYS=settings.vault_keys.get_secret_value(),
        LEDGERLINE_SESSION_SECRET=settings.session_secret.get_secret_value(),
    )
    return env


@pytest.fixture(scope="session")
async def database(settings: Settings) -> AsyncIterator[Database]:
    database = Database(settings)
    yield database
    await database.dispose()


@pytest.fixture(scope="session")
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://ledgerline.test") as client:
        yield client


@dataclass(frozen=True)
class TenantFixture:
    id: uuid.UUID
    slug: str
    key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}


async def make_tenant(database: Database, name: str = "Acme") -> TenantFixture:
    """A tenant and an admin key, created the way the CLI does (owner session, audited)."""
    slug = f"{name.lower()}-{uuid.uuid4().hex[:8]}"
    async with database.owner_session() as session:
        tenant = Tenant(id=uuid.uuid4(), name=name, slug=slug)
        session.add(tenant)
        await session.flush()
        issued = issue_key(name="test", role=ApiKeyRole.ADMIN, tenant_id=tenant.id)
        session.add(issued.row)
        await append_event(
            session, tenant_id=tenant.id, actor="test", action="tenant.create", entity_type="tenants", entity_id=slug
        )
    return TenantFixture(id=tenant.id, slug=slug, key=issued.plaintext)


@pytest.fixture
async def tenant(database: Database) -> TenantFixture:
    return await make_tenant(database, "Acme")


@pytest.fixture
async def other_tenant(database: Database) -> TenantFixture:
    return await make_tenant(database, "Globex")
