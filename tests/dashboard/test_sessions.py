"""Dashboard sessions live in PostgreSQL and trust nothing of the cookie but the key id and the session token: the
forged-support-cookie attempt, played end to end, opens nothing."""

import secrets
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI, Request
from pydantic import ValidationError
from sqlalchemy import func, text, update
from sqlalchemy.exc import DBAPIError

from core.api_keys import issue_key
from core.crypto import CredentialVault
from core.db import Database
from core.models import ApiKey, ApiKeyRole
from core.settings import Settings
from dashboard.constants import SESSION_COOKIE, SESSION_MAX_AGE_SECONDS, SESSION_SALT
from dashboard.signing import sign, unsign
from ledgerline.app import create_app
from tests.conftest import TenantFixture, make_tenant
from tests.dashboard.conftest import csrf_of, make_failed_items, page_token, sign_in

KNOWN_WEAK_SECRET = "CHANGE-ME"  # deploy/kubernetes/secret.example.yaml, copied as is


def _cookie(client: httpx.AsyncClient) -> str:
    value = client.cookies.get(SESSION_COOKIE, path="/dashboard")
    assert value, "no session cookie"
    return value


def _set_cookie(client: httpx.AsyncClient, value: str) -> None:
    client.cookies.delete(SESSION_COOKIE)
    client.cookies.set(SESSION_COOKIE, value, domain="ledgerline.test", path="/dashboard")


async def _key_id(database: Database, tenant: TenantFixture) -> uuid.UUID:
    async with database.owner_session() as session:
        found = await session.scalar(text("SELECT id FROM api_keys WHERE tenant_id = :t"), {"t": tenant.id})
    assert isinstance(found, uuid.UUID)
    return found


async def test_startup_refuses_the_weak_secret_a_forger_would_guess() -> None:
    with pytest.raises(ValidationError, match="LEDGERLINE_SESSION_SECRET"):
        Settings(env="prod", vault_keys=CredentialVault.new_key(), session_secret=KNOWN_WEAK_SECRET)


async def test_a_support_cookie_minted_for_an_admin_key_gets_no_support_access(
    client: httpx.AsyncClient, settings: Settings, database: Database, tenant: TenantFixture
) -> None:
    """The attacker holds tenant A's admin key and, for this test, even the real session secret."""
    victim = await make_tenant(database, "Victim")
    await make_failed_items(database, victim.id, count=1, connection_name="victim-books")
    admin_key_id = await _key_id(database, tenant)
    secret = settings.session_secret.get_secret_value().encode()

    # The old cookie shape: role and tenant in the signed payload. Today's dashboard reads none of it.
    forged = {"key_id": str(admin_key_id), "prefix": tenant.key.split("_")[1], "role": "support"}
    _set_cookie(client, sign(secret, SESSION_SALT, {**forged, "tenant_id": None, "csrf": "x"}))
    assert (await client.get("/dashboard/connections")).status_code == 303, "no live session, no page"
    client.cookies.delete(SESSION_COOKIE)

    # The attacker's own live session, re-signed with claims added: the key row still says tenant admin of A.
    assert (await sign_in(client, tenant.key)).status_code == 303
    own = unsign(secret, SESSION_SALT, _cookie(client), max_age=SESSION_MAX_AGE_SECONDS)
    assert own is not None and set(own) == {"key_id", "session"}, "the cookie names the key and session only"
    _set_cookie(client, sign(secret, SESSION_SALT, {**own, "role": "support", "tenant_id": str(victim.id)}))
    page = await client.get("/dashboard/connections")
    assert page.status_code == 200
    assert "Tenant admin" in page.text and "Support" not in page.text
    assert "victim-books" not in page.text

    # A session token guessed, or one belonging to another key, opens nothing.
    _set_cookie(client, sign(secret, SESSION_SALT, {"key_id": own["key_id"], "session": secrets.token_urlsafe(32)}))
    assert (await client.get("/dashboard/connections")).status_code == 303


async def test_signing_out_ends_the_session_even_for_a_copied_cookie(
    client: httpx.AsyncClient, tenant: TenantFixture
) -> None:
    await sign_in(client, tenant.key)
    copied = _cookie(client)
    assert (await client.post("/dashboard/logout", data={"csrf_token": await page_token(client)})).status_code == 303
    _set_cookie(client, copied)
    assert (await client.get("/dashboard/connections")).status_code == 303


