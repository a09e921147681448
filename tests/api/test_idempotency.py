"""`Idempotency-Key` on POST: replay, conflict, in-flight, per-tenant scope and expiry."""

import asyncio
import hashlib
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import func, select, update

from core.db import Database
from core.models import ApiIdempotencyKey, Connection
from tests.conftest import TenantFixture


def _body(name: str = "books") -> dict[str, object]:
    return {"name": name, "provider": "intacct", "role": "destination"}


async def _connection_count(database: Database, tenant: TenantFixture) -> int:
    async with database.tenant_session(tenant.id) as session:
        return await session.scalar(select(func.count()).select_from(Connection)) or 0


async def test_same_key_and_body_returns_the_stored_response_once_created(
    client: httpx.AsyncClient, database: Database, tenant: TenantFixture
) -> None:
    headers = {**tenant.headers, "Idempotency-Key": "create-books-1"}
    first = await client.post("/v1/connections", headers=headers, json=_body())
    second = await client.post("/v1/connections", headers=headers, json=_body())
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert await _connection_count(database, tenant) == 1


async def test_same_key_with_a_different_body_is_422(client: httpx.AsyncClient, tenant: TenantFixture) -> None:
    headers = {**tenant.headers, "Idempotency-Key": "k-2"}
    assert (await client.post("/v1/connections", headers=headers, json=_body("one"))).status_code == 201
    response = await client.post("/v1/connections", headers=headers, json=_body("two"))
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert "different request" in response.json()["detail"]


async def test_a_key_still_in_flight_is_409(
    client: httpx.AsyncClient, database: Database, tenant: TenantFixture
) -> None:
    """Two concurrent requests with one key: exactly one runs, the other is told to retry."""
    headers = {**tenant.headers, "Idempotency-Key": "k-race"}
    responses = await asyncio.gather(
        *(client.post("/v1/connections", headers=headers, json=_body("race")) for _ in range(5))
    )
    statuses = sorted(response.status_code for response in responses)
    assert statuses.count(201) >= 1
    assert set(statuses) <= {201, 409}
    assert await _connection_count(database, tenant) == 1


async def test_an_in_flight_key_answers_409_with_retry_after(
    client: httpx.AsyncClient, database: Database, tenant: TenantFixture
) -> None:
    body = b'{"name":"slow","provider":"intacct","role":"destination"}'
    request_hash = hashlib.sha256(b"POST /v1/connections?\n" + body).hexdigest()
    now = datetime.now(UTC)
    async with database.tenant_session(tenant.id) as session:
        session.add(
            ApiIdempotencyKey(
                tenant_id=tenant.id,
                key="held",
                method="POST",
                path="/v1/connections",
                request_hash=request_hash,
                state="in_flight",
                locked_until=now + timedelta(minutes=5),
                expires_at=now + timedelta(days=1),
            )
        )
    response = await client.post(
        "/v1/connections",
        headers={**tenant.headers, "Idempotency-Key": "held", "content-type": "application/json"},
        content=body,
    )
    assert response.status_code == 409
    assert response.headers["retry-after"] == "1"
    assert await _connection_count(database, tenant) == 0


async def test_keys_are_scoped_per_tenant(
    client: httpx.AsyncClient, database: Database, tenant: TenantFixture, other_tenant: TenantFixture
) -> None:
    for owner in (tenant, other_tenant):
        response = await client.post(
            "/v1/connections", headers={**owner.headers, "Idempotency-Key": "shared"}, json=_body()
        )
        assert response.status_code == 201
        assert "idempotent-replayed" not in response.headers
    assert await _connection_count(database, tenant) == 1
    assert await _connection_count(database, other_tenant) == 1


async def test_an_expired_key_runs_the_request_again(
    client: httpx.AsyncClient, database: Database, tenant: TenantFixture
) -> None:
    headers = {**tenant.headers, "Idempotency-Key": "old"}
    assert (await client.post("/v1/connections", headers=headers, json=_body("first"))).status_code == 201
    async with database.tenant_session(tenant.id) as session:
        await session.execute(update(ApiIdempotencyKey).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    again = await client.post("/v1/connections", headers=headers, json=_body("second"))
    assert again.status_code == 201
    assert again.json()["name"] == "second"


async def test_error_responses_are_remembered_too(client: httpx.AsyncClient, tenant: TenantFixture) -> None:
    headers = {**tenant.headers, "Idempotency-Key": "bad"}
    first = await client.post("/v1/connections", headers=headers, json={"name": ""})
    second = await client.post("/v1/connections", headers=headers, json={"name": ""})
    assert first.status_code == second.status_code == 422
    assert second.headers["idempotent-replayed"] == "true"
    assert second.headers["content-type"] == "application/problem+json"


async def test_an_unusable_key_is_400(client: httpx.AsyncClient, tenant: TenantFixture) -> None:
    response = await client.post(
        "/v1/connections", headers={**tenant.headers, "Idempotency-Key": "x" * 300}, json=_body()
    )
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
