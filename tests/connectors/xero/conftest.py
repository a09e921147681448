"""A Xero connection on the simulator, opened the way the engine opens one, and the conformance suite's fixtures.

A tenant, a `connections` row whose vault-encrypted tokens come from a real refresh grant with the seeded refresh
token (valid after every reset until used: refresh tokens rotate), `tenant_id` as the connect flow stores it,
settings pointing every URL at the simulator, and `connectors.factory.open_connector`. Everything the fixtures read
goes over Xero's own wire (the API, the token and revocation endpoints) with the same tokens, so they assume no
more of the simulator than the connector does.
"""

import base64
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from connectors.factory import open_connector
from connectors.xero import XeroConnector
from core.crypto import CredentialVault
from core.db import Database
from core.domain import Document, DocumentKind, DocumentLine
from core.models import Connection, ConnectionRole
from core.settings import Settings
from sandbox.xero.constants import CLIENT_ID, CLIENT_SECRET, MAIN_TENANT, SEEDED_REFRESH_TOKEN
from tests.conftest import make_tenant
from tests.sandbox_fixtures import RunningSandbox

TOKEN_OPERATION = "POST /identity/connect/token"
CHECK_OPERATION = "GET Organisation"
WRITE_OPERATION = "PUT Invoices"
API = "/xero/api.xro/2.0"


@dataclass(frozen=True)
class Seeded:
    """Ids of the main organisation's seeded objects a document names."""

    travel: str
    entertainment: str
    card: str
    bank: str
    supplier: str


@dataclass(frozen=True)
class XeroWorld:
    database: Database
    vault: CredentialVault
    settings: Settings
    sandbox: RunningSandbox
    tenant_id: uuid.UUID
    connection_id: uuid.UUID
    seeded: Seeded
    tokens: dict[str, str]
    """The tokens the connection was stored with."""

    async def open(self) -> XeroConnector:
        connector = await open_connector(
            database=self.database,
            vault=self.vault,
            settings=self.settings,
            tenant_id=self.tenant_id,
            connection_id=self.connection_id,
        )
        assert isinstance(connector, XeroConnector)
        return connector

    async def row(self) -> Connection:
        async with self.database.tenant_session(self.tenant_id) as session:
            row = await session.get(Connection, self.connection_id)
            assert row is not None
            session.expunge(row)
            return row

    def get(self, path: str, **params: str) -> dict[str, Any]:
        """A read of the main organisation over the wire, with the stored access token."""
        answer = api_get(self.sandbox, self.tokens, path, **params)
        return answer

    def token_requests(self) -> int:
        with self.sandbox.control() as control:
            answer = control.get("/requests", params={"system": "xero", "operation": TOKEN_OPERATION, "limit": 1})
        count: int = answer.json()["count"]
        return count


def api_get(sandbox: RunningSandbox, tokens: dict[str, str], path: str, **params: str) -> dict[str, Any]:
    headers = {
        "Authorization": f"Bearer {tokens['access_token']}",
        "xero-tenant-id": MAIN_TENANT,
        "Accept": "application/json",
    }
    answer = httpx.get(f"{sandbox.url}{API}{path}", params=params, headers=headers, timeout=10)
    answer.raise_for_status()
    body: dict[str, Any] = answer.json()
    return body


def basic_auth() -> str:
    return "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()


def sandbox_tokens(sandbox: RunningSandbox, refresh_token: str = SEEDED_REFRESH_TOKEN) -> dict[str, str]:
    answer = httpx.post(
        f"{sandbox.url}/xero/identity/connect/token",
        data={"grant_type": "refresh_token", "refresh_token": refresh_token},
        headers={"Authorization": basic_auth(), "Accept": "application/json"},
        timeout=10,
    )
    answer.raise_for_status()
    issued = answer.json()
    return {
        "access_token": issued["access_token"],
        "refresh_token": issued["refresh_token"],
        "expires_at": (datetime.now(UTC) + timedelta(seconds=issued["expires_in"])).isoformat(),
    }


def seeded_ids(sandbox: RunningSandbox, tokens: dict[str, str]) -> Seeded:
    accounts = api_get(sandbox, tokens, "/Accounts")["Accounts"]
    contacts = api_get(sandbox, tokens, "/Contacts", page="1")["Contacts"]

    banks = [row for row in accounts if row.get("Type") == "BANK" and row.get("Status") == "ACTIVE"]
    cards = [row for row in banks if row.get("BankAccountType") == "CREDITCARD"] or banks
    supplier = next(row for row in contacts if row.get("ContactStatus") == "ACTIVE")
    return Seeded(
        travel="493",  # accounts are imported by code, as line items name them
        entertainment="420",
        card=str(cards[0]["AccountID"]),
        bank=str(banks[0]["AccountID"]),
        supplier=str(supplier["ContactID"]),
    )


async def add_connection(
    database: Database, vault: CredentialVault, *, tokens: dict[str, str], settings: dict[str, Any]
) -> tuple[uuid.UUID, uuid.UUID]:
    tenant = await make_tenant(database, "Books Co")
    connection_id = uuid.uuid4()
    async with database.tenant_session(tenant.id) as session:
        session.add(
            Connection(
                id=connection_id,
                tenant_id=tenant.id,
                name="xero",
                provider="xero",
                role=ConnectionRole.DESTINATION.value,
                credentials=vault.encrypt(tokens),
                settings=settings,
                webhook_key=uuid.uuid4().hex,
            )
        )
    return tenant.id, connection_id


