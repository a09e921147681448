"""Shared helpers of Xero's app-level webhook tests: Xero connections holding an organisation (written as the connect
flow writes it), batches signed as Xero signs them, and the app's ingress knowing the app's webhook key."""

import base64
import hashlib
import hmac
import json
import secrets
import uuid
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import pytest
from fastapi import FastAPI

from core.db import Database
from core.models import Connection
from tests.webhooks.app_support import TENANTS
from webhooks.app_ingress import AppWebhookIngress

SYSTEM = "xero"
PATH = f"/webhooks/{SYSTEM}"
ACCOUNT_SETTING = "tenant_id"
SECRET_FIELD = "webhook_key"
WEBHOOK_KEY = base64.b64encode(b"x" * 64).decode()
"""The app's webhook key in these tests (Xero's are 64 random bytes in base64)."""


def app_credentials(system: str) -> dict[str, str]:
    return {SECRET_FIELD: WEBHOOK_KEY} if system == SYSTEM else {}


def xero_signature(body: bytes, key: str = WEBHOOK_KEY) -> str:
    return base64.b64encode(hmac.new(key.encode(), body, hashlib.sha256).digest()).decode()


def signed(body: bytes, key: str = WEBHOOK_KEY) -> dict[str, str]:
    return {"content-type": "application/json", "x-xero-signature": xero_signature(body, key)}


def encode(payload: Any) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()


def organisation() -> str:
    """An organisation id no other test uses."""
    return str(uuid.uuid4())


def event(org: str, category: str, kind: str, resource: str | None = None) -> dict[str, Any]:
    resource = resource or str(uuid.uuid4())
    collection = {"INVOICE": "Invoices", "CONTACT": "Contacts"}.get(category, category.title())
    return {
        "resourceUrl": f"https://api.xero.com/api.xro/2.0/{collection}/{resource}",
        "resourceId": resource,
        "eventDateUtc": "2026-12-06T10:00:00.123",
        "eventType": kind,
        "eventCategory": category,
        "tenantId": org,
        "tenantType": "ORGANISATION",
    }


def batch(events: Sequence[Mapping[str, Any]], *, entropy: str | None = None) -> dict[str, Any]:
    return {
        "events": list(events),
        "firstEventSequence": 1 if events else 0,
        "lastEventSequence": len(events),
        "entropy": entropy or secrets.token_hex(10).upper(),
    }


async def xero_connection(database: Database, tenant_id: uuid.UUID, org: str, *, status: str = "active") -> uuid.UUID:
    """A Xero destination connection of `tenant_id` for organisation `org`, the setting written as the connect flow
    writes it (a person may not write it)."""
    TENANTS.append(tenant_id)
    async with database.tenant_session(tenant_id) as session:
        connection = Connection(
            id=uuid.uuid4(),
            tenant_id=tenant_id,
            name=f"xero-{uuid.uuid4().hex[:8]}",
            provider=SYSTEM,
            role="destination",
            status=status,
            settings={ACCOUNT_SETTING: org},
            webhook_key=secrets.token_hex(16),
        )
        session.add(connection)
    return connection.id


@pytest.fixture
def xero_ingress(app: FastAPI) -> Iterator[AppWebhookIngress]:
    """The app's app-level ingress, knowing the test webhook key; put back afterwards."""
    before: AppWebhookIngress = app.state.app_webhook_ingress
    app.state.app_webhook_ingress = AppWebhookIngress(app.state.webhook_ingress, app_credentials=app_credentials)
    yield app.state.app_webhook_ingress
    app.state.app_webhook_ingress = before
    app.state.webhook_ingress.inbox.forget()
