"""Over HTTP: one tenant's key never reaches another tenant's resources."""

import re
import uuid

import httpx
from fastapi import FastAPI
from sqlalchemy import select, text

from core.db import Database
from core.models import ExportItem, WebhookEvent
from tests.conftest import TenantFixture
from tests.mappings.factories import expense
from tests.mappings.seed import api_world

READS_THE_DESTINATION = {"/v1/connections/{connection_id}/reconciliation"}
"""Routes that call the destination live: the world's Intacct has made-up credentials and exports expense reports,
which the books check cannot read back yet, so its owner gets a 4xx problem; what matters here is the 404."""


async def _create_connection(client: httpx.AsyncClient, owner: TenantFixture, name: str) -> uuid.UUID:
    response = await client.post(
        "/v1/connections",
        headers=owner.headers,
        json={"name": name, "provider": "intacct", "role": "destination"},
    )
    assert response.status_code == 201, response.text
    return uuid.UUID(response.json()["id"])


async def _export_resources(client: httpx.AsyncClient, database: Database, owner: TenantFixture) -> dict[str, object]:
    """A destination with saved export settings, one mapping, one export item, one sync run, one webhook event and
    one replay."""
    world = await api_world(client, database, owner, [expense(id="theirs")])
    destination = f"/v1/connections/{world.destination_id}"
    assert (await client.put(f"{destination}/export-settings", headers=owner.headers, json={})).status_code == 200
    mapping = await client.post(
        f"{destination}/mappings",
        headers=owner.headers,
        json={
            "source_type": "category",
            "source_value": "Travel",
            "destination_type": "expense_type",
            "destination_attribute_id": str(world.attributes[("expense_type", "ET-TRAVEL")]),
        },
    )
    assert mapping.status_code == 200, mapping.text
    async with database.tenant_session(owner.id) as session:
        item_id = await session.scalar(select(ExportItem.id))
    run = await client.post(f"{destination}/sync-runs", headers=owner.headers, json={"kind": "import"})
    assert run.status_code == 202, run.text
    event_id = uuid.uuid4()
    async with database.tenant_session(owner.id) as session:
        session.add(
            WebhookEvent(
                id=event_id,
                tenant_id=owner.id,
                connection_id=world.destination_id,
                provider="generic",
                event_id=f"msg_{event_id.hex}",
                payload={"type": "ping"},
            )
        )
    replay = await client.post("/v1/replays", headers=owner.headers, json={"connection_id": str(world.destination_id)})
    assert replay.status_code == 202, replay.text
    return {
        "connection_id": world.destination_id,
        "mapping_id": mapping.json()["items"][0]["id"],
        "export_item_id": item_id,
        "run_id": run.json()["id"],
        "webhook_event_id": event_id,
        "replay_id": replay.json()["id"],
    }


async def test_every_tenant_resource_of_another_tenant_is_404(
    app: FastAPI,
    client: httpx.AsyncClient,
    database: Database,
    tenant: TenantFixture,
    other_tenant: TenantFixture,
) -> None:
    """Walks every `/v1` GET route with a resource id in its path (from the OpenAPI document): none can skip it."""
    others = await _export_resources(client, database, other_tenant)
    templates = [
        path
        for path, operations in app.openapi()["paths"].items()
        if path.startswith("/v1/") and re.search(r"{\w+_id}", path) and "get" in operations
    ]
    assert templates, "expected at least one tenant resource route"
    for template in templates:
        params = re.findall(r"{(\w+)}", template)
        missing = [name for name in params if name not in others]
        assert not missing, f"{template}: add a resource of the other tenant for {missing} to this test"
        path = template.format(**others)
        mine = await client.get(path, headers=tenant.headers)
        theirs = await client.get(path, headers=other_tenant.headers)
        works = 200 if template not in READS_THE_DESTINATION else theirs.status_code
        assert theirs.status_code == works and works < 500, f"{path} should work for its owner"
        assert mine.status_code == 404, f"{path} answered {mine.status_code} to another tenant"
        assert mine.headers["content-type"] == "application/problem+json"


async def test_lists_show_only_the_callers_rows(
    client: httpx.AsyncClient, tenant: TenantFixture, other_tenant: TenantFixture
) -> None:
    mine = await _create_connection(client, tenant, "a-intacct")
    theirs = await _create_connection(client, other_tenant, "b-intacct")
    listed = {item["id"] for item in (await client.get("/v1/connections", headers=tenant.headers)).json()["items"]}
    audit = (await client.get("/v1/audit-events", headers=tenant.headers)).json()["items"]
    assert str(mine) in listed
    assert str(theirs) not in listed
    assert all(event["entity_id"] != str(theirs) for event in audit)
    assert any(event["entity_id"] == str(mine) and event["action"] == "connection.create" for event in audit)


async def test_tenant_endpoint_returns_the_keys_own_tenant(
    client: httpx.AsyncClient, tenant: TenantFixture, other_tenant: TenantFixture
) -> None:
    response = await client.get("/v1/tenant", headers=tenant.headers)
    assert response.status_code == 200
    assert response.json()["id"] == str(tenant.id)
    assert response.json()["slug"] == tenant.slug


async def test_missing_malformed_and_unknown_keys_are_401_problems(
    client: httpx.AsyncClient, tenant: TenantFixture
) -> None:
    tampered = tenant.key[:-2] + ("AA" if not tenant.key.endswith("AA") else "BB")
    for headers in (
        {},
        {"Authorization": "Basic abc"},
        {"Authorization": "Bearer nope"},
        {"Authorization": f"Bearer {tampered}"},
    ):
        response = await client.get("/v1/tenant", headers=headers)
        assert response.status_code == 401, headers
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert tenant.key not in response.text


async def test_a_revoked_key_stops_working(
    client: httpx.AsyncClient, database: Database, tenant: TenantFixture
) -> None:
    assert (await client.get("/v1/tenant", headers=tenant.headers)).status_code == 200
    async with database.owner_session() as session:
        await session.execute(text("UPDATE api_keys SET revoked_at = now() WHERE tenant_id = :t"), {"t": tenant.id})
    assert (await client.get("/v1/tenant", headers=tenant.headers)).status_code == 401