@pytest.fixture
def xero_settings(settings: Settings, sandbox: RunningSandbox) -> Settings:
    apps = {"xero": {"client_id": SecretStr(CLIENT_ID), "client_secret": SecretStr(CLIENT_SECRET)}}
    return settings.model_copy(update={"sandbox_url": sandbox.url, "connector_apps": apps})


@pytest.fixture
def vault(settings: Settings) -> CredentialVault:
    return CredentialVault(settings.vault_key_list())


@pytest.fixture
async def world(
    database: Database, vault: CredentialVault, xero_settings: Settings, sandbox: RunningSandbox
) -> XeroWorld:
    tokens = sandbox_tokens(sandbox)
    tenant_id, connection_id = await add_connection(database, vault, tokens=tokens, settings={"tenant_id": MAIN_TENANT})
    seeded = seeded_ids(sandbox, tokens)
    return XeroWorld(database, vault, xero_settings, sandbox, tenant_id, connection_id, seeded, tokens)


@pytest.fixture
async def connector(world: XeroWorld) -> AsyncIterator[XeroConnector]:
    async with await world.open() as opened:
        yield opened


@pytest.fixture
async def broken_connector(
    database: Database, vault: CredentialVault, xero_settings: Settings, sandbox: RunningSandbox
) -> AsyncIterator[XeroConnector]:
    """Tokens Xero never issued: the API refuses the access token, the token endpoint the refresh token."""
    tokens = {
        "access_token": "not-a-xero-token",
        "refresh_token": "not-a-xero-refresh-token",
        "expires_at": (datetime.now(UTC) + timedelta(minutes=25)).isoformat(),
    }
    tenant_id, connection_id = await add_connection(database, vault, tokens=tokens, settings={"tenant_id": MAIN_TENANT})
    seeded = Seeded(*([""] * 5))
    world = XeroWorld(database, vault, xero_settings, sandbox, tenant_id, connection_id, seeded, tokens)
    async with await world.open() as opened:
        yield opened


def bill_of(seeded: Seeded, reference: str, **changes: Any) -> Document:
    lines = (
        DocumentLine(amount=Decimal("120.50"), account=seeded.travel, description="Flight", source_ids=("tx1",)),
        DocumentLine(amount=Decimal("30.25"), account=seeded.entertainment, description="Dinner", source_ids=("tx2",)),
    )
    document = Document(
        kind=DocumentKind.BILL,
        reference=reference,
        transaction_date=date.today(),
        currency="USD",
        base_currency="USD",
        lines=lines,
        counterparty=seeded.supplier,
        memo="Report rp1 of Ana",
    )
    return replace(document, **changes)


@pytest.fixture
def read_operation() -> str:
    return CHECK_OPERATION


@pytest.fixture
def write_operation() -> str:
    return WRITE_OPERATION


@pytest.fixture
def dimension_type() -> str:
    return "account"


@pytest.fixture
def dimension_total(world: XeroWorld) -> int:
    return len(world.get("/Accounts")["Accounts"])


@pytest.fixture
def make_document(world: XeroWorld) -> Callable[[str], Document]:
    return lambda reference: bill_of(world.seeded, reference)


@pytest.fixture
def make_invalid_document(world: XeroWorld) -> Callable[[str], Document]:
    """A bill booked to an account code the organisation does not have."""
    return lambda reference: bill_of(
        world.seeded, reference, lines=(DocumentLine(amount=Decimal("5.00"), account="99999", source_ids=("tx",)),)
    )


@pytest.fixture
def count_documents(world: XeroWorld) -> Callable[[str], Awaitable[int]]:
    async def count(reference: str) -> int:
        rows = world.get("/Invoices", InvoiceNumbers=reference)["Invoices"]
        return len([row for row in rows if row.get("Status") not in ("DELETED", "VOIDED")])

    return count


@pytest.fixture
def expire_access_token(world: XeroWorld) -> Callable[[], Awaitable[None]]:
    """Expire the token where it lives: the stored `expires_at` and the simulator's own record of it."""

    async def expire() -> None:
        async with world.database.tenant_session(world.tenant_id) as session:
            row = await session.get(Connection, world.connection_id)
            assert row is not None and row.credentials is not None
            expired = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
            row.credentials = world.vault.encrypt({**world.vault.decrypt(row.credentials), "expires_at": expired})
        async with httpx.AsyncClient(base_url=f"{world.sandbox.url}/_sandbox/xero", timeout=30) as control:
            (await control.post("/tokens/expire")).raise_for_status()

    return expire


@pytest.fixture
def revoke_refresh_token(world: XeroWorld) -> Callable[[], None]:
    """Revoked the way a person disconnecting the app does: Xero's revocation endpoint."""

    def revoke() -> None:
        httpx.post(
            f"{world.sandbox.url}/xero/identity/connect/revocation",
            data={"token": world.tokens["refresh_token"]},
            headers={"Authorization": basic_auth()},
            timeout=10,
        ).raise_for_status()

    return revoke


@pytest.fixture
def token_requests(world: XeroWorld) -> Callable[[], int]:
    return world.token_requests


@pytest.fixture
def connection_status(world: XeroWorld) -> Callable[[], Awaitable[str]]:
    async def status() -> str:
        return (await world.row()).status

    return status
