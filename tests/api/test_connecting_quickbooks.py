"""Connecting QuickBooks Online through the API: Intuit's consent page names the company (realm) on the callback,
and the connection keeps it; a callback that names none, or a company the tokens cannot read, stores nothing."""

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import select

from core.crypto import CredentialVault
from core.db import Database
from core.models import Connection
from core.settings import Settings
from ledgerline.app import create_app
from sandbox.quickbooks.constants import CLIENT_ID, CLIENT_SECRET, MAIN_REALM, UK_REALM
from tests.api.test_connecting import consent, local_path
from tests.conftest import TenantFixture
from tests.sandbox_fixtures import RunningSandbox


@pytest.fixture
async def api(settings: Settings, sandbox: RunningSandbox) -> AsyncIterator[httpx.AsyncClient]:
    apps = {"quickbooks": {"client_id": SecretStr(CLIENT_ID), "client_secret": SecretStr(CLIENT_SECRET)}}
    app: FastAPI = create_app(settings.model_copy(update={"sandbox_url": sandbox.url, "connector_apps": apps}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://ledgerline.test") as client:
            yield client


async def _connections(database: Database, tenant: TenantFixture) -> list[Connection]:
    async with database.tenant_session(tenant.id) as session:
        return list((await session.scalars(select(Connection).where(Connection.provider == "quickbooks"))).all())


async def test_quickbooks_connects_through_consent_and_keeps_the_company_it_names(
    api: httpx.AsyncClient, tenant: TenantFixture, database: Database, settings: Settings
) -> None:
    started = await api.get("/v1/connections/quickbooks/authorize", params={"name": "books"}, headers=tenant.headers)
    assert started.status_code == 307
    location = started.headers["location"]
    assert "code_challenge" not in location  # Intuit documents no PKCE
    assert "scope=com.intuit.quickbooks.accounting" in location

    back = consent(location, "allow")
    assert f"realmId={MAIN_REALM}" in back
    connected = await api.get(local_path(back))
    assert connected.status_code == 200, connected.text
    assert connected.json()["settings"]["realm_id"] == MAIN_REALM
    [row] = await _connections(database, tenant)
    stored = CredentialVault(settings.vault_key_list()).decrypt(row.credentials or b"")
    assert stored["access_token"] and stored["refresh_token"]


async def test_a_callback_naming_no_company_stores_nothing(
    api: httpx.AsyncClient, tenant: TenantFixture, database: Database
) -> None:
    started = await api.get("/v1/connections/quickbooks/authorize", params={"name": "books"}, headers=tenant.headers)
    back = consent(started.headers["location"], "allow")
    without_realm = local_path(back).replace(f"realmId={MAIN_REALM}", "realmId=")
    refused = await api.get(without_realm)
    assert refused.status_code == 503
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert "company" in refused.json()["detail"]
    assert await _connections(database, tenant) == []


async def test_a_callback_naming_a_company_the_grant_does_not_cover_stores_nothing(
    api: httpx.AsyncClient, tenant: TenantFixture, database: Database
) -> None:
    """A hostile edit of the callback pointing the connection at another company: the read with the new tokens is
    refused (403, code 3100), so nothing is stored."""
    started = await api.get("/v1/connections/quickbooks/authorize", params={"name": "books"}, headers=tenant.headers)
    back = consent(started.headers["location"], "allow")
    refused = await api.get(local_path(back).replace(f"realmId={MAIN_REALM}", "realmId=9341453050807721"))
    assert refused.status_code == 503
    assert await _connections(database, tenant) == []


async def test_re_authorizing_through_another_company_is_refused_and_keeps_the_connection_as_it_was(
    api: httpx.AsyncClient, tenant: TenantFixture, database: Database
) -> None:
    """Its exports name documents of the first company; pointed at another, every lookup would prove them absent and
    every one would be created again there. A new connection is the way to another company."""
    started = await api.get("/v1/connections/quickbooks/authorize", params={"name": "books"}, headers=tenant.headers)
    assert (await api.get(local_path(consent(started.headers["location"], "allow")))).status_code == 200
    [before] = await _connections(database, tenant)

    again = await api.get("/v1/connections/quickbooks/authorize", params={"name": "books"}, headers=tenant.headers)
    back = consent(again.headers["location"], "allow", extra={"realmId": UK_REALM})
    refused = await api.get(local_path(back))

    assert refused.status_code == 409, refused.text
    assert "books" in refused.json()["detail"] and "new connection" in refused.json()["detail"]
    [after] = await _connections(database, tenant)
    assert after.settings["realm_id"] == MAIN_REALM
    assert after.credentials == before.credentials
