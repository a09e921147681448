"""`/v1/connections/{id}/sync-runs`, `/v1/sync-runs`, pause, resume and schedule over HTTP."""

import uuid

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from core.db import Database
from core.models import AuditEvent
from tests.conftest import TenantFixture


async def _connection(client: httpx.AsyncClient, tenant: TenantFixture, role: str = "destination") -> str:
    response = await client.post(
        "/v1/connections",
        json={
            "name": f"{role}-{uuid.uuid4().hex[:6]}",
            "provider": "fyle" if role == "source" else "intacct",
            "role": role,
        },
        headers=tenant.headers,
    )
    assert response.status_code == 201, response.text
    connection_id: str = response.json()["id"]
    return connection_id


async def test_a_run_request_is_queued_once_and_joined_after(
    client: httpx.AsyncClient, app: FastAPI, tenant: TenantFixture
) -> None:
    connection_id = await _connection(client, tenant)
    first = await client.post(f"/v1/connections/{connection_id}/sync-runs", json={}, headers=tenant.headers)
    assert first.status_code == 202, first.text
    run = first.json()
    assert (run["kind"], run["trigger"], run["state"], run["connection_id"]) == (
        "sync",
        "manual",
        "pending",
        connection_id,
    )
    assert await app.state.queue.redis.exists(f"arq:job:run:{run['id']}:requested") == 1
    again = await client.post(f"/v1/connections/{connection_id}/sync-runs", json={}, headers=tenant.headers)
    assert again.status_code == 200
    assert again.json()["id"] == run["id"]
    other_kind = await client.post(
        f"/v1/connections/{connection_id}/sync-runs", json={"kind": "import"}, headers=tenant.headers
    )
    assert other_kind.status_code == 202 and other_kind.json()["id"] != run["id"]

    listed = await client.get("/v1/sync-runs", params={"connection_id": connection_id}, headers=tenant.headers)
    assert [item["id"] for item in listed.json()["items"]] == [other_kind.json()["id"], run["id"]]
    read = await client.get(f"/v1/sync-runs/{run['id']}", headers=tenant.headers)
    assert read.status_code == 200 and read.json()["counts"] == {}


async def test_run_requests_that_cannot_run_get_problems(
    client: httpx.AsyncClient, tenant: TenantFixture, other_tenant: TenantFixture
) -> None:
    source_id = await _connection(client, tenant, role="source")
    refused = await client.post(f"/v1/connections/{source_id}/sync-runs", json={}, headers=tenant.headers)
    assert refused.status_code == 409
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert "destination" in refused.json()["detail"]
    destination_id = await _connection(client, tenant)
    foreign = await client.post(f"/v1/connections/{destination_id}/sync-runs", json={}, headers=other_tenant.headers)
    assert foreign.status_code == 404
    unknown_kind = await client.post(
        f"/v1/connections/{destination_id}/sync-runs", json={"kind": "everything"}, headers=tenant.headers
    )
    assert unknown_kind.status_code == 422


async def test_pause_and_resume_are_audited_and_idempotent(
    client: httpx.AsyncClient, database: Database, tenant: TenantFixture
) -> None:
    connection_id = await _connection(client, tenant)
    for _ in range(2):
        paused = await client.post(f"/v1/connections/{connection_id}/pause", headers=tenant.headers)
        assert paused.status_code == 200 and paused.json()["paused"] is True
    resumed = await client.post(f"/v1/connections/{connection_id}/resume", headers=tenant.headers)
    assert resumed.json()["paused"] is False
    async with database.tenant_session(tenant.id) as session:
        actions = (
            await session.scalars(
                select(AuditEvent.action).where(AuditEvent.entity_id == connection_id).order_by(AuditEvent.seq)
            )
        ).all()
    assert actions == ["connection.create", "connection.paused", "connection.resumed"]


async def test_a_schedule_is_set_checked_and_cleared(client: httpx.AsyncClient, tenant: TenantFixture) -> None:
    connection_id = await _connection(client, tenant)
    url = f"/v1/connections/{connection_id}/schedule"
    set_ = await client.put(url, json={"interval_minutes": 60}, headers=tenant.headers)
    assert set_.status_code == 200 and set_.json()["sync_interval_minutes"] == 60
    too_often = await client.put(url, json={"interval_minutes": 1}, headers=tenant.headers)
    assert too_often.status_code == 422
    cleared = await client.put(url, json={"interval_minutes": None}, headers=tenant.headers)
    assert cleared.json()["sync_interval_minutes"] is None
    source_id = await _connection(client, tenant, role="source")
    refused = await client.put(
        f"/v1/connections/{source_id}/schedule", json={"interval_minutes": 60}, headers=tenant.headers
    )
    assert refused.status_code == 409
