"""Shared helpers of the ingress tests: a connection with a webhook secret, and deliveries signed the way a
Standard Webhooks sender signs them (the reference `standardwebhooks` package, not our own code)."""

import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from standardwebhooks.webhooks import Webhook

from tests.conftest import TenantFixture
from webhooks.ingress import WebhookIngress

ARQ_JOB_KEY = "arq:job:{job_id}"


@dataclass(frozen=True)
class WebhookTarget:
    connection_id: uuid.UUID
    path: str
    secret: str


async def create_connection(
    client: httpx.AsyncClient, owner: TenantFixture, *, provider: str = "fyle", role: str = "source"
) -> uuid.UUID:
    response = await client.post(
        "/v1/connections",
        headers=owner.headers,
        json={"name": f"{provider}-{uuid.uuid4().hex[:8]}", "provider": provider, "role": role},
    )
    assert response.status_code == 201, response.text
    return uuid.UUID(response.json()["id"])


async def create_secret(client: httpx.AsyncClient, owner: TenantFixture, connection_id: uuid.UUID) -> dict[str, Any]:
    response = await client.post(f"/v1/connections/{connection_id}/webhook-secrets", headers=owner.headers)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def webhook_target(client: httpx.AsyncClient, owner: TenantFixture, *, provider: str = "fyle") -> WebhookTarget:
    connection_id = await create_connection(client, owner, provider=provider)
    created = await create_secret(client, owner, connection_id)
    return WebhookTarget(
        connection_id=connection_id, path=httpx.URL(created["webhook_url"]).path, secret=created["secret"]
    )


def fyle_payload(report_id: str = "rp1") -> dict[str, Any]:
    return {"resource": "REPORT", "action": "ADMIN_APPROVED", "reason": "approved", "data": {"id": report_id}}


def signed_headers(
    secret: str, body: bytes, *, message_id: str | None = None, timestamp: float | None = None
) -> dict[str, str]:
    message_id = message_id or f"msg_{uuid.uuid4().hex}"
    moment = datetime.fromtimestamp(time.time() if timestamp is None else timestamp, UTC)
    try:
        signature = Webhook(secret).sign(message_id, moment, body.decode())
    except UnicodeDecodeError:  # the reference library signs text; a sender of other bytes signs them as they are
        key = base64.b64decode(secret.removeprefix("whsec_"))
        signed = f"{message_id}.{int(moment.timestamp())}.".encode() + body
        signature = "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return {
        "content-type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": signature,
    }


def encode(payload: Any) -> bytes:
    return json.dumps(payload).encode()


async def deliver(
    client: httpx.AsyncClient,
    target: WebhookTarget,
    payload: Any | None = None,
    *,
    secret: str | None = None,
    message_id: str | None = None,
    timestamp: float | None = None,
) -> httpx.Response:
    body = encode(payload if payload is not None else fyle_payload())
    headers = signed_headers(secret or target.secret, body, message_id=message_id, timestamp=timestamp)
    return await client.post(target.path, content=body, headers=headers)


@pytest.fixture
def ingress(app: FastAPI) -> Iterator[WebhookIngress]:
    """The app's ingress; limits a test changes are put back, and per-process caches are emptied."""
    ingress: WebhookIngress = app.state.webhook_ingress
    limits = ingress.limits
    yield ingress
    ingress.limits = limits
    ingress.inbox.forget()


def with_limits(ingress: WebhookIngress, **changes: Any) -> None:
    ingress.limits = replace(ingress.limits, **changes)
