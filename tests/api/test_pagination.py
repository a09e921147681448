import httpx

from tests.conftest import TenantFixture


async def test_cursor_pages_cover_every_row_once(client: httpx.AsyncClient, tenant: TenantFixture) -> None:
    created = set()
    for index in range(7):
        response = await client.post(
            "/v1/connections",
            headers=tenant.headers,
            json={"name": f"c{index}", "provider": "intacct", "role": "destination"},
        )
        created.add(response.json()["id"])
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/v1/connections", headers=tenant.headers, params=params)).json()
        seen.extend(item["id"] for item in page["items"])
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert len(seen) == len(set(seen)) == 7
    assert set(seen) == created


async def test_a_forged_cursor_is_400(client: httpx.AsyncClient, tenant: TenantFixture) -> None:
    response = await client.get("/v1/connections", headers=tenant.headers, params={"cursor": "not-a-cursor!"})
    assert response.status_code == 400
    assert response.json()["title"] == "Bad Request"
    assert "cursor" in response.json()["detail"]
