"""`/v1/connections/{id}/destination-attributes`: search by name or code, filter by type and activity."""

import httpx

from core.db import Database
from tests.conftest import TenantFixture
from tests.mappings.seed import STANDARD_ATTRIBUTES, api_world


async def _names(client: httpx.AsyncClient, owner: TenantFixture, path: str, **params: object) -> list[str]:
    response = await client.get(path, headers=owner.headers, params=params)
    assert response.status_code == 200, response.text
    return sorted(item["remote_id"] for item in response.json()["items"])


async def test_search_by_type_text_and_activity(
    client: httpx.AsyncClient, database: Database, tenant: TenantFixture
) -> None:
    world = await api_world(client, database, tenant)
    path = f"/v1/connections/{world.destination_id}/destination-attributes"
    assert len(await _names(client, tenant, path)) == len(STANDARD_ATTRIBUTES)
    assert await _names(client, tenant, path, attribute_type="expense_type") == ["ET-MEALS", "ET-TRAVEL"]
    assert await _names(client, tenant, path, q="sam lee") == ["E-SAM1", "E-SAM2"]
    assert await _names(client, tenant, path, q="trv") == ["ET-TRAVEL"], "the code matches too"
    assert await _names(client, tenant, path, attribute_type="location", active="false") == ["L-OLD"]
    assert await _names(client, tenant, path, attribute_type="location", active="true") == ["L-HQ"]
    assert await _names(client, tenant, path, q="%") == [], "wildcards in a search are literal"


async def test_pages_cover_every_attribute_once(
    client: httpx.AsyncClient, database: Database, tenant: TenantFixture
) -> None:
    world = await api_world(client, database, tenant)
    path = f"/v1/connections/{world.destination_id}/destination-attributes"
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 4, **({"cursor": cursor} if cursor else {})}
        page = (await client.get(path, headers=tenant.headers, params=params)).json()
        seen.extend(item["id"] for item in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == len(STANDARD_ATTRIBUTES)
