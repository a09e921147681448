"""The tenant admin's onboarding pages: connect (credentials checked before saving, errors beside their fields; OAuth
consent that comes back to a page saying what happened), import, export — and nobody else's tenant, ever."""

import re
import uuid
from collections.abc import AsyncIterator
from urllib.parse import urlparse

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import select

from core.db import Database
from core.models import Connection, SyncRun
from core.settings import Settings
from ledgerline.app import create_app
from sandbox.fyle.constants import FYLE_SANDBOX_CLIENT_ID, FYLE_SANDBOX_CLIENT_SECRET
from sandbox.intacct.constants import SENDER_ID, SENDER_PASSWORD, SINGLE_ENTITY_COMPANY, USER_ID, USER_PASSWORD
from tests.api.test_connecting import consent
from tests.conftest import TenantFixture
from tests.dashboard.conftest import csrf_of, sign_in
from tests.sandbox_fixtures import RunningSandbox

INTACCT = {"user_id": USER_ID, "company_id": SINGLE_ENTITY_COMPANY, "user_password": USER_PASSWORD}


@pytest.fixture
async def setup_app(settings: Settings, sandbox: RunningSandbox) -> AsyncIterator[FastAPI]:
    apps = {
        "fyle": {
            "client_id": SecretStr(FYLE_SANDBOX_CLIENT_ID),
            "client_secret": SecretStr(FYLE_SANDBOX_CLIENT_SECRET),
        },
        "intacct": {"sender_id": SecretStr(SENDER_ID), "sender_password": SecretStr(SENDER_PASSWORD)},
    }
    app: FastAPI = create_app(settings.model_copy(update={"sandbox_url": sandbox.url, "connector_apps": apps}))
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def browser(setup_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=setup_app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://ledgerline.test") as client:
        yield client


async def _connect_intacct(browser: httpx.AsyncClient, **fields: str) -> httpx.Response:
    form = await browser.get("/dashboard/setup/connect/intacct")
    assert form.status_code == 200
    return await browser.post(
        "/dashboard/setup/connect/intacct",
        data={"csrf_token": csrf_of(form.text), "name": "books", **fields},
    )


async def _connections(database: Database, tenant: TenantFixture) -> list[Connection]:
    async with database.tenant_session(tenant.id) as session:
        return list((await session.scalars(select(Connection))).all())


async def test_the_setup_page_offers_every_installed_system_to_a_tenant_admin_only(
    browser: httpx.AsyncClient, tenant: TenantFixture, support_key: str
) -> None:
    await sign_in(browser, tenant.key)
    page = await browser.get("/dashboard/setup")
    assert page.status_code == 200
    for system in ("fyle", "intacct", "quickbooks"):
        assert f'id="connect-{system}"' in page.text
    assert "Nothing is connected yet" in page.text
    browser.cookies.clear()
    await sign_in(browser, support_key)
    refused = await browser.get("/dashboard/setup")
    assert refused.status_code == 403 and "admin" in refused.text


async def test_credentials_are_checked_with_the_system_and_each_problem_shows_beside_its_field(
    browser: httpx.AsyncClient, tenant: TenantFixture, database: Database
) -> None:
    await sign_in(browser, tenant.key)
    missing = await _connect_intacct(browser, user_id=USER_ID, company_id="", user_password="")
    assert missing.status_code == 422
    assert 'id="error-company_id"' in missing.text and 'id="error-user_password"' in missing.text
    assert f'value="{USER_ID}"' in missing.text  # what was typed is kept, secrets excepted

    refused = await _connect_intacct(browser, **{**INTACCT, "user_password": "not-the-password"})
    assert refused.status_code == 422
    assert 'id="form-error"' in refused.text and "refused these credentials" in refused.text
    assert "not-the-password" not in refused.text
    assert await _connections(database, tenant) == []

    connected = await _connect_intacct(browser, **INTACCT)
    assert connected.status_code == 303
    [row] = await _connections(database, tenant)
    assert connected.headers["location"] == f"/dashboard/setup/destinations/{row.id}/import"
    landing = await browser.get(connected.headers["location"])
    assert "Connected Sage Intacct as “books”" in landing.text
    assert "GL account" in landing.text  # the spec's labels, not raw type names


async def test_fyle_connects_through_its_consent_page_and_comes_back_to_say_what_is_next(
    browser: httpx.AsyncClient, tenant: TenantFixture, database: Database
) -> None:
    await sign_in(browser, tenant.key)
    form = await browser.get("/dashboard/setup/connect/fyle")
    onward = await browser.post(
        "/dashboard/setup/connect/fyle", data={"csrf_token": csrf_of(form.text), "name": "fyle"}
    )
    assert onward.status_code == 200
    found = re.search(r'<a href="([^"]+)" id="continue">', onward.text)
    assert found
    back = urlparse(consent(found.group(1).replace("&amp;", "&"), "allow"))
    returned = await browser.get(f"{back.path}?{back.query}")
    assert returned.status_code == 200
    target = re.search(r'url=([^"]+)"', returned.text)
    assert target and target.group(1) == "/dashboard/setup/connected/fyle"
    landing = await browser.get(target.group(1))
    assert landing.status_code == 200 and "Fyle is connected" in landing.text and "Next" in landing.text
    [row] = await _connections(database, tenant)
    assert (row.provider, row.name) == ("fyle", "fyle")


async def test_a_declined_consent_comes_back_to_a_page_that_explains_it_and_stores_nothing(
    browser: httpx.AsyncClient, tenant: TenantFixture, database: Database
) -> None:
    await sign_in(browser, tenant.key)
    form = await browser.get("/dashboard/setup/connect/fyle")
    onward = await browser.post(
        "/dashboard/setup/connect/fyle", data={"csrf_token": csrf_of(form.text), "name": "fyle"}
    )
    found = re.search(r'<a href="([^"]+)" id="continue">', onward.text)
    assert found
    back = urlparse(consent(found.group(1).replace("&amp;", "&"), "deny"))
    returned = await browser.get(f"{back.path}?{back.query}")
    target = re.search(r'url=([^"]+)"', returned.text)
    assert target and target.group(1).startswith("/dashboard/setup/connected/fyle?error=")
    landing = await browser.get(target.group(1).replace("&amp;", "&"))
    assert landing.status_code == 400
    assert "Fyle was not connected" in landing.text and "did not authorize" in landing.text
    assert "application/json" not in landing.headers["content-type"]
    assert await _connections(database, tenant) == []


async def test_import_and_export_start_runs_and_the_schedule_is_saved(
    browser: httpx.AsyncClient, tenant: TenantFixture, database: Database
) -> None:
    await sign_in(browser, tenant.key)
    connected = await _connect_intacct(browser, **INTACCT)
    import_page = connected.headers["location"]
    destination = import_page.split("/")[-2]
    page = await browser.get(import_page)
    started = await browser.post(import_page, data={"csrf_token": csrf_of(page.text)})
    assert started.status_code == 303
    export_path = f"/dashboard/setup/destinations/{destination}/export"
    page = await browser.get(export_path)
    assert page.status_code == 200 and 'id="export-now"' in page.text
    await browser.post(export_path, data={"csrf_token": csrf_of(page.text)})
    async with database.tenant_session(tenant.id) as session:
        kinds = sorted((await session.scalars(select(SyncRun.kind))).all())
    assert kinds == ["import", "pull", "sync"]
    saved = await browser.post(
        f"/dashboard/setup/destinations/{destination}/schedule",
        data={"csrf_token": csrf_of(page.text), "interval": "60", "realtime": "on"},
    )
    assert saved.status_code == 303
    [row] = await _connections(database, tenant)
    assert row.sync_interval_minutes == 60 and row.settings["realtime_export"] is True
    odd = await browser.post(
        f"/dashboard/setup/destinations/{destination}/schedule",
        data={"csrf_token": csrf_of(page.text), "interval": "7"},
    )
    assert odd.status_code == 303
    [row] = await _connections(database, tenant)
    assert row.sync_interval_minutes == 60


async def test_another_tenants_destination_is_not_found_on_every_step(
    browser: httpx.AsyncClient, tenant: TenantFixture, other_tenant: TenantFixture, database: Database
) -> None:
    await sign_in(browser, other_tenant.key)
    theirs = (await _connect_intacct(browser, **INTACCT)).headers["location"].split("/")[-2]
    browser.cookies.clear()
    await sign_in(browser, tenant.key)
    for step in ("import", "export"):
        refused = await browser.get(f"/dashboard/setup/destinations/{theirs}/{step}")
        assert refused.status_code == 404
    page = await browser.get("/dashboard/setup")
    started = await browser.post(
        f"/dashboard/setup/destinations/{theirs}/import", data={"csrf_token": csrf_of(page.text)}
    )
    assert started.status_code == 404
    assert (await browser.get(f"/dashboard/setup/destinations/{uuid.uuid4()}/import")).status_code == 404
    async with database.tenant_session(other_tenant.id) as session:
        assert (await session.scalars(select(SyncRun))).all() == []


async def test_new_credentials_for_a_connection_whose_stored_ones_cannot_be_read_are_checked_not_a_crash(
    browser: httpx.AsyncClient, tenant: TenantFixture, database: Database
) -> None:
    """Credentials sealed under a retired vault key: any field may be changing, so the repointing guard judges them
    as such (nothing unsettled here: saved) instead of failing on the decryption."""
    await sign_in(browser, tenant.key)
    assert (await _connect_intacct(browser, **INTACCT)).status_code == 303
    async with database.tenant_session(tenant.id) as session:
        row = (await session.scalars(select(Connection))).one()
        row.credentials = b"sealed-with-a-retired-key"
    again = await _connect_intacct(browser, **INTACCT)
    assert again.status_code == 303, again.text
    [row] = await _connections(database, tenant)
    assert row.credentials != b"sealed-with-a-retired-key"
