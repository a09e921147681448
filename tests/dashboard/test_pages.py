"""The dashboard's pages render real data, and a tenant admin sees only their own tenant."""

import re

import httpx

from core.db import Database
from tests.conftest import TenantFixture
from tests.dashboard.conftest import make_failed_items, sign_in


async def test_support_sees_every_tenant_on_the_overview_and_failures_list(
    client: httpx.AsyncClient, database: Database, tenant: TenantFixture, other_tenant: TenantFixture, support_key: str
) -> None:
    mine = await make_failed_items(database, tenant.id, count=2)
    theirs = await make_failed_items(database, other_tenant.id, count=1, error_class="mapping")
    await sign_in(client, support_key)
    overview = await client.get("/dashboard")
    assert overview.status_code == 200
    assert "<svg" in overview.text and "Needing action, by tenant" in overview.text
    listing = await client.get("/dashboard/items", params={"tenant": str(tenant.id)})
    assert listing.status_code == 200
    assert all(str(item_id) in listing.text for item_id in mine)
    assert str(theirs[0]) not in listing.text
    everyone = await client.get("/dashboard/items")
    assert all(str(item_id) in everyone.text for item_id in [*mine, *theirs])


async def test_a_tenant_admin_sees_only_their_tenant_even_when_asking_for_another(
    client: httpx.AsyncClient, database: Database, tenant: TenantFixture, other_tenant: TenantFixture
) -> None:
    mine = await make_failed_items(database, tenant.id, count=1)
    theirs = await make_failed_items(database, other_tenant.id, count=1)
    await sign_in(client, tenant.key)
    listing = await client.get("/dashboard/items", params={"tenant": str(other_tenant.id)})
    assert listing.status_code == 200
    assert str(mine[0]) in listing.text and str(theirs[0]) not in listing.text
    assert (await client.get(f"/dashboard/items/{mine[0]}")).status_code == 200
    refused = await client.get(f"/dashboard/items/{theirs[0]}")
    assert refused.status_code == 404 and "Not found" in refused.text
    connections = await client.get("/dashboard/connections")
    assert "Globex" not in connections.text


async def test_the_item_page_explains_the_failure_and_never_shows_credentials(
    client: httpx.AsyncClient, database: Database, tenant: TenantFixture, support_key: str
) -> None:
    [item_id] = await make_failed_items(database, tenant.id, count=1)
    await sign_in(client, support_key)
    page = await client.get(f"/dashboard/items/{item_id}")
    assert page.status_code == 200
    for expected in (
        "The period 2024-03 is closed.",
        "Open the period in Intacct",
        "BL01001973",
        "Attempts",
        "Audit trail",
        "worker:w1",
        "Replay this item",
        "Reason to skip",
        "[redacted]",
    ):
        assert expected in page.text, expected
    assert "ciphertext-never-shown" not in page.text


async def test_filters_search_and_pagination_narrow_the_list(
    client: httpx.AsyncClient, database: Database, tenant: TenantFixture
) -> None:
    await make_failed_items(database, tenant.id, count=3, message="Vendor V9 is inactive.")
    closed = await make_failed_items(database, tenant.id, count=1, message="The period is closed.")
    await sign_in(client, tenant.key)
    found = await client.get("/dashboard/items", params={"q": "closed"})
    assert str(closed[0]) in found.text and "Vendor V9" not in found.text
    rows = re.compile(r'name="item_id" value="([0-9a-f-]+)"')
    first = await client.get("/dashboard/items", params={"q": "inactive"})
    assert len(rows.findall(first.text)) == 3
    assert (await client.get("/dashboard/items", params={"error_class": "nothing"})).text.count('name="item_id"') == 0
    assert (await client.get("/dashboard/items", params={"cursor": "garbage"})).status_code == 200


async def test_connections_and_webhook_pages_render(
    client: httpx.AsyncClient, database: Database, tenant: TenantFixture
) -> None:
    await make_failed_items(database, tenant.id, count=1, connection_name="Intacct main")
    await sign_in(client, tenant.key)
    page = await client.get("/dashboard/connections")
    assert page.status_code == 200 and "Intacct main" in page.text and "Pause" in page.text
    assert "ciphertext-never-shown" not in page.text
    assert (await client.get("/dashboard/webhooks", params={"state": "failed"})).status_code == 200
