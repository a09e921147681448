"""A QuickBooks connection on the sandbox, opened the way the engine opens one, and the conformance suite's fixtures.

A tenant, a `connections` row whose vault-encrypted tokens come from a real refresh grant with the seeded refresh
token of the main company, `realm_id` as the connect flow stores it, settings pointing every URL at the sandbox,
and `connectors.factory.open_connector`. Documents are built from the seeded chart of accounts, found by name.
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
from connectors.quickbooks import QuickBooksConnector
from connectors.quickbooks.references import doc_number
from core.crypto import CredentialVault
from core.db import Database
from core.domain import Document, DocumentKind, DocumentLine
from core.models import Connection, ConnectionRole
from core.settings import Settings
from sandbox.quickbooks.constants import CLIENT_ID, CLIENT_SECRET, MAIN_REALM, SEEDED_REFRESH_TOKEN_PREFIX
from tests.conftest import make_tenant
from tests.sandbox_fixtures import RunningSandbox

TOKEN_OPERATION = "POST /oauth2/v1/tokens/bearer"
CHECK_OPERATION = "GET companyinfo/{id}"
BATCH_OPERATION = "POST batch"
SEEDED_REFRESH_TOKEN = SEEDED_REFRESH_TOKEN_PREFIX + MAIN_REALM


@dataclass(frozen=True)
class Seeded:
    """Ids of the main company's seeded objects a document names."""

    travel: str
    meals: str
    payable: str
    card: str
    checking: str
    vendor: str
    employee: str
    klass: str
    department: str


@dataclass(frozen=True)
class QboWorld:
    database: Database
    vault: CredentialVault
    settings: Settings
    sandbox: RunningSandbox
    tenant_id: uuid.UUID
    connection_id: uuid.UUID
    seeded: Seeded
    refresh_token: str
    """The refresh token the connection was stored with."""

    async def open(self) -> QuickBooksConnector:
        connector = await open_connector(
            database=self.database,
            vault=self.vault,
            settings=self.settings,
            tenant_id=self.tenant_id,
            connection_id=self.connection_id,
        )
        assert isinstance(connector, QuickBooksConnector)
        return connector

    async def row(self) -> Connection:
        async with self.database.tenant_session(self.tenant_id) as session:
            row = await session.get(Connection, self.connection_id)
            assert row is not None
            session.expunge(row)
            return row

    async def stored_tokens(self) -> dict[str, Any]:
        row = await self.row()
        assert row.credentials is not None
        return self.vault.decrypt(row.credentials)

    def control(self) -> httpx.Client:
        return httpx.Client(base_url=f"{self.sandbox.url}/_sandbox/quickbooks", timeout=30)

    def documents(self, entity: str, reference: str | None = None) -> list[dict[str, Any]]:
        params = {"entity": entity} | ({"doc_number": doc_number(reference)} if reference else {})
        with self.control() as control:
            answer = control.get(f"/realms/{MAIN_REALM}/documents", params=params)
        answer.raise_for_status()
        found: list[dict[str, Any]] = answer.json()["data"]
        return found

    def token_requests(self) -> int:
        with self.sandbox.control() as control:
            answer = control.get("/requests", params={"system": "quickbooks", "operation": TOKEN_OPERATION, "limit": 1})
        count: int = answer.json()["count"]
        return count


def basic_auth() -> str:
    return "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()


def sandbox_tokens(sandbox: RunningSandbox, refresh_token: str = SEEDED_REFRESH_TOKEN) -> dict[str, str]:
    answer = httpx.post(
        f"{sandbox.url}/quickbooks/oauth2/v1/tokens/bearer",
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
    headers = {"Authorization": f"Bearer {tokens['access_token']}", "Accept": "application/json"}
    base = f"{sandbox.url}/quickbooks/v3/company/{MAIN_REALM}/query"

    def first(entity: str, where: str) -> str:
        text = f"SELECT * FROM {entity} WHERE {where}"
        answer = httpx.get(base, params={"query": text, "minorversion": "75"}, headers=headers, timeout=10)
        answer.raise_for_status()
        return str(answer.json()["QueryResponse"][entity][0]["Id"])

    return Seeded(
        travel=first("Account", "Name = 'Travel'"),
        meals=first("Account", "Name = 'Meals and Entertainment'"),
        payable=first("Account", "AccountType = 'Accounts Payable'"),
        card=first("Account", "Name = 'Corporate Visa'"),
        checking=first("Account", "Name = 'Checking'"),
        vendor=first("Vendor", "DisplayName = 'Delta Air Lines'"),
        employee=first("Employee", "Active = true"),
        klass=first("Class", "Active = true"),
        department=first("Department", "Active = true"),
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
                name="quickbooks",
                provider="quickbooks",
                role=ConnectionRole.DESTINATION.value,
                credentials=vault.encrypt(tokens),
                settings=settings,
                webhook_key=uuid.uuid4().hex,
            )
        )
    return tenant.id, connection_id


