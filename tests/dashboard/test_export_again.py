"""Export again from the dashboard: a page states the duplicate risk, and only its confirmed, reasoned, CSRF-checked
form gives the item a new key."""

import httpx
from sqlalchemy import select

from core.db import Database
from core.models import AuditEvent
from tests.conftest import TenantFixture
from tests.dashboard.conftest import make_failed_items, page_token, sign_in
from tests.dashboard.test_actions import item_state

REASON = "the bill was deleted in Intacct to be corrected"


async def test_the_confirmation_page_states_the_risk_and_an_unconfirmed_form_changes_nothing(
    client: httpx.AsyncClient, database: Database, tenant: TenantFixture, support_key: str
) -> None:
    [item_id] = await make_failed_items(database, tenant.id, count=1)
    await sign_in(client, support_key)
    item_page = await client.get(f"/dashboard/items/{item_id}")
    assert f'href="/dashboard/items/{item_id}/export-again"' in item_page.text
    page = await client.get(f"/dashboard/items/{item_id}/export-again")
    assert page.status_code == 200
    assert "may still exist in the destination" in page.text and "second one" in page.text
    assert f"ll-{item_id.hex}" in page.text  # the key the destination knows it by
    token = await page_token(client, f"/dashboard/items/{item_id}/export-again")
    unconfirmed = await client.post(
        f"/dashboard/items/{item_id}/export-again", data={"csrf_token": token, "reason": REASON}
    )
    assert unconfirmed.status_code == 303
    assert unconfirmed.headers["location"] == f"/dashboard/items/{item_id}/export-again"
    assert "needs an explicit confirmation" in (await client.get(unconfirmed.headers["location"])).text
    no_csrf = await client.post(
        f"/dashboard/items/{item_id}/export-again", data={"confirm_duplicate_risk": "yes", "reason": REASON}
    )
    assert no_csrf.status_code == 403
    item = await item_state(database, tenant, item_id)
    assert (item.state, item.idempotency_key) == ("needs_action", f"ll-{item_id.hex}")


async def test_a_confirmed_export_again_gives_a_new_key_and_is_audited_with_the_dashboard_user(
    client: httpx.AsyncClient, database: Database, tenant: TenantFixture
) -> None:
    [item_id] = await make_failed_items(database, tenant.id, count=1)
    await sign_in(client, tenant.key)
    token = await page_token(client, f"/dashboard/items/{item_id}/export-again")
    done = await client.post(
        f"/dashboard/items/{item_id}/export-again",
        data={"csrf_token": token, "confirm_duplicate_risk": "yes", "reason": REASON},
    )
    assert done.status_code == 303 and done.headers["location"] == f"/dashboard/items/{item_id}"
    item = await item_state(database, tenant, item_id)
    assert item.state == "pending" and item.idempotency_key != f"ll-{item_id.hex}"
    assert f"pending under the new key {item.idempotency_key}" in (await client.get(done.headers["location"])).text
    async with database.tenant_session(tenant.id) as session:
        event = await session.scalar(
            select(AuditEvent).where(AuditEvent.entity_id == str(item_id), AuditEvent.action == "export_item.pending")
        )
    assert event is not None and event.actor.startswith("dashboard:")
    assert (event.data["previous_key"], event.data["stated_reason"]) == (f"ll-{item_id.hex}", REASON)
    again = await client.post(
        f"/dashboard/items/{item_id}/export-again",
        data={"csrf_token": token, "confirm_duplicate_risk": "yes", "reason": REASON},
    )
    assert "cannot be exported again" in (await client.get(again.headers["location"])).text


async def test_a_tenant_admin_cannot_export_another_tenants_item_again(
    client: httpx.AsyncClient, database: Database, tenant: TenantFixture, other_tenant: TenantFixture
) -> None:
    [theirs] = await make_failed_items(database, other_tenant.id, count=1)
    await sign_in(client, tenant.key)
    assert (await client.get(f"/dashboard/items/{theirs}/export-again")).status_code == 404
    token = await page_token(client)
    posted = await client.post(
        f"/dashboard/items/{theirs}/export-again",
        data={"csrf_token": token, "confirm_duplicate_risk": "yes", "reason": REASON},
    )
    assert posted.status_code == 404
    assert (await item_state(database, other_tenant, theirs)).state == "needs_action"
