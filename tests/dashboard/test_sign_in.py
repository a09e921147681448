"""Signing in to the dashboard: which keys open it, the cookie it sets, and CSRF on every form."""

import httpx

from core.db import Database
from tests.conftest import TenantFixture
from tests.dashboard.conftest import csrf_of, page_token, sign_in


async def test_pages_send_a_signed_out_browser_to_the_sign_in_form(client: httpx.AsyncClient) -> None:
    response = await client.get("/dashboard/connections")
    assert response.status_code == 303
    assert response.headers["location"] == "/dashboard/login?next=/dashboard/connections"


async def test_a_tenant_admin_key_signs_in_with_a_strict_http_only_cookie(
    client: httpx.AsyncClient, tenant: TenantFixture
) -> None:
    response = await sign_in(client, tenant.key)
    assert response.status_code == 303 and response.headers["location"] == "/dashboard"
    cookie = next(value for value in response.headers.get_list("set-cookie") if value.startswith("ll_dashboard="))
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/dashboard" in cookie
    page = await client.get("/dashboard/connections")
    assert page.status_code == 200 and "Tenant admin" in page.text


async def test_a_support_key_signs_in(client: httpx.AsyncClient, support_key: str) -> None:
    assert (await sign_in(client, support_key)).status_code == 303
    page = await client.get("/dashboard/connections")
    assert page.status_code == 200 and "Support" in page.text


async def test_a_wrong_or_malformed_key_is_refused(client: httpx.AsyncClient, tenant: TenantFixture) -> None:
    for wrong in (tenant.key[:-2] + "xx", "not-a-key", "ll_nope_nothing"):
        response = await sign_in(client, wrong)
        assert response.status_code == 401
        assert "unknown, revoked or expired" in response.text
        assert "ll_dashboard=" not in "".join(response.headers.get_list("set-cookie"))
    assert (await client.get("/dashboard/connections")).status_code == 303


async def test_sign_in_without_its_csrf_token_is_refused(client: httpx.AsyncClient, tenant: TenantFixture) -> None:
    await client.get("/dashboard/login")
    response = await client.post("/dashboard/login", data={"api_key": tenant.key})
    assert response.status_code == 403


async def test_a_post_without_the_session_csrf_token_is_refused(
    client: httpx.AsyncClient, tenant: TenantFixture
) -> None:
    await sign_in(client, tenant.key)
    assert (await client.post("/dashboard/logout")).status_code == 403
    assert (await client.post("/dashboard/logout", data={"csrf_token": "forged"})).status_code == 403
    assert (await client.get("/dashboard/connections")).status_code == 200  # still signed in


async def test_sign_out_ends_the_session(client: httpx.AsyncClient, tenant: TenantFixture) -> None:
    await sign_in(client, tenant.key)
    response = await client.post("/dashboard/logout", data={"csrf_token": await page_token(client)})
    assert response.status_code == 303
    assert (await client.get("/dashboard/connections")).status_code == 303


async def test_a_forged_session_cookie_is_ignored(client: httpx.AsyncClient, tenant: TenantFixture) -> None:
    await sign_in(client, tenant.key)
    value = client.cookies.get("ll_dashboard", path="/dashboard")
    assert value
    client.cookies.set("ll_dashboard", value[:-3] + "abc", path="/dashboard")
    assert (await client.get("/dashboard/connections")).status_code == 303


async def test_revoking_the_key_ends_its_dashboard_session(
    client: httpx.AsyncClient, database: Database, tenant: TenantFixture
) -> None:
    from sqlalchemy import func, update

    from core.models import ApiKey

    await sign_in(client, tenant.key)
    async with database.owner_session() as session:
        await session.execute(update(ApiKey).where(ApiKey.tenant_id == tenant.id).values(revoked_at=func.now()))
    assert (await client.get("/dashboard/connections")).status_code == 303


async def test_the_login_page_never_redirects_off_site(client: httpx.AsyncClient, tenant: TenantFixture) -> None:
    form = await client.get("/dashboard/login")
    response = await client.post(
        "/dashboard/login",
        data={"api_key": tenant.key, "csrf_token": csrf_of(form.text), "next": "https://evil.example/x"},
    )
    assert response.headers["location"] == "/dashboard"
