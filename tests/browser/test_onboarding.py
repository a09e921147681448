"""A new tenant admin, in a real browser, from an empty tenant to a first exported document through the screens
alone: connect Fyle on its consent page, connect Sage Intacct with its credentials form, import, map, save the export
settings, export — then the document is in the simulator. A real worker runs the work; screenshots of every step are
saved under `test-artifacts/onboarding/`."""

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from core.db import Database
from core.settings import Settings
from sandbox.intacct.constants import SINGLE_ENTITY_COMPANY, USER_ID, USER_PASSWORD
from sandbox.server import free_port
from tests.browser.conftest import ARTIFACTS, AppServer, sign_in
from tests.conftest import make_tenant
from tests.e2e.conftest import product_env, product_settings, worker  # noqa: F401 - fixtures shared with e2e
from tests.sandbox_fixtures import RunningSandbox

SHOTS = ARTIFACTS.parent / "onboarding"
RUN_TIMEOUT_MS = 90_000


@pytest.fixture
def onboarding_url(product_settings: Settings) -> Iterator[str]:  # noqa: F811 - the fixture imported above
    """The app on its own port, knowing that port as its public URL (where consent pages send the browser back)."""
    port = free_port()
    server = AppServer(product_settings.model_copy(update={"public_url": f"http://127.0.0.1:{port}"}), port=port)
    server.start()
    yield server.url
    server.stop()


@pytest.fixture
async def admin_page(browser: Browser, onboarding_url: str) -> AsyncIterator[Page]:
    context = await browser.new_context(base_url=onboarding_url, viewport={"width": 1280, "height": 800})
    tab = await context.new_page()
    yield tab
    await context.close()


async def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=SHOTS / f"{name}.png", full_page=True)


def documents_in_the_simulator(sandbox: RunningSandbox) -> int:
    with httpx.Client(base_url=f"{sandbox.url}/_sandbox/intacct", timeout=10) as control:
        counts: dict[str, int] = control.get("/counts").json()["objects"]["document"]
    return sum(counts.values())


async def wait_for_runs(page: Page) -> None:
    """Reload the step until no run is waiting or running (the page also refreshes itself while one is)."""
    await expect(page.locator("#runs")).to_be_visible(timeout=RUN_TIMEOUT_MS)
    for _ in range(RUN_TIMEOUT_MS // 1000):
        await page.reload()
        states = await page.locator("#runs tbody tr td:nth-child(2)").all_inner_texts()
        if states and not any(state.lower().startswith(("pending", "running")) for state in states):
            assert all(state.lower().startswith("succeeded") for state in states), states
            return
        await page.wait_for_timeout(1000)
    raise AssertionError("the runs did not finish")


async def test_a_new_admin_goes_from_an_empty_tenant_to_an_exported_document_through_the_screens(
    admin_page: Page,
    database: Database,
    sandbox: RunningSandbox,
    worker: Path,  # noqa: F811 - the fixture imported above
) -> None:
    page = admin_page
    tenant = await make_tenant(database, "Newcomer")
    await sign_in(page, tenant.key)

    await page.get_by_role("link", name="Setup").click()
    await expect(page.get_by_text("Nothing is connected yet")).to_be_visible()
    await shot(page, "1-setup-empty")

    # Fyle, through its consent page.
    await page.locator("#connect-fyle").click()
    await page.get_by_label("Connection name").fill("Expenses")
    await page.get_by_role("button", name="Continue to Fyle").click()
    await page.locator("#allow").click()
    await expect(page.get_by_role("heading", name="Fyle is connected")).to_be_visible()
    await shot(page, "2-fyle-connected")

    # Sage Intacct, with its credentials form: a wrong password first, shown beside the form, nothing lost.
    await page.goto("/dashboard/setup")
    await page.locator("#connect-intacct").click()
    await page.get_by_label("Connection name").fill("Books")
    await page.get_by_label("Web Services user ID").fill(USER_ID)
    await page.get_by_label("Company ID").fill(SINGLE_ENTITY_COMPANY)
    await page.get_by_label("Web Services user password").fill("wrong")
    await page.get_by_role("button", name="Check and connect").click()
    await expect(page.locator("#form-error")).to_contain_text("refused these credentials")
    await expect(page.get_by_label("Company ID")).to_have_value(SINGLE_ENTITY_COMPANY)
    await shot(page, "3-intacct-refused")
    await page.get_by_label("Web Services user password").fill(USER_PASSWORD)
    await page.get_by_role("button", name="Check and connect").click()
    await expect(page.get_by_text("Connected Sage Intacct as “Books”")).to_be_visible()

    # Import: the destination's lists and the source's expenses.
    await page.locator("#import-now").click()
    await wait_for_runs(page)
    assert int(await page.locator("#expenses-read strong").inner_text()) > 0
    await shot(page, "4-imported")

    # Map: accept the suggestions, then give every value still waiting the first value its list offers.
    await page.locator("#next").click()
    if await page.locator("#accept-suggestions").count():
        await page.locator("#accept-suggestions").click()
        await expect(page.get_by_text("Saved")).to_be_visible()
    inputs = page.locator("input[list]")
    for index in range(await inputs.count()):
        field = inputs.nth(index)
        options = await page.locator(f"datalist#{await field.get_attribute('list')} option").all()
        assert options, "every type waited on has values to choose from"
        await field.fill(await options[0].get_attribute("value") or "")
    if await inputs.count():
        await page.locator("#save-mappings").click()
        await expect(page.get_by_text("Saved")).to_be_visible()
    await expect(page.locator("#all-mapped")).to_be_visible()
    await shot(page, "5-mapped")

    # Export settings: the destination's defaults, saved as the first version.
    await page.get_by_role("link", name="Next: export settings").click()
    await page.get_by_role("button", name="Save settings").click()
    await expect(page.get_by_text("version 1")).to_be_visible()
    await shot(page, "6-settings")

    # Export, followed live until it is done.
    before = documents_in_the_simulator(sandbox)
    await page.goto(page.url.rsplit("/", 1)[0] + "/export")
    await page.locator("#export-now").click()
    await wait_for_runs(page)
    exported = int(await page.locator("#item-states strong").inner_text())
    assert exported > 0
    await shot(page, "7-exported")

    assert documents_in_the_simulator(sandbox) - before == exported  # one document per exported item, no more
