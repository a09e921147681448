"""Connecting systems through the API: Fyle by OAuth2 + PKCE through the sandbox's consent page, Intacct by
credentials proven with getAPISession before anything is stored."""

import hashlib
import html
import re
import secrets
import uuid
from collections.abc import AsyncIterator
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import func, select, update

from core.crypto import CredentialVault
from core.db import Database
from core.models import ApiKey, Connection
from core.settings import Settings
from ledgerline.app import create_app
from sandbox.fyle.constants import FYLE_SANDBOX_CLIENT_ID, FYLE_SANDBOX_CLIENT_SECRET
from sandbox.intacct.constants import SENDER_ID, SENDER_PASSWORD, SINGLE_ENTITY_COMPANY, USER_ID, USER_PASSWORD
from tests.conftest import TenantFixture
from tests.dashboard.conftest import csrf_of, make_support_key, sign_in
from tests.sandbox_fixtures import RunningSandbox

INTACCT = {"user_id": USER_ID, "company_id": SINGLE_ENTITY_COMPANY, "user_password": USER_PASSWORD}


@pytest.fixture
async def connecting_app(settings: Settings, sandbox: RunningSandbox) -> AsyncIterator[FastAPI]:
    """The app configured to reach the sandbox, with Ledgerline's sandbox app credentials."""
    configured = settings.model_copy(
        update={
            "sandbox_url": sandbox.url,
            "connector_apps": {
                "fyle": {
                    "client_id": SecretStr(FYLE_SANDBOX_CLIENT_ID),
                    "client_secret": SecretStr(FYLE_SANDBOX_CLIENT_SECRET),
                },
                "intacct": {"sender_id": SecretStr(SENDER_ID), "sender_password": SecretStr(SENDER_PASSWORD)},
            },
        }
    )
    app: FastAPI = create_app(configured)
    async with app.router.lifespan_context(app):
        yield app


