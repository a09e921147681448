"""`/v1/export-items`, `/v1/items/{id}/replay|skip` and `/v1/replays` over HTTP, for admins and support staff."""

import uuid

import httpx
from fastapi import FastAPI

from core.api_keys import issue_key
from core.db import Database
from core.models import ApiKeyRole
from tests.conftest import TenantFixture
from tests.sync.test_replay import failed_items


async def _support_headers(database: Database) -> dict[str, str]:
    issued = issue_key(name="support", role=ApiKeyRole.SUPPORT, tenant_id=None)
    async with database.owner_session() as session:
        session.add(issued.row)
    return {"Authorization": f"Bearer {issued.plaintext}"}


async def test_an_admin_finds_replays_and_skips_its_items(
    client: httpx.AsyncClient, app: FastAPI, database: Database, tenant: TenantFixture
) -> None:
    _, ids = await failed_items(database, tenant, 3)
    listed = await client.get("/v1/export-items", params={"expense_id": f"ex-{tenant.slug}-1"}, headers=tenant.headers)
    assert listed.status_code == 200, listed.text
    assert [row["id"] for row in listed.json()["items"]] == [str(ids[1])]
    detail = await client.get(f"/v1/export-items/{ids[1]}", headers=tenant.headers)
    assert detail.status_code == 200, detail.text
    assert detail.json()["records"][0]["remote_id"] == f"ex-{tenant.slug}-1"

    replayed = await client.post(f"/v1/items/{ids[0]}/replay", headers=tenant.headers)
    assert replayed.status_code == 200, replayed.text
    assert replayed.json()["state"] == "pending"
    again = await client.post(f"/v1/items/{ids[0]}/replay", headers=tenant.headers)
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"
    assert "already pending" in again.json()["detail"] and again.json()["state"] == "pending"

    no_reason = await client.post(f"/v1/items/{ids[1]}/skip", json={}, headers=tenant.headers)
    assert no_reason.status_code == 422
    blank = await client.post(f"/v1/items/{ids[1]}/skip", json={"reason": "   "}, headers=tenant.headers)
    assert blank.status_code == 422
    skipped = await client.post(
        f"/v1/items/{ids[1]}/skip", json={"reason": "in the books by hand"}, headers=tenant.headers
    )
    assert skipped.status_code == 200 and skipped.json()["skip_reason"] == "in the books by hand"

    history = (await client.get(f"/v1/export-items/{ids[0]}", headers=tenant.headers)).json()["audit_events"]
    assert [event["action"] for event in history] == ["export_item.pending"]
    assert history[0]["actor"].startswith("api_key:")


async def test_an_admin_cannot_see_or_replay_another_tenants_item(
    client: httpx.AsyncClient, database: Database, tenant: TenantFixture, other_tenant: TenantFixture
) -> None:
    _, theirs = await failed_items(database, other_tenant, 1)
    for method, path in (
        ("GET", f"/v1/export-items/{theirs[0]}"),
        ("POST", f"/v1/items/{theirs[0]}/replay"),
    ):
        response = await client.request(method, path, headers=tenant.headers)
        assert response.status_code == 404, (path, response.text)
    skip = await client.post(f"/v1/items/{theirs[0]}/skip", json={"reason": "x"}, headers=tenant.headers)
    assert skip.status_code == 404
    listed = await client.get("/v1/export-items", params={"tenant_id": str(other_tenant.id)}, headers=tenant.headers)
    assert listed.json()["items"] == []


async def test_a_bulk_replay_is_accepted_and_its_progress_readable(
    client: httpx.AsyncClient, app: FastAPI, database: Database, tenant: TenantFixture, other_tenant: TenantFixture
) -> None:
    connection_id, _ = await failed_items(database, tenant, 5)
    accepted = await client.post(
        "/v1/replays", json={"connection_id": str(connection_id), "search": "closed"}, headers=tenant.headers
    )
    assert accepted.status_code == 202, accepted.text
    replay = accepted.json()
    assert (replay["total"], replay["done"], replay["state"], replay["tenant_id"]) == (5, 0, "pending", str(tenant.id))
    read = await client.get(f"/v1/replays/{replay['id']}", headers=tenant.headers)
    assert read.status_code == 200 and read.json()["id"] == replay["id"]
    assert (await client.get(f"/v1/replays/{replay['id']}", headers=other_tenant.headers)).status_code == 404
    refused = await client.post("/v1/replays", json={"state": "succeeded"}, headers=tenant.headers)
    assert refused.status_code == 422
    assert refused.headers["content-type"] == "application/problem+json"


async def test_support_lists_and_replays_across_tenants(
    client: httpx.AsyncClient, database: Database, tenant: TenantFixture, other_tenant: TenantFixture
) -> None:
    support = await _support_headers(database)
    _, mine = await failed_items(database, tenant, 1)
    _, theirs = await failed_items(database, other_tenant, 1)
    for owner, item_id in ((tenant, mine[0]), (other_tenant, theirs[0])):
        listed = await client.get(
            "/v1/export-items", params={"tenant_id": str(owner.id), "limit": 200}, headers=support
        )
        assert listed.status_code == 200, listed.text
        assert str(item_id) in {row["id"] for row in listed.json()["items"]}
        replayed = await client.post(f"/v1/items/{item_id}/replay", headers=support)
        assert replayed.status_code == 200 and replayed.json()["tenant_id"] == str(owner.id)
    everywhere = await client.post("/v1/replays", json={}, headers=support)
    assert everywhere.status_code == 202 and everywhere.json()["tenant_id"] is None
    assert (await client.get(f"/v1/replays/{everywhere.json()['id']}", headers=support)).status_code == 200
    assert (await client.get(f"/v1/replays/{everywhere.json()['id']}", headers=tenant.headers)).status_code == 404
    missing = await client.post(f"/v1/items/{uuid.uuid4()}/replay", headers=support)
    assert missing.status_code == 404
