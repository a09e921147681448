"""`Idempotency-Key` never keeps a response that carries a secret: creating a webhook secret under a key records
that the request happened, and a replay is told 409 with where to create a new secret, not shown the old one."""

import uuid

import httpx
from sqlalchemy import select

from core.db import Database
from core.models import ApiIdempotencyKey, IdempotencyState
from tests.conftest import TenantFixture
from tests.webhooks.ingress_support import create_connection


async def _stored(database: Database, tenant: TenantFixture, key: str) -> ApiIdempotencyKey:
    async with database.tenant_session(tenant.id) as session:
        row = await session.scalar(select(ApiIdempotencyKey).where(ApiIdempotencyKey.key == key))
    assert row is not None
    return row


async def test_a_created_webhook_secret_is_never_stored_and_a_replay_is_409_with_a_pointer(
    client: httpx.AsyncClient, database: Database, tenant: TenantFixture
) -> None:
    connection_id = await create_connection(client, tenant)
    path = f"/v1/connections/{connection_id}/webhook-secrets"
    key = f"rotate-{uuid.uuid4().hex}"
    headers = {**tenant.headers, "Idempotency-Key": key}

    created = await client.post(path, headers=headers)
    assert created.status_code == 201, created.text
    secret = created.json()["secret"]
    assert created.headers["cache-control"] == "no-store"

    row = await _stored(database, tenant, key)
    assert row.state == IdempotencyState.COMPLETED.value
    assert row.response_body is None
    assert secret not in repr((row.response_headers, row.response_status, row.response_body))

    replayed = await client.post(path, headers=headers)
    assert replayed.status_code == 409, replayed.text
    assert replayed.headers["content-type"].startswith("application/problem+json")
    problem = replayed.json()
    assert problem["type"].endswith("/secret-not-replayed")
    assert path in problem["detail"] and "new" in problem["detail"]
    assert secret not in replayed.text

    # A new key creates a new secret, as the pointer says.
    again = await client.post(path, headers={**tenant.headers, "Idempotency-Key": f"rotate-{uuid.uuid4().hex}"})
    assert again.status_code == 201 and again.json()["secret"] != secret


async def test_ordinary_responses_are_still_replayed(client: httpx.AsyncClient, tenant: TenantFixture) -> None:
    headers = {**tenant.headers, "Idempotency-Key": f"books-{uuid.uuid4().hex}"}
    body = {"name": "books", "provider": "intacct", "role": "destination"}
    first = await client.post("/v1/connections", headers=headers, json=body)
    second = await client.post("/v1/connections", headers=headers, json=body)
    assert second.status_code == 201 and second.json() == first.json()