async def test_a_key_demoted_or_moved_is_seen_on_the_next_request(
    client: httpx.AsyncClient, database: Database
) -> None:
    """Role and tenant are read from the key row each time: a support key turned admin of one tenant loses the
    other tenants at once."""
    first, second = await make_tenant(database, "First"), await make_tenant(database, "Second")
    await make_failed_items(database, first.id, count=1, connection_name="first-books")
    await make_failed_items(database, second.id, count=1, connection_name="second-books")
    async with database.owner_session() as session:
        issued = issue_key(name="helpdesk", role=ApiKeyRole.SUPPORT, tenant_id=None)
        session.add(issued.row)
    await sign_in(client, issued.plaintext)
    everything = await client.get("/dashboard/connections")
    assert "first-books" in everything.text and "second-books" in everything.text
    async with database.owner_session() as session:
        await session.execute(update(ApiKey).where(ApiKey.id == issued.row.id).values(role="admin", tenant_id=first.id))
    page = await client.get("/dashboard/connections")
    assert page.status_code == 303, "the session was opened for a support key: a changed key ends it"


async def test_an_expired_key_neither_signs_in_nor_keeps_its_session(
    client: httpx.AsyncClient, database: Database, tenant: TenantFixture
) -> None:
    async with database.owner_session() as session:
        issued = issue_key(
            name="temp", role=ApiKeyRole.ADMIN, tenant_id=tenant.id, expires_at=datetime.now(UTC) + timedelta(hours=1)
        )
        session.add(issued.row)
    assert (await sign_in(client, issued.plaintext)).status_code == 303
    assert (await client.get("/dashboard/connections")).status_code == 200
    async with database.owner_session() as session:
        await session.execute(update(ApiKey).where(ApiKey.id == issued.row.id).values(expires_at=func.now()))
    assert (await client.get("/dashboard/connections")).status_code == 303
    refused = await sign_in(client, issued.plaintext)
    assert refused.status_code == 401 and "expired" in refused.text


async def test_the_service_role_cannot_read_the_sessions_table(
    client: httpx.AsyncClient, database: Database, tenant: TenantFixture
) -> None:
    await sign_in(client, tenant.key)
    with pytest.raises(DBAPIError, match="permission denied"):
        async with database.tenant_session(tenant.id) as session:
            await session.execute(text("SELECT token_hash FROM dashboard_sessions"))
    async with database.owner_session() as session:
        stored = (await session.execute(text("SELECT token_hash, tenant_id FROM dashboard_sessions"))).all()
    assert stored and all(len(row.token_hash) == 64 for row in stored)
    assert tenant.id in {row.tenant_id for row in stored}


@pytest.fixture
async def https_app(settings: Settings) -> AsyncIterator[FastAPI]:
    """Behind a TLS-terminating proxy at 10.0.0.2: the public URL is https, the proxy speaks http to us."""
    configured = settings.model_copy(
        update={"public_url": "https://ledgerline.example.com", "trusted_proxies": ["10.0.0.2"]}
    )
    app = create_app(configured)
    async with app.router.lifespan_context(app):
        yield app


async def test_the_session_cookie_is_secure_when_the_public_url_is_https(
    https_app: FastAPI, tenant: TenantFixture
) -> None:
    """The browser speaks https to the proxy, the proxy plain http to us (and sends no X-Forwarded-Proto)."""
    transport = httpx.ASGITransport(app=https_app, client=("10.0.0.2", 5000))
    async with httpx.AsyncClient(transport=transport, base_url="http://ledgerline.internal") as proxied:
        form = await proxied.get("/dashboard/login")
        login_cookie = form.headers["set-cookie"]
        assert "Secure" in login_cookie
        response = await proxied.post(
            "/dashboard/login",
            data={"api_key": tenant.key, "csrf_token": csrf_of(form.text), "next": "/dashboard"},
            headers={"Cookie": login_cookie.split(";")[0]},
        )
    assert response.status_code == 303
    cookies = response.headers.get_list("set-cookie")
    session_cookie = next(value for value in cookies if value.startswith(f"{SESSION_COOKIE}="))
    assert "Secure" in session_cookie and "HttpOnly" in session_cookie


async def test_forwarded_headers_are_believed_only_from_a_configured_proxy(settings: Settings) -> None:
    seen: list[str] = []
    app = create_app(settings.model_copy(update={"trusted_proxies": ["10.0.0.2"]}))

    @app.get("/_seen")
    async def remember(request: Request) -> dict[str, str]:
        seen.append(f"{request.url.scheme} {request.client.host if request.client else ''}")
        return {}

    headers = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.7"}
    for client_address in ("10.0.0.2", "10.0.0.3"):
        transport = httpx.ASGITransport(app=app, client=(client_address, 5000))
        async with httpx.AsyncClient(transport=transport, base_url="http://ledgerline.internal") as caller:
            assert (await caller.get("/_seen", headers=headers)).status_code == 200
    assert seen == ["https 198.51.100.7", "http 10.0.0.3"]
