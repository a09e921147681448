"""A tenant admin, in a real browser, connects Xero from the dashboard with one consent covering two organisations:
the simulator's consent page (both ticked), back to the picker, a refused pick shown beside its organisation with what
was typed kept, then both connected under their own names and listed on the setup page. The picker keeps the
dashboard's Content-Security-Policy (no inline style or script, no violation reported), is used once, and is not
found by another tenant's admin. Screenshots under `test-artifacts/xero-choice/`."""

from collections.abc import AsyncIterator, Iterator

import pytest
from playwright.async_api import Browser, ConsoleMessage, Page, expect

from core.db import Database
from core.settings import Settings
from sandbox.server import free_port
from sandbox.xero.constants import ORGANISATIONS
from tests.browser.conftest import ARTIFACTS, AppServer, sign_in
from tests.conftest import make_tenant
from tests.e2e.conftest import product_settings  # noqa: F401 - the fixture shared with e2e
from tests.sandbox_fixtures import RunningSandbox

SHOTS = ARTIFACTS.parent / "xero-choice"
US_NAME, UK_NAME = (name for _, name, *_ in ORGANISATIONS)


@pytest.fixture
def choice_url(product_settings: Settings) -> Iterator[str]:  # noqa: F811 - the fixture imported above
    """The app on its own port, knowing that port as its public URL (where the consent page sends the browser back)."""
    port = free_port()
    server = AppServer(product_settings.model_copy(update={"public_url": f"http://127.0.0.1:{port}"}), port=port)
    server.start()
    yield server.url
    server.stop()


@pytest.fixture
async def admin_page(browser: Browser, choice_url: str) -> AsyncIterator[Page]:
    context = await browser.new_context(base_url=choice_url, viewport={"width": 1280, "height": 800})
    tab = await context.new_page()
    yield tab
    await context.close()


@pytest.fixture
async def other_admin_page(browser: Browser, choice_url: str) -> AsyncIterator[Page]:
    context = await browser.new_context(base_url=choice_url, viewport={"width": 1280, "height": 800})
    tab = await context.new_page()
    yield tab
    await context.close()


async def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=SHOTS / f"{name}.png", full_page=True)


async def assert_no_inline_style_or_script(page: Page) -> None:
    assert await page.locator("[style]").count() == 0, "an inline style attribute: the CSP (style-src 'self') drops it"
    assert await page.locator("style").count() == 0
    assert await page.locator("script:not([src])").count() == 0, "an inline script: the CSP refuses it"
    on_attributes = await page.evaluate(
        "[...document.querySelectorAll('*')].flatMap(e => [...e.attributes].map(a => a.name))"
        ".filter(n => n.startsWith('on'))"
    )
    assert on_attributes == [], "inline event handlers"


