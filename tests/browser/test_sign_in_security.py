"""In Chromium: reconnecting an OAuth system through another site's consent page comes back to the browser that
started it (its SameSite=Lax state cookie crosses the redirect) and is refused in any other; the sign-in form tells a
guesser to wait."""

import uuid
from collections.abc import Iterator

import pytest
from playwright.async_api import Browser, Page
from pydantic import SecretStr
from sqlalchemy import select

from core.db import Database
from core.models import Connection
from core.settings import Settings
from sandbox.fyle.constants import FYLE_SANDBOX_CLIENT_ID, FYLE_SANDBOX_CLIENT_SECRET
from sandbox.server import free_port
from tests.browser.conftest import AppServer, sign_in
from tests.conftest import TenantFixture
from tests.sandbox_fixtures import RunningSandbox


def serve(settings: Settings, **updates: object) -> Iterator[AppServer]:
    port = free_port()
    server = AppServer(settings.model_copy(update={"public_url": f"http://127.0.0.1:{port}", **updates}), port=port)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def connecting_server(settings: Settings, sandbox: RunningSandbox) -> Iterator[AppServer]:
    """The app reaching the sandbox as `localhost`: another site than `127.0.0.1` for the browser's cookies."""
    fyle_app = {"client_id": SecretStr(FYLE_SANDBOX_CLIENT_ID), "client_secret": SecretStr(FYLE_SANDBOX_CLIENT_SECRET)}
    yield from serve(
        settings,
        sandbox_url=sandbox.url.replace("127.0.0.1", "localhost"),
        connector_apps={"fyle": fyle_app},
    )


@pytest.fixture
def strict_server(settings: Settings) -> Iterator[AppServer]:
    yield from serve(settings, sign_in_failure_limit=2, queue_name=f"ledgerline:test-browser:{uuid.uuid4().hex[:8]}")


async def _needs_reauth(database: Database, tenant: TenantFixture) -> uuid.UUID:
    async with database.tenant_session(tenant.id) as session:
        row = Connection(
            id=uuid.uuid4(),
            tenant_id=tenant.id,
            name="fyle",
            provider="fyle",
            role="source",
            status="needs_reauth",
            webhook_key=uuid.uuid4().hex,
        )
        session.add(row)
    return row.id


async def _state_of(database: Database, tenant: TenantFixture, connection_id: uuid.UUID) -> tuple[str, bool]:
    async with database.tenant_session(tenant.id) as session:
        row = (await session.scalars(select(Connection).where(Connection.id == connection_id))).one()
        return row.status, row.credentials is not None


async def test_reconnecting_comes_back_only_to_the_browser_that_started_it(
    browser: Browser, connecting_server: AppServer, database: Database, tenant: TenantFixture, artifacts
) -> None:
    connection_id = await _needs_reauth(database, tenant)
    admin = await browser.new_context(base_url=connecting_server.url)
    stranger = await browser.new_context(base_url=connecting_server.url)
    try:
        page: Page = await admin.new_page()
        await sign_in(page, tenant.key)
        await page.goto("/dashboard/connections")
        await page.get_by_role("button", name="Re-connect fyle").click()
        await page.wait_for_url("http://localhost:*/**")
        consent_link = page.url

        # The link sent to someone else: their browser consents, and comes back without the state cookie.
        other: Page = await stranger.new_page()
        await other.goto(consent_link)
        await other.get_by_role("button", name="Allow").click()
        await other.get_by_role("heading", name="Finish connecting in the browser that started it").wait_for()
        await other.screenshot(path=str(artifacts / "oauth-other-browser.png"))
        assert await _state_of(database, tenant, connection_id) == ("needs_reauth", False)

        # The admin's own browser: a fresh start (the forwarded state is spent), consent, and back.
        await page.goto("/dashboard/connections")
        await page.get_by_role("button", name="Re-connect fyle").click()
        await page.wait_for_url("http://localhost:*/**")
        await page.get_by_role("button", name="Allow").click()
        await page.wait_for_url("**/dashboard/connections")
        await page.screenshot(path=str(artifacts / "oauth-reconnected.png"))
        assert await _state_of(database, tenant, connection_id) == ("active", True)
    finally:
        await admin.close()
        await stranger.close()


async def test_the_sign_in_form_tells_a_guesser_to_wait(
    browser: Browser, strict_server: AppServer, tenant: TenantFixture, artifacts
) -> None:
    context = await browser.new_context(base_url=strict_server.url)
    try:
        page = await context.new_page()
        for _ in range(2):
            await page.goto("/dashboard/login")
            await page.get_by_label("API key").fill("ll_guess_nothing")
            await page.get_by_role("button", name="Sign in").click()
            await page.get_by_text("unknown, revoked or expired").wait_for()
        await page.get_by_label("API key").fill(tenant.key)
        await page.get_by_role("button", name="Sign in").click()
        await page.get_by_text("Too many failed sign-ins from your address").wait_for()
        await page.screenshot(path=str(artifacts / "sign-in-throttled.png"))
        assert page.url.endswith("/dashboard/login")
    finally:
        await context.close()
