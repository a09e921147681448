"""Actions from the dashboard: replay, skip, bulk replay, pause/resume. Each is audited with the dashboard user."""

import uuid

import httpx
from sqlalchemy import select

from core.db import Database
from core.models import AuditEvent, Connection, ExportItem, Replay
from tests.conftest import TenantFixture
from tests.dashboard.conftest import make_failed_items, page_token, sign_in


async def item_state(database: Database, tenant: TenantFixture, item_id: uuid.UUID) -> ExportItem:
    async with database.tenant_session(tenant.id) as session:
        item = await session.get(ExportItem, item_id)
    assert item is not None
    return item


async def test_replay_one_item_puts_it_back_in_the_queue_and_audits_who(
    client: httpx.AsyncClient, database: Database, tenant: TenantFixture, support_key: str
) -> None:
    [item_id] = await make_failed_items(database, tenant.id, count=1)
    await sign_in(client, support_key)
    token = await page_token(client, f"/dashboard/items/{item_id}")
    response = await client.post(f"/dashboard/items/{item_id}/replay", data={"csrf_token": token})
    assert response.status_code == 303 and response.headers["location"] == f"/dashboard/items/{item_id}"
    item = await item_state(database, tenant, item_id)
    assert item.state == "pending" and item.idempotency_key == f"ll-{item_id.hex}"
    async with database.tenant_session(tenant.id) as session:
        actors = (await session.scalars(select(AuditEvent.actor).where(AuditEvent.entity_id == str(item_id)))).all()
    assert f"dashboard:{support_key.split('_')[1]}" in actors
    page = await client.get(response.headers["location"])
    assert "1 item queued for replay." in page.text
    again = await client.post(f"/dashboard/items/{item_id}/replay", data={"csrf_token": token})
    assert "refused" in (await client.get(again.headers["location"])).text


async def test_replay_without_a_csrf_token_changes_nothing(
    client: httpx.AsyncClient, database: Database, tenant: TenantFixture
) -> None:
    [item_id] = await make_failed_items(database, tenant.id, count=1)
    await sign_in(client, tenant.key)
    assert (await client.post(f"/dashboard/items/{item_id}/replay")).status_code == 403
    assert (await item_state(database, tenant, item_id)).state == "needs_action"


async def test_a_tenant_admin_cannot_act_on_another_tenants_item(
    client: httpx.AsyncClient, database: Database, tenant: TenantFixture, other_tenant: TenantFixture
) -> None:
    [theirs] = await make_failed_items(database, other_tenant.id, count=1)
    await sign_in(client, tenant.key)
    token = await page_token(client)
    assert (await client.post(f"/dashboard/items/{theirs}/replay", data={"csrf_token": token})).status_code == 404
    skip = await client.post(f"/dashboard/items/{theirs}/skip", data={"csrf_token": token, "reason": "x"})
    assert skip.status_code == 404
    bulk = await client.post("/dashboard/items/replay", data={"csrf_token": token, "item_id": str(theirs)})
    assert bulk.status_code == 303
    assert (await item_state(database, other_tenant, theirs)).state == "needs_action"


async def test_replay_selected_and_skip_selected_with_a_reason(
    client: httpx.AsyncClient, database: Database, tenant: TenantFixture
) -> None:
    first, second, third = await make_failed_items(database, tenant.id, count=3)
    await sign_in(client, tenant.key)
    token = await page_token(client, "/dashboard/items")
    replayed = await client.post(
        "/dashboard/items/replay",
        data={"csrf_token": token, "item_id": [str(first), str(second)], "next": "/dashboard/items"},
    )
    assert replayed.status_code == 303 and replayed.headers["location"] == "/dashboard/items"
    assert "2 items queued for replay." in (await client.get("/dashboard/items")).text
    no_reason = await client.post("/dashboard/items/skip", data={"csrf_token": token, "item_id": str(third)})
    assert no_reason.status_code == 303
    assert (await item_state(database, tenant, third)).state == "needs_action"
    skipped = await client.post(
        "/dashboard/items/skip", data={"csrf_token": token, "item_id": str(third), "reason": "entered by hand"}
    )
    assert skipped.status_code == 303
    item = await item_state(database, tenant, third)
    assert (item.state, item.skip_reason) == ("skipped", "entered by hand")
    assert [(await item_state(database, tenant, i)).state for i in (first, second)] == ["pending", "pending"]


async def test_replay_all_matching_starts_a_tracked_bulk_replay(
    client: httpx.AsyncClient, database: Database, tenant: TenantFixture
) -> None:
    await make_failed_items(database, tenant.id, count=3, message="Vendor inactive")
    await sign_in(client, tenant.key)
    token = await page_token(client, "/dashboard/items")
    response = await client.post(
        "/dashboard/replays", data={"csrf_token": token, "error_class": "destination_rejected"}
    )
    assert response.status_code == 303 and response.headers["location"].startswith("/dashboard/replays/")
    replay_id = uuid.UUID(response.headers["location"].rsplit("/", 1)[1])
    async with database.tenant_session(tenant.id) as session:
        replay = await session.get(Replay, replay_id)
    assert replay is not None and replay.total == 3 and replay.tenant_id == tenant.id
    page = await client.get(response.headers["location"])
    assert page.status_code == 200 and "<progress" in page.text and 'data-refresh="2"' in page.text
    assert "Bulk replays" in (await client.get("/dashboard/replays")).text


async def test_pause_and_resume_a_connection(
    client: httpx.AsyncClient, database: Database, tenant: TenantFixture
) -> None:
    await make_failed_items(database, tenant.id, count=1, connection_name="Books")
    async with database.tenant_session(tenant.id) as session:
        connection_id = await session.scalar(select(Connection.id).where(Connection.name == "Books"))
    await sign_in(client, tenant.key)
    token = await page_token(client)
    paused = await client.post(f"/dashboard/connections/{connection_id}/pause", data={"csrf_token": token})
    assert paused.status_code == 303
    async with database.tenant_session(tenant.id) as session:
        assert (await session.get(Connection, connection_id)).paused is True  # type: ignore[union-attr]
    overview = await client.get("/dashboard")
    assert "Books" in overview.text and "Resume" in overview.text
    await client.post(f"/dashboard/connections/{connection_id}/resume", data={"csrf_token": token})
    async with database.tenant_session(tenant.id) as session:
        assert (await session.get(Connection, connection_id)).paused is False  # type: ignore[union-attr]