async def test_an_admin_picks_and_names_the_xero_organisations_one_consent_covers(
    admin_page: Page,
    other_admin_page: Page,
    database: Database,
    sandbox: RunningSandbox,
) -> None:
    page = admin_page
    violations: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text and "/dashboard/" in page.url:
            violations.append(f"{page.url}: {message.text}")

    page.on("console", on_console)
    tenant = await make_tenant(database, "Picker")
    await sign_in(page, tenant.key)

    await page.goto("/dashboard/setup")
    await page.locator("#connect-xero").click()
    await page.get_by_label("Connection name").fill("Books")
    await page.get_by_role("button", name="Continue to Xero").click()

    # Xero's consent page: both organisations ticked; allow.
    await expect(page.get_by_label(f"{US_NAME} (USD)")).to_be_checked()
    await expect(page.get_by_label(f"{UK_NAME} (GBP)")).to_be_checked()
    await page.get_by_role("button", name="Allow access").click()

    # Back in Ledgerline: the picker, every organisation ticked with a suggested name, nothing connected yet.
    await page.wait_for_url("**/dashboard/setup/choose/xero/*")
    choose_url = page.url
    await expect(page.get_by_role("heading", name="Which Xero organisations")).to_be_visible()
    us_box, uk_box = page.get_by_label(f"Connect {US_NAME}"), page.get_by_label(f"Connect {UK_NAME}")
    us_field, uk_field = (
        page.get_by_label(f"Connection name for {US_NAME}"),
        page.get_by_label(f"Connection name for {UK_NAME}"),
    )
    await expect(us_box).to_be_checked()
    await expect(uk_box).to_be_checked()
    await expect(us_field).to_have_value("Books")
    assert await uk_field.input_value()
    await assert_no_inline_style_or_script(page)
    await shot(page, "1-picker")

    # Another tenant's admin given the link finds nothing there, and takes nothing.
    other = await make_tenant(database, "Elsewhere")
    await sign_in(other_admin_page, other.key)
    refused = await other_admin_page.goto(choose_url)
    assert refused is not None and refused.status == 404
    await expect(other_admin_page.get_by_text("unknown, already used or expired")).to_be_visible()
    assert US_NAME not in await other_admin_page.content()

    # A refused pick: shown beside its organisation, what was typed kept, nothing taken.
    await us_field.fill("Books US")
    await uk_field.fill("Books US")
    await page.locator("#connect-chosen").click()
    await expect(page.get_by_text("cannot both be named").first).to_be_visible()
    await expect(us_field).to_have_value("Books US")
    await expect(uk_field).to_have_attribute("aria-invalid", "true")
    await assert_no_inline_style_or_script(page)
    await shot(page, "2-refused")

    # Corrected on the same consent: both connected.
    await uk_field.fill("Books UK")
    await page.locator("#connect-chosen").click()
    await expect(page.get_by_text("Connected Xero as")).to_be_visible()
    await expect(page.get_by_text("Connected Xero as")).to_contain_text("“Books US”")
    await expect(page.get_by_text("Connected Xero as")).to_contain_text("“Books UK”")
    await shot(page, "3-connected")

    await page.goto("/dashboard/setup")
    destinations = page.get_by_role("table", name="Accounting systems and how far each is set up")
    await expect(destinations.get_by_role("row", name="Books US")).to_be_visible()
    await expect(destinations.get_by_role("row", name="Books UK")).to_be_visible()
    await expect(destinations.get_by_role("row")).to_have_count(3)  # a header and the two
    await shot(page, "4-setup")

    # The consent is used: the picker is gone.
    gone = await page.goto(choose_url)
    assert gone is not None and gone.status == 404
    assert violations == []


async def test_an_admin_connects_one_of_the_organisations_and_leaves_the_other(
    admin_page: Page, database: Database, sandbox: RunningSandbox
) -> None:
    page = admin_page
    tenant = await make_tenant(database, "OneOfTwo")
    await sign_in(page, tenant.key)
    await page.goto("/dashboard/setup")
    await page.locator("#connect-xero").click()
    await page.get_by_label("Connection name").fill("Books")
    await page.get_by_role("button", name="Continue to Xero").click()
    await page.get_by_role("button", name="Allow access").click()
    await page.wait_for_url("**/dashboard/setup/choose/xero/*")

    await page.get_by_label(f"Connect {US_NAME}").uncheck()
    await page.get_by_label(f"Connection name for {UK_NAME}").fill("UK books")
    await page.locator("#connect-chosen").click()
    await expect(page.get_by_text("Connected Xero as “UK books”.")).to_be_visible()

    await page.goto("/dashboard/setup")
    destinations = page.get_by_role("table", name="Accounting systems and how far each is set up")
    await expect(destinations.get_by_role("row", name="UK books")).to_be_visible()
    await expect(destinations.get_by_role("row")).to_have_count(2)

    # Consenting again to that organisation alone, for a new connection: refused in words, nothing duplicated.
    await page.locator("#connect-xero").click()
    await page.get_by_label("Connection name").fill("UK again")
    await page.get_by_role("button", name="Continue to Xero").click()
    await page.get_by_label(f"{US_NAME} (USD)").uncheck()
    await page.get_by_role("button", name="Allow access").click()
    await page.wait_for_url("**/dashboard/setup/connected/xero?error=*")
    await expect(page.get_by_text("already connected as 'UK books'")).to_be_visible()
    await assert_no_inline_style_or_script(page)
    await page.goto("/dashboard/setup")
    await expect(destinations.get_by_role("row")).to_have_count(2)