def browser_of(app: FastAPI) -> httpx.AsyncClient:
    """A browser of its own: its own cookie jar, HTML preferred as a browser asks for it."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(
        transport=transport, base_url="http://ledgerline.test", headers={"Accept": "text/html,*/*;q=0.8"}
    )


@pytest.fixture
async def api(connecting_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=connecting_app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://ledgerline.test") as client:
        yield client


def consent(authorize_url: str, decision: str, *, extra: dict[str, str] | None = None) -> str:
    """What the user does on a consent page (`extra`: choices besides its hidden fields); returns where the system
    sends the browser back to."""
    with httpx.Client(timeout=10) as browser:
        page = browser.get(authorize_url)
        assert page.status_code == 200, page.text
        fields = {name: html.unescape(value) for name, value in re.findall(r'name="(\w+)" value="([^"]*)"', page.text)}
        action = urlparse(authorize_url)._replace(query="").geturl()
        answer = browser.post(action, data={**fields, "decision": decision, **(extra or {})})
    assert answer.status_code == 302
    return answer.headers["location"]


def consent_link_of(page: str) -> str:
    found = re.search(r'<a href="([^"]+)" id="continue">', page)
    assert found, "the page links to the consent page"
    return html.unescape(found.group(1))


def local_path(callback_url: str) -> str:
    parsed = urlparse(callback_url)
    return f"{parsed.path}?{parsed.query}"


async def test_fyle_connects_through_consent_with_pkce(
    api: httpx.AsyncClient, tenant: TenantFixture, database: Database, settings: Settings
) -> None:
    started = await api.get("/v1/connections/fyle/authorize", params={"name": "fyle"}, headers=tenant.headers)
    assert started.status_code == 307
    location = started.headers["location"]
    assert "code_challenge=" in location and "code_challenge_method=S256" in location

    back = consent(location, "allow")
    assert back.startswith(f"{settings.public_url}/v1/connections/fyle/callback?")
    connected = await api.get(local_path(back))
    assert connected.status_code == 200, connected.text
    assert connected.json()["status"] == "active"
    assert connected.json()["has_credentials"] is True
    assert "token" not in connected.text
    assert connected.json()["settings"]["cluster_domain"].endswith("/fyle")  # learnt right after consent

    replayed = await api.get(local_path(back))
    assert replayed.status_code == 400
    async with database.tenant_session(tenant.id) as session:
        row = (await session.scalars(select(Connection).where(Connection.name == "fyle"))).one()
    stored = CredentialVault(settings.vault_key_list()).decrypt(row.credentials or b"")
    assert stored["access_token"] and stored["refresh_token"]


async def test_a_declined_consent_stores_nothing(api: httpx.AsyncClient, tenant: TenantFixture) -> None:
    started = await api.get("/v1/connections/fyle/authorize", params={"name": "fyle"}, headers=tenant.headers)
    back = consent(started.headers["location"], "deny")
    declined = await api.get(local_path(back))
    assert declined.status_code == 400
    assert "did not authorize" in declined.json()["detail"]
    assert (await api.get("/v1/connections", headers=tenant.headers)).json()["items"] == []


async def test_a_forged_state_is_refused(api: httpx.AsyncClient) -> None:
    response = await api.get("/v1/connections/fyle/callback", params={"code": "c", "state": "forged"})
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"


async def test_intacct_credentials_are_checked_before_they_are_stored(
    api: httpx.AsyncClient, tenant: TenantFixture
) -> None:
    refused = await api.post(
        "/v1/connections/intacct/credentials",
        headers=tenant.headers,
        json={"name": "books", "credentials": {**INTACCT, "user_password": "wrong-password"}},
    )
    assert refused.status_code == 400
    assert refused.json()["type"].endswith("credentials-refused")
    assert "wrong-password" not in refused.text
    assert (await api.get("/v1/connections", headers=tenant.headers)).json()["items"] == []

    accepted = await api.post(
        "/v1/connections/intacct/credentials", headers=tenant.headers, json={"name": "books", "credentials": INTACCT}
    )
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["status"] == "active" and accepted.json()["role"] == "destination"
    assert USER_PASSWORD not in accepted.text


async def test_missing_or_unknown_credential_fields_are_422(api: httpx.AsyncClient, tenant: TenantFixture) -> None:
    response = await api.post(
        "/v1/connections/intacct/credentials",
        headers=tenant.headers,
        json={"name": "books", "credentials": {"company_id": SINGLE_ENTITY_COMPANY, "colour": "blue"}},
    )
    assert response.status_code == 422
    fields = {error["field"] for error in response.json()["errors"]}
    assert {"credentials.user_id", "credentials.user_password", "credentials.colour"} <= fields


async def test_the_wrong_flow_for_a_system_says_which_one_to_use(api: httpx.AsyncClient, tenant: TenantFixture) -> None:
    oauth_via_credentials = await api.post(
        "/v1/connections/fyle/credentials", headers=tenant.headers, json={"name": "f", "credentials": {}}
    )
    credentials_via_oauth = await api.get(
        "/v1/connections/intacct/authorize", params={"name": "i"}, headers=tenant.headers
    )
    unknown = await api.get("/v1/connections/netsuite/authorize", params={"name": "n"}, headers=tenant.headers)
    assert oauth_via_credentials.status_code == 400 and "authorize" in oauth_via_credentials.json()["detail"]
    assert credentials_via_oauth.status_code == 400 and "credentials" in credentials_via_oauth.json()["detail"]
    assert unknown.status_code == 404


async def test_a_tenant_admin_reconnects_from_the_dashboard_and_comes_back_to_it(
    api: httpx.AsyncClient, tenant: TenantFixture, database: Database
) -> None:
    started = await api.get("/v1/connections/fyle/authorize", params={"name": "fyle"}, headers=tenant.headers)
    assert (await api.get(local_path(consent(started.headers["location"], "allow")))).status_code == 200
    async with database.tenant_session(tenant.id) as session:
        row = (await session.scalars(select(Connection).where(Connection.name == "fyle"))).one()
        row.status, row.status_reason = "needs_reauth", "Fyle refused the refresh token"
        connection_id = row.id

    assert (await sign_in(api, tenant.key)).status_code == 303
    page = await api.get("/dashboard/connections")
    assert "Re-connect fyle" in page.text
    forged = await api.post(f"/dashboard/connections/{connection_id}/reconnect", data={})
    assert forged.status_code == 403, "no CSRF token, no redirect to the consent page"
    redirected = await api.post(
        f"/dashboard/connections/{connection_id}/reconnect", data={"csrf_token": csrf_of(page.text)}
    )
    assert redirected.status_code == 200, "a page moving on by itself: the dashboard's CSP forbids the redirect"
    back = await api.get(local_path(consent(consent_link_of(redirected.text), "allow")))
    assert back.status_code == 200 and 'content="0;url=/dashboard/connections"' in back.text
    async with database.tenant_session(tenant.id) as session:
        row = await session.get(Connection, connection_id, populate_existing=True)
        assert row is not None and (row.status, row.status_reason) == ("active", None)


async def test_support_cannot_start_a_tenants_authorization(
    api: httpx.AsyncClient, tenant: TenantFixture, database: Database
) -> None:
    async with database.tenant_session(tenant.id) as session:
        row = Connection(
            id=uuid.uuid4(),
            tenant_id=tenant.id,
            name="fyle",
            provider="fyle",
            role="source",
            status="needs_reauth",
            webhook_key=secrets.token_hex(8),
        )
        session.add(row)
    assert (await sign_in(api, await make_support_key(database))).status_code == 303
    token = csrf_of((await api.get("/dashboard/connections")).text)
    refused = await api.post(f"/dashboard/connections/{row.id}/reconnect", data={"csrf_token": token})
    assert refused.status_code == 403


async def _connections_of(database: Database, tenant_id: uuid.UUID) -> list[str]:
    async with database.tenant_session(tenant_id) as session:
        return list((await session.scalars(select(Connection.name))).all())


async def test_a_consent_link_sent_to_another_tenants_admin_stores_nothing(
    connecting_app: FastAPI, tenant: TenantFixture, other_tenant: TenantFixture, database: Database
) -> None:
    """Tenant A's admin starts connecting Fyle and sends the consent link to tenant B's admin, whose browser (signed
    in to Ledgerline as B) gives consent for B's Fyle organisation. A must not receive B's tokens."""
    async with browser_of(connecting_app) as browser_a, browser_of(connecting_app) as browser_b:
        started = await browser_a.get("/v1/connections/fyle/authorize", params={"name": "fyle"}, headers=tenant.headers)
        assert started.status_code == 307
        consent_link = started.headers["location"]

        assert (await sign_in(browser_b, other_tenant.key)).status_code == 303
        callback = local_path(consent(consent_link, "allow"))
        back = await browser_b.get(callback)
        assert back.status_code == 403
        assert back.headers["content-type"].startswith("text/html")
        assert "must be finished in the browser that started it" in back.text
        assert "Nothing was saved" in back.text

        assert await _connections_of(database, tenant.id) == []
        assert await _connections_of(database, other_tenant.id) == []
        # The state is spent: A's own browser cannot use the link B's browser carried back either.
        assert (await browser_a.get(callback)).status_code == 400
    assert await _connections_of(database, tenant.id) == []


async def test_the_state_cookie_is_a_short_lived_lax_http_only_hash_of_the_state(
    api: httpx.AsyncClient, tenant: TenantFixture
) -> None:
    started = await api.get("/v1/connections/fyle/authorize", params={"name": "fyle"}, headers=tenant.headers)
    state = parse_qs(urlparse(started.headers["location"]).query)["state"][0]
    cookie = started.headers["set-cookie"]
    assert cookie.startswith(f"ll_oauth_state={hashlib.sha256(state.encode()).hexdigest()};")
    assert state not in cookie
    for attribute in ("HttpOnly", "SameSite=lax", "Max-Age=600", "Path=/v1/connections/fyle/callback"):
        assert attribute in cookie


async def test_a_callback_without_the_cookie_answers_problem_json_and_stores_nothing(
    api: httpx.AsyncClient, tenant: TenantFixture
) -> None:
    started = await api.get("/v1/connections/fyle/authorize", params={"name": "fyle"}, headers=tenant.headers)
    back = consent(started.headers["location"], "allow")
    api.cookies.clear()
    refused = await api.get(local_path(back))
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["type"].endswith("authorization-from-another-browser")
    assert (await api.get("/v1/connections", headers=tenant.headers)).json()["items"] == []


async def test_a_flow_whose_key_was_revoked_meanwhile_stores_nothing(
    api: httpx.AsyncClient, tenant: TenantFixture, database: Database
) -> None:
    started = await api.get("/v1/connections/fyle/authorize", params={"name": "fyle"}, headers=tenant.headers)
    async with database.owner_session() as session:
        await session.execute(update(ApiKey).where(ApiKey.tenant_id == tenant.id).values(revoked_at=func.now()))
    refused = await api.get(local_path(consent(started.headers["location"], "allow")))
    assert refused.status_code == 403 and "has ended" in refused.json()["detail"]
    assert await _connections_of(database, tenant.id) == []


async def test_a_dashboard_flow_after_sign_out_stores_nothing(
    api: httpx.AsyncClient, tenant: TenantFixture, database: Database
) -> None:
    async with database.tenant_session(tenant.id) as session:
        row = Connection(
            id=uuid.uuid4(),
            tenant_id=tenant.id,
            name="fyle",
            provider="fyle",
            role="source",
            status="needs_reauth",
            webhook_key=secrets.token_hex(8),
        )
        session.add(row)
    assert (await sign_in(api, tenant.key)).status_code == 303
    token = csrf_of((await api.get("/dashboard/connections")).text)
    redirected = await api.post(f"/dashboard/connections/{row.id}/reconnect", data={"csrf_token": token})
    assert redirected.status_code == 200
    assert "ll_oauth_state=" in redirected.headers["set-cookie"]
    assert (await api.post("/dashboard/logout", data={"csrf_token": token})).status_code == 303
    refused = await api.get(local_path(consent(consent_link_of(redirected.text), "allow")))
    assert refused.status_code == 403
    async with database.tenant_session(tenant.id) as session:
        after = await session.get(Connection, row.id, populate_existing=True)
        assert after is not None and after.status == "needs_reauth" and after.credentials is None
