"""Fixtures for the Intacct connector: connectors built from a `ConnectorContext` against the sandbox (no database),
the Intacct control API, and the fixtures the conformance suite names."""

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest

from connectors.base import ConnectorContext
from connectors.intacct import IntacctConnector
from core.domain import Document
from sandbox.intacct.constants import SENDER_ID, SENDER_PASSWORD, SINGLE_ENTITY_COMPANY, USER_ID, USER_PASSWORD
from tests.connectors.intacct import factories
from tests.sandbox_fixtures import RunningSandbox

GATEWAY = "/intacct/ia/xml/xmlgw.phtml"
APP = {"sender_id": SENDER_ID, "sender_password": SENDER_PASSWORD}
TENANT = {"user_id": USER_ID, "company_id": SINGLE_ENTITY_COMPANY, "user_password": USER_PASSWORD}

MakeConnector = Callable[..., IntacctConnector]


def context_for(
    url: str,
    *,
    app: dict[str, str] | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    credentials: dict[str, str] | None = None,
) -> ConnectorContext:
    return ConnectorContext(
        tenant_id=uuid.uuid4(),
        connection_id=uuid.uuid4(),
        urls={"gateway": f"{url}{GATEWAY}"},
        app=APP if app is None else app,
        credentials={**TENANT, **(credentials or {})},
        transport=transport,
    )


@pytest.fixture
async def make_connector(sandbox: RunningSandbox) -> AsyncIterator[MakeConnector]:
    """Connectors to the sandbox; keyword arguments override tenant credentials (`entity_id="E100"`)."""
    made: list[IntacctConnector] = []

    def make(*, app: dict[str, str] | None = None, **credentials: str) -> IntacctConnector:
        connector = IntacctConnector(context_for(sandbox.url, app=app, credentials=credentials))
        made.append(connector)
        return connector

    yield make
    for connector in made:
        await connector.aclose()


@pytest.fixture
def connector(make_connector: MakeConnector) -> IntacctConnector:
    return make_connector()


@pytest.fixture
def broken_connector(make_connector: MakeConnector) -> IntacctConnector:
    return make_connector(user_password="not-the-password")


@pytest.fixture
async def control(sandbox: RunningSandbox) -> AsyncIterator[httpx.AsyncClient]:
    """The Intacct control API (`/_sandbox/intacct`)."""
    async with httpx.AsyncClient(base_url=f"{sandbox.url}/_sandbox/intacct", timeout=10) as client:
        yield client


@pytest.fixture
async def sandbox_control(sandbox: RunningSandbox) -> AsyncIterator[httpx.AsyncClient]:
    """The shared control API (faults, request log, clock)."""
    async with httpx.AsyncClient(base_url=f"{sandbox.url}/_sandbox", timeout=10) as client:
        yield client


@pytest.fixture
def read_operation() -> str:
    return "getAPISession"


@pytest.fixture
def write_operation() -> str:
    return "create:APBILL"


@pytest.fixture
def dimension_type() -> str:
    return "account"


@pytest.fixture
async def dimension_total(control: httpx.AsyncClient) -> int:
    total: int = (await control.get("/counts")).json()["objects"]["master"]["GLACCOUNT"]
    return total


@pytest.fixture
def make_document() -> Callable[[str], Document]:
    return factories.bill


@pytest.fixture
def make_invalid_document() -> Callable[[str], Document]:
    return lambda reference: factories.bill(reference, counterparty=factories.INACTIVE_VENDOR)


@pytest.fixture
def count_documents(control: httpx.AsyncClient) -> Callable[[str], Awaitable[int]]:
    async def count(reference: str) -> int:
        response = await control.get("/documents", params={"object": "APBILL", "record_id": reference})
        response.raise_for_status()
        total: int = response.json()["count"]
        return total

    return count
