"""`make demo` in a browser (issue 20): support signs in through the printed one-time link and finds the seeded
failures; the tenant admin, through its own link, fixes the missing mapping from the failed item's page; the item
goes back to pending and the worker exports it; a used link opens nothing the second time."""

import uuid
from pathlib import Path

import httpx
from playwright.async_api import Browser, Page, expect

from core.db import Database
from core.settings import Settings
from ledgerline.demo_access import DemoLinks, demo_sign_in_links
from ledgerline.demo_seed import seed_demo
from ledgerline.demo_simulators import DemoSimulators
from sync.queue import Queue
from tests.e2e.conftest import product_env, product_settings, worker  # noqa: F401 - the e2e fixtures, reused here
from tests.e2e.test_demo_seed import settled_items
from tests.sandbox_fixtures import RunningSandbox

EXPORTED_WITHIN_MS = 60_000


def reopen_books(sandbox: RunningSandbox) -> None:
    """What the accountant does in QuickBooks: no closing date any more (the demo closed the books of its company)."""
    with httpx.Client(base_url=f"{sandbox.url}/_sandbox/quickbooks", timeout=10) as control:
        for realm in control.get("/realms").json():
            control.put(f"/realms/{realm['realm_id']}/closing_date", json={"closing_date": None}).raise_for_status()


async def seeded_demo(
    database: Database, settings: Settings, sandbox: RunningSandbox, app_url: str, worker_log: Path
) -> DemoLinks:
    async with DemoSimulators(sandbox.url) as simulators:
        report = await seed_demo(
            database, settings=settings, simulators=simulators, queue=None, slug=f"demo-{uuid.uuid4().hex[:8]}"
        )
    await settled_items(database, report.tenant_id, worker_log)
    queue = await Queue.connect(settings.redis_url, settings.queue_name)
    try:
        return await demo_sign_in_links(database, queue.redis, public_url=app_url, tenant_id=report.tenant_id)
    finally:
        await queue.close()


async def test_support_finds_the_seeded_failures_and_the_admin_fixes_a_missing_mapping_that_then_exports(
    page: Page,
    browser: Browser,
    app_url: str,
    database: Database,
    product_settings: Settings,  # noqa: F811 - the fixture imported above
    sandbox: RunningSandbox,
    worker: Path,  # noqa: F811
    artifacts: Path,
) -> None:
    links = await seeded_demo(database, product_settings, sandbox, app_url, worker)

    await page.goto(links.support)
    await expect(page).to_have_url(f"{app_url}/dashboard")
    await page.get_by_role("link", name="Failures").click()
    await page.get_by_label("Tenant").select_option(label="Demo Company")
    await page.get_by_role("button", name="Apply filters").click()
    rows = page.locator("tbody tr").filter(has=page.locator("input[name=item_id]"))
    await expect(rows.filter(has_text="” has no ").first).to_be_visible()
    await expect(rows.filter(has_text="inactive").first).to_be_visible()
    await page.screenshot(path=artifacts / "demo-failures.png", full_page=True)
    await rows.filter(has_text="” has no ").first.get_by_role("link").first.click()
    item_url = page.url
    await expect(page.locator("#item-state")).to_have_text("needs action")

    admin = await browser.new_context(base_url=app_url, viewport={"width": 1366, "height": 800})
    try:
        tab = await admin.new_page()
        await tab.goto(links.admin)
        await expect(tab).to_have_url(f"{app_url}/dashboard")
        await tab.goto(item_url)
        await tab.get_by_role("link", name="Fix the missing mapping").click()
        choice = tab.get_by_label("Map to", exact=False).first
        await choice.select_option(index=1)
        await tab.get_by_role("button", name="Save mapping").click()
        await expect(tab.get_by_role("status")).to_contain_text("went back to pending")
        await tab.goto(links.admin)  # a used link opens nothing
        await expect(tab.get_by_text("already used", exact=False)).to_be_visible()
    finally:
        await admin.close()

    await page.goto(item_url)
    state = page.locator("#item-state")
    for _ in range(EXPORTED_WITHIN_MS // 1000):
        if await state.text_content() == "succeeded":
            break
        await page.wait_for_timeout(1000)
        await page.reload()
    await expect(state).to_have_text("succeeded")
    await page.screenshot(path=artifacts / "demo-item-succeeded.png", full_page=True)

    # Support: the closed-period failure is fixed where it lives (the accountant reopens the books, here through the
    # simulator), then support replays it from its page and it is exported.
    await page.get_by_role("link", name="Failures", exact=True).click()
    await page.get_by_label("Tenant").select_option(label="Demo Company")
    await page.get_by_role("button", name="Apply filters").click()
    closed = rows.filter(has_text="closed").filter(has_text="QuickBooks Online").first  # its books reopen below
    await expect(closed).to_be_visible()
    await closed.get_by_role("link").first.click()
    closed_url = page.url
    reopen_books(sandbox)
    await page.get_by_role("button", name="Replay this item").click()
    await page.goto(closed_url)
    for _ in range(EXPORTED_WITHIN_MS // 1000):
        if await state.text_content() == "succeeded":
            break
        await page.wait_for_timeout(1000)
        await page.reload()
    await expect(state).to_have_text("succeeded")
    await page.screenshot(path=artifacts / "demo-support-replayed.png", full_page=True)