@pytest.fixture
def qbo_settings(settings: Settings, sandbox: RunningSandbox) -> Settings:
    apps = {"quickbooks": {"client_id": SecretStr(CLIENT_ID), "client_secret": SecretStr(CLIENT_SECRET)}}
    return settings.model_copy(update={"sandbox_url": sandbox.url, "connector_apps": apps})


@pytest.fixture
def vault(settings: Settings) -> CredentialVault:
    return CredentialVault(settings.vault_key_list())


@pytest.fixture
async def world(
    database: Database, vault: CredentialVault, qbo_settings: Settings, sandbox: RunningSandbox
) -> QboWorld:
    tokens = sandbox_tokens(sandbox)
    tenant_id, connection_id = await add_connection(database, vault, tokens=tokens, settings={"realm_id": MAIN_REALM})
    seeded = seeded_ids(sandbox, tokens)
    return QboWorld(database, vault, qbo_settings, sandbox, tenant_id, connection_id, seeded, tokens["refresh_token"])


@pytest.fixture
async def connector(world: QboWorld) -> AsyncIterator[QuickBooksConnector]:
    async with await world.open() as opened:
        yield opened


@pytest.fixture
async def broken_connector(
    database: Database, vault: CredentialVault, qbo_settings: Settings, sandbox: RunningSandbox
) -> AsyncIterator[QuickBooksConnector]:
    """Tokens Intuit never issued: the API refuses the access token, the token endpoint the refresh token."""
    tokens = {
        "access_token": "not-an-intuit-token",
        "refresh_token": "not-an-intuit-refresh-token",
        "expires_at": (datetime.now(UTC) + timedelta(hours=1)).isoformat(),
    }
    tenant_id, connection_id = await add_connection(database, vault, tokens=tokens, settings={"realm_id": MAIN_REALM})
    seeded = Seeded(*([""] * 9))
    world = QboWorld(database, vault, qbo_settings, sandbox, tenant_id, connection_id, seeded, tokens["refresh_token"])
    async with await world.open() as opened:
        yield opened


def bill_of(seeded: Seeded, reference: str, **changes: Any) -> Document:
    lines = (
        DocumentLine(amount=Decimal("120.50"), account=seeded.travel, description="Flight", source_ids=("tx1",)),
        DocumentLine(
            amount=Decimal("30.25"),
            account=seeded.meals,
            description="Dinner",
            source_ids=("tx2",),
            dimensions={"class": seeded.klass},
        ),
    )
    document = Document(
        kind=DocumentKind.BILL,
        reference=reference,
        transaction_date=date.today(),
        currency="USD",
        lines=lines,
        counterparty=seeded.vendor,
        memo="Report rp1 of Ana",
    )
    return replace(document, **changes)


@pytest.fixture
def read_operation() -> str:
    return CHECK_OPERATION


@pytest.fixture
def write_operation() -> str:
    return BATCH_OPERATION


@pytest.fixture
def dimension_type() -> str:
    return "account"


@pytest.fixture
def dimension_total(world: QboWorld) -> int:
    with world.control() as control:
        total: int = control.get(f"/realms/{MAIN_REALM}/counts").json()["Account"]
    return total


@pytest.fixture
def make_document(world: QboWorld) -> Callable[[str], Document]:
    return lambda reference: bill_of(world.seeded, reference)


@pytest.fixture
def make_invalid_document(world: QboWorld) -> Callable[[str], Document]:
    return lambda reference: bill_of(world.seeded, reference, counterparty="999999")


@pytest.fixture
def count_documents(world: QboWorld) -> Callable[[str], Awaitable[int]]:
    async def count(reference: str) -> int:
        return len(world.documents("Bill", reference))

    return count


@pytest.fixture
def expire_access_token(world: QboWorld) -> Callable[[], Awaitable[None]]:
    """Expire the token where it lives: the stored `expires_at` and the simulator's own record of it."""

    async def expire() -> None:
        async with world.database.tenant_session(world.tenant_id) as session:
            row = await session.get(Connection, world.connection_id)
            assert row is not None and row.credentials is not None
            expired = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
            row.credentials = world.vault.encrypt({**world.vault.decrypt(row.credentials), "expires_at": expired})
        with world.control() as control:
            control.post("/tokens/expire").raise_for_status()

    return expire


@pytest.fixture
def revoke_refresh_token(world: QboWorld) -> Callable[[], None]:
    def revoke() -> None:
        with world.control() as control:
            control.post("/grants/revoke", json={"refresh_token": world.refresh_token}).raise_for_status()

    return revoke


@pytest.fixture
def token_requests(world: QboWorld) -> Callable[[], int]:
    return world.token_requests


@pytest.fixture
def connection_status(world: QboWorld) -> Callable[[], Awaitable[str]]:
    async def status() -> str:
        return (await world.row()).status

    return status
