"""End to end over real HTTP: the QuickBooks simulator, subscribed to the app served on a loopback port, delivers
its signed webhooks in both formats; the connection holding the realm stores them (not another tenant's connection
of another realm), and handling them requests an import and a payments run of that connection, coalesced."""

import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest
import uvicorn
from pydantic import SecretStr
from sqlalchemy import select

from core.crypto import CredentialVault
from core.db import Database
from core.models import SyncRun
from core.settings import Settings
from ledgerline.app import create_app
from sandbox.quickbooks.constants import MAIN_REALM, UK_REALM
from sandbox.server import free_port
from sync.queue import Queue
from sync.webhook_events import process_webhook_event
from tests.conftest import TenantFixture
from tests.sandbox.quickbooks.conftest import Qbo, api, bill_body, qbo
from tests.webhooks.app_support import (
    SYSTEM,
    VERIFIER_TOKEN,
    classic,
    encode,
    events_of,
    put_away,
    qbo_connection,
    signed,
)

__all__ = ["api", "qbo"]  # fixtures, imported so pytest finds them

STARTUP_SECONDS = 20
DELIVERY_SECONDS = 15


def _wait_for(check: Callable[[], bool], seconds: float = DELIVERY_SECONDS) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("the simulator's deliveries did not arrive in time")
        time.sleep(0.05)


@pytest.fixture(scope="module")
def served_app(settings: Settings) -> Iterator[str]:
    """The app on its own thread and event loop (lifespan on), knowing the app's verifier token."""
    configured = settings.model_copy(
        update={"connector_apps": {SYSTEM: {"webhook_verifier_token": SecretStr(VERIFIER_TOKEN)}}}
    )
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(configured), host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, name="app-webhooks", daemon=True)
    thread.start()
    deadline = time.monotonic() + STARTUP_SECONDS
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the app did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
async def ctx(database: Database, settings: Settings) -> AsyncIterator[dict[str, Any]]:
    queue = await Queue.connect(settings.redis_url, settings.queue_name)
    yield {
        "database": database,
        "queue": queue,
        "settings": settings,
        "vault": CredentialVault(settings.vault_key_list()),
        "worker_id": f"test:{uuid.uuid4().hex[:6]}",
    }
    await queue.close()
    await put_away(database)


def _delivered(qbo: Qbo) -> list[dict[str, Any]]:
    deliveries: list[dict[str, Any]] = qbo.control.get("/webhooks/deliveries").json()["data"]
    return deliveries


def _create_vendor(api: httpx.Client) -> dict[str, Any]:
    vendor: dict[str, Any] = api.post("/vendor", json={"DisplayName": f"Hooked {uuid.uuid4().hex[:8]}"}).json()[
        "Vendor"
    ]
    return vendor


def _change_vendor_bill_and_payment(qbo: Qbo, api: httpx.Client) -> tuple[dict[str, Any], dict[str, Any]]:
    """A vendor created, a bill created and then paid in QuickBooks (as a person would)."""
    vendor = _create_vendor(api)
    bill: dict[str, Any] = api.post("/bill", json=bill_body(api, doc_number=f"WH-{uuid.uuid4().hex[:6]}")).json()[
        "Bill"
    ]
    paid = qbo.control.post(f"/realms/{MAIN_REALM}/bills/{bill['Id']}/paid", json={})
    assert paid.status_code == 200, paid.text
    return vendor, bill


async def _runs(database: Database, tenant_id: uuid.UUID, connection_id: uuid.UUID) -> list[SyncRun]:
    async with database.tenant_session(tenant_id) as session:
        return list(await session.scalars(select(SyncRun).where(SyncRun.connection_id == connection_id)))


@pytest.mark.parametrize("kind", ["classic", "cloudevents"])
async def test_the_simulators_deliveries_reach_the_realms_connection_and_become_runs(
    kind: str,
    served_app: str,
    qbo: Qbo,
    api: httpx.Client,
    database: Database,
    tenant: TenantFixture,
    other_tenant: TenantFixture,
    ctx: dict[str, Any],
) -> None:
    connection = await qbo_connection(database, tenant.id, MAIN_REALM)
    other = await qbo_connection(database, other_tenant.id, UK_REALM)
    subscribed = qbo.control.post(
        "/webhooks", json={"url": f"{served_app}/webhooks/{SYSTEM}", "verifier_token": VERIFIER_TOKEN, "format": kind}
    )
    assert subscribed.status_code == 201, subscribed.text

    vendor, bill = _change_vendor_bill_and_payment(qbo, api)
    # Vendor, Bill, BillPayment, and the paid Bill again: four changes, each delivered and acknowledged.
    _wait_for(lambda: sum(1 for delivery in _delivered(qbo) if delivery["delivered"]) == 4)
    assert {delivery["status_code"] for delivery in _delivered(qbo)} == {202}

    events = await events_of(database, tenant.id, connection)
    assert len(events) == 4
    assert await events_of(database, other_tenant.id, other) == []
    stored = " ".join(str(event.payload) for event in events)
    assert vendor["Id"] in stored and bill["Id"] in stored and UK_REALM not in stored

    for event in events:
        assert await process_webhook_event(ctx, str(tenant.id), str(event.id)) == "processed"
    runs = await _runs(database, tenant.id, connection)
    assert sorted(run.kind for run in runs) == ["import", "payments"], "one run per kind, the later events joined"
    assert {run.trigger for run in runs} == {"webhook"}
    assert await _runs(database, other_tenant.id, other) == []


async def test_a_delivery_signed_with_another_apps_token_is_refused_and_retried(
    served_app: str, qbo: Qbo, api: httpx.Client, database: Database, tenant: TenantFixture
) -> None:
    connection = await qbo_connection(database, tenant.id, MAIN_REALM)
    qbo.control.put("/settings", json={"webhook_retry_delays_seconds": [0.05]})
    qbo.control.post(
        "/webhooks", json={"url": f"{served_app}/webhooks/{SYSTEM}", "verifier_token": "not ours", "format": "classic"}
    )
    _create_vendor(api)
    _wait_for(lambda: len(_delivered(qbo)) == 2)
    assert [delivery["status_code"] for delivery in _delivered(qbo)] == [401, 401]
    assert await events_of(database, tenant.id, connection) == []


async def test_news_for_a_connection_that_cannot_run_is_noted_not_retried(
    served_app: str, database: Database, tenant: TenantFixture, ctx: dict[str, Any]
) -> None:
    realm_id = str(uuid.uuid4().int % 10**15 + 10**15)
    connection = await qbo_connection(database, tenant.id, realm_id, status="disabled")
    body = encode(classic((realm_id, [("Account", "1", "Create"), ("Bill", "2", "Update")])))
    async with httpx.AsyncClient(base_url=served_app) as client:
        assert (await client.post(f"/webhooks/{SYSTEM}", content=body, headers=signed(body))).status_code == 202
    [event] = await events_of(database, tenant.id, connection)
    assert await process_webhook_event(ctx, str(tenant.id), str(event.id)) == "processed"
    assert await _runs(database, tenant.id, connection) == []
