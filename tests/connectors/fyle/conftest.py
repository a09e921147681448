"""A Fyle connection on the sandbox, opened the way the engine opens one.

A tenant, a `connections` row whose vault-encrypted tokens come from a real refresh grant with the seeded refresh
token, `cluster_domain` learnt from `POST /oauth/cluster` (as the connect flow should), settings that point every
URL at the sandbox, and `connectors.factory.open_connector`.
"""

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from connectors.factory import open_connector
from connectors.fyle import FyleConnector
from core.crypto import CredentialVault
from core.db import Database
from core.models import Connection, ConnectionRole
from core.settings import Settings
from sandbox.fyle.constants import (
    ACCESS_TOKEN_TTL_SECONDS,
    FYLE_SANDBOX_CLIENT_ID,
    FYLE_SANDBOX_CLIENT_SECRET,
    FYLE_SANDBOX_REFRESH_TOKEN,
)
from tests.conftest import make_tenant
from tests.sandbox_fixtures import RunningSandbox

TOKEN_OPERATION = "POST /oauth/token"
CHECK_OPERATION = "GET /platform/v1/admin/employees"


@dataclass(frozen=True)
class FyleConnection:
    tenant_id: uuid.UUID
    connection_id: uuid.UUID


@dataclass(frozen=True)
class FyleWorld:
    """Everything a test needs to open connectors of one connection and to look behind them."""

    database: Database
    vault: CredentialVault
    settings: Settings
    sandbox: RunningSandbox
    connection: FyleConnection

    async def open(self) -> FyleConnector:
        """A connector with its own token store, as a separate worker process would have."""
        connector = await open_connector(
            database=self.database,
            vault=self.vault,
            settings=self.settings,
            tenant_id=self.connection.tenant_id,
            connection_id=self.connection.connection_id,
        )
        assert isinstance(connector, FyleConnector)
        return connector

    async def row(self) -> Connection:
        async with self.database.tenant_session(self.connection.tenant_id) as session:
            row = await session.get(Connection, self.connection.connection_id)
            assert row is not None
            session.expunge(row)
            return row

    async def stored_tokens(self) -> dict[str, Any]:
        row = await self.row()
        assert row.credentials is not None
        return self.vault.decrypt(row.credentials)

    async def expire_stored_token(self) -> None:
        async with self.database.tenant_session(self.connection.tenant_id) as session:
            row = await session.get(Connection, self.connection.connection_id)
            assert row is not None and row.credentials is not None
            expired = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
            row.credentials = self.vault.encrypt({**self.vault.decrypt(row.credentials), "expires_at": expired})

    def token_requests(self) -> int:
        with self.sandbox.control() as control:
            answer = control.get("/requests", params={"system": "fyle", "operation": TOKEN_OPERATION, "limit": 1})
        count: int = answer.json()["count"]
        return count


def sandbox_grant(sandbox: RunningSandbox) -> tuple[dict[str, Any], str]:
    """Tokens from a refresh grant with the seeded refresh token, and the org's cluster domain."""
    base = f"{sandbox.url}/fyle"
    body = {
        "grant_type": "refresh_token",
        "refresh_token": FYLE_SANDBOX_REFRESH_TOKEN,
        "client_id": FYLE_SANDBOX_CLIENT_ID,
        "client_secret": FYLE_SANDBOX_CLIENT_SECRET,
    }
    issued = httpx.post(f"{base}/oauth/token", json=body, timeout=10).json()
    headers = {"Authorization": f"Bearer {issued['access_token']}"}
    cluster = httpx.post(f"{base}/oauth/cluster", headers=headers, timeout=10).json()["cluster_domain"]
    tokens = {
        "access_token": issued["access_token"],
        "refresh_token": FYLE_SANDBOX_REFRESH_TOKEN,
        "expires_at": (datetime.now(UTC) + timedelta(seconds=issued["expires_in"])).isoformat(),
    }
    return tokens, cluster


