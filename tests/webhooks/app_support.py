"""Shared helpers of the app-level webhook tests: QuickBooks connections holding a realm (written as the connect flow
writes it), deliveries signed the way Intuit signs them, and the app's ingress given a verifier token."""

import base64
import hashlib
import hmac
import json
import secrets
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import select, update

from core.db import Database
from core.models import Connection, SyncRun, WebhookEvent
from webhooks.app_ingress import AppWebhookIngress

SYSTEM = "quickbooks"
PATH = f"/webhooks/{SYSTEM}"
VERIFIER_TOKEN = "intuit-verifier-" + "5" * 24
"""The app's verifier token in these tests (Intuit's are opaque text)."""


def app_credentials(system: str) -> dict[str, str]:
    return {"webhook_verifier_token": VERIFIER_TOKEN} if system == SYSTEM else {}


def intuit_signature(body: bytes, token: str = VERIFIER_TOKEN) -> str:
    """As Intuit signs (and the simulator, `sandbox/quickbooks/webhooks.py`): base64(HMAC-SHA256(token, body))."""
    return base64.b64encode(hmac.new(token.encode(), body, hashlib.sha256).digest()).decode()


def signed(body: bytes, token: str = VERIFIER_TOKEN) -> dict[str, str]:
    return {"content-type": "application/json", "intuit-signature": intuit_signature(body, token)}


def encode(payload: Any) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()


def realm() -> str:
    """A realm id no other test uses (realm ids are digits)."""
    return str(secrets.randbelow(10**15) + 10**15)


def classic(*notifications: tuple[str, list[tuple[str, str, str]]]) -> dict[str, Any]:
    """`eventNotifications` of (realm, [(entity, id, operation)])."""
    return {
        "eventNotifications": [
            {
                "realmId": realm_id,
                "dataChangeEvent": {
                    "entities": [
                        {
                            "name": name,
                            "id": remote_id,
                            "operation": operation,
                            "lastUpdated": "2026-12-06T10:00:00.000Z",
                        }
                        for name, remote_id, operation in entities
                    ]
                },
            }
            for realm_id, entities in notifications
        ]
    }


def cloudevent(realm_id: str, entity: str, remote_id: str, verb: str = "created") -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": "intuit.quickbooks",
        "type": f"qbo.{entity.lower()}.{verb}.v1",
        "datacontenttype": "application/json",
        "time": "2026-12-06T10:00:00.000-08:00",
        "intuitentityid": remote_id,
        "intuitaccountid": realm_id,
        "data": {},
    }


TENANTS: list[uuid.UUID] = []
"""Tenants whose connections these tests made: their waiting work is put away after each test."""


async def qbo_connection(
    database: Database, tenant_id: uuid.UUID, realm_id: str, *, status: str = "active"
) -> uuid.UUID:
    """A QuickBooks destination connection of `tenant_id` for `realm_id`, the setting written as the connect flow
    writes it (a person may not write it)."""
    TENANTS.append(tenant_id)
    async with database.tenant_session(tenant_id) as session:
        connection = Connection(
            id=uuid.uuid4(),
            tenant_id=tenant_id,
            name=f"qbo-{uuid.uuid4().hex[:8]}",
            provider=SYSTEM,
            role="destination",
            status=status,
            settings={"realm_id": realm_id},
            webhook_key=secrets.token_hex(16),
        )
        session.add(connection)
    return connection.id


async def events_of(database: Database, tenant_id: uuid.UUID, connection_id: uuid.UUID) -> list[WebhookEvent]:
    async with database.tenant_session(tenant_id) as session:
        rows = await session.scalars(
            select(WebhookEvent).where(WebhookEvent.connection_id == connection_id).order_by(WebhookEvent.received_at)
        )
        return list(rows)


async def put_away(database: Database) -> None:
    """Leave no due work behind for later tests' workers (runs without credentials, events still received)."""
    while TENANTS:
        tenant_id = TENANTS.pop()
        async with database.tenant_session(tenant_id) as session:
            await session.execute(
                update(SyncRun).where(SyncRun.state.in_(["pending", "running"])).values(state="cancelled")
            )
            await session.execute(
                update(WebhookEvent).where(WebhookEvent.state == "received").values(state="failed", lease_owner=None)
            )


@pytest.fixture
def app_ingress(app: FastAPI) -> Iterator[AppWebhookIngress]:
    """The app's app-level ingress, knowing the test verifier token; put back afterwards."""
    before: AppWebhookIngress = app.state.app_webhook_ingress
    app.state.app_webhook_ingress = AppWebhookIngress(app.state.webhook_ingress, app_credentials=app_credentials)
    yield app.state.app_webhook_ingress
    app.state.app_webhook_ingress = before
    app.state.webhook_ingress.inbox.forget()


@pytest.fixture
async def tidy(database: Database) -> AsyncIterator[None]:
    yield
    await put_away(database)