async def add_connection(
    database: Database, vault: CredentialVault, *, tokens: dict[str, Any], settings: dict[str, Any]
) -> FyleConnection:
    tenant = await make_tenant(database, "Fyler")
    connection_id = uuid.uuid4()
    async with database.tenant_session(tenant.id) as session:
        session.add(
            Connection(
                id=connection_id,
                tenant_id=tenant.id,
                name="fyle",
                provider="fyle",
                role=ConnectionRole.SOURCE.value,
                credentials=vault.encrypt(tokens),
                settings=settings,
                webhook_key=uuid.uuid4().hex,
            )
        )
    return FyleConnection(tenant_id=tenant.id, connection_id=connection_id)


@pytest.fixture
def fyle_settings(settings: Settings, sandbox: RunningSandbox) -> Settings:
    apps = {
        "fyle": {"client_id": SecretStr(FYLE_SANDBOX_CLIENT_ID), "client_secret": SecretStr(FYLE_SANDBOX_CLIENT_SECRET)}
    }
    return settings.model_copy(update={"sandbox_url": sandbox.url, "connector_apps": apps})


@pytest.fixture
def vault(settings: Settings) -> CredentialVault:
    return CredentialVault(settings.vault_key_list())


@pytest.fixture
async def world(
    database: Database, vault: CredentialVault, fyle_settings: Settings, sandbox: RunningSandbox
) -> FyleWorld:
    tokens, cluster = sandbox_grant(sandbox)
    connection = await add_connection(database, vault, tokens=tokens, settings={"cluster_domain": cluster})
    return FyleWorld(database, vault, fyle_settings, sandbox, connection)


@pytest.fixture
async def connector(world: FyleWorld) -> AsyncIterator[FyleConnector]:
    async with await world.open() as opened:
        assert isinstance(opened, FyleConnector)
        yield opened


@pytest.fixture
async def broken_connector(
    database: Database, vault: CredentialVault, fyle_settings: Settings, sandbox: RunningSandbox
) -> AsyncIterator[FyleConnector]:
    """Tokens Fyle never issued: the API refuses the access token and the token endpoint the refresh token."""
    tokens = {
        "access_token": "not-a-fyle-token",
        "refresh_token": "not-a-fyle-refresh-token",
        "expires_at": (datetime.now(UTC) + timedelta(hours=1)).isoformat(),
    }
    connection = await add_connection(database, vault, tokens=tokens, settings={})
    async with await FyleWorld(database, vault, fyle_settings, sandbox, connection).open() as opened:
        assert isinstance(opened, FyleConnector)
        yield opened


@pytest.fixture
def read_operation() -> str:
    return CHECK_OPERATION


@pytest.fixture
def expire_access_token(world: FyleWorld) -> Callable[[], Awaitable[None]]:
    """Expire the token everywhere it lives: the stored `expires_at` (what a freshly opened token store reads) and
    Fyle's own clock (so a token an open store already cached is refused with 401). Either path then makes the
    connector refresh exactly once."""

    async def expire() -> None:
        await world.expire_stored_token()
        with world.sandbox.control() as control:
            control.put("/clock", json={"advance_seconds": ACCESS_TOKEN_TTL_SECONDS + 1}).raise_for_status()

    return expire


@pytest.fixture
def revoke_refresh_token(world: FyleWorld) -> Callable[[], None]:
    def revoke() -> None:
        with world.sandbox.control() as control:
            answer = control.post("/fyle/refresh_tokens/revoke", json={"refresh_token": FYLE_SANDBOX_REFRESH_TOKEN})
            answer.raise_for_status()

    return revoke


@pytest.fixture
def token_requests(world: FyleWorld) -> Callable[[], int]:
    return world.token_requests


@pytest.fixture
def connection_status(world: FyleWorld) -> Callable[[], Awaitable[str]]:
    async def status() -> str:
        return (await world.row()).status

    return status


def sandbox_counts(sandbox: RunningSandbox) -> dict[str, int]:
    with sandbox.control() as control:
        counts: dict[str, int] = control.get("/fyle/counts").json()
    return counts


def sandbox_writes(sandbox: RunningSandbox, kind: str) -> list[dict[str, Any]]:
    with sandbox.control() as control:
        entries: list[dict[str, Any]] = control.get("/fyle/writes", params={"kind": kind}).json()["data"]
    return [entry["data"] for entry in entries]
