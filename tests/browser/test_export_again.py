"""Support in a real browser: an item stuck because its bill was deleted in Intacct is exported again as a new
document, through a page that states the duplicate risk and will not submit unconfirmed."""

from pathlib import Path

from playwright.async_api import Page, expect

from core.db import Database
from core.models import ExportItem
from tests.browser.conftest import sign_in
from tests.dashboard.conftest import make_support_key
from tests.sandbox_fixtures import RunningSandbox
from tests.sync.conftest import Books
from tests.sync.test_export_again import run_exports, stuck_with_its_bill_deleted
from tests.sync.test_export_engine import sandbox_bills


async def test_support_confirms_the_duplicate_risk_and_the_item_is_exported_again_once(
    page: Page, database: Database, books: Books, sandbox: RunningSandbox, artifacts: Path
) -> None:
    stuck = await stuck_with_its_bill_deleted(database, books, sandbox)
    await sign_in(page, await make_support_key(database))
    await page.goto(f"/dashboard/items/{stuck.id}")
    await expect(page.locator("#item-state")).to_have_text("needs action")
    await page.get_by_role("link", name="Export again as a new document…").click()
    await page.wait_for_url(f"**/dashboard/items/{stuck.id}/export-again")
    await expect(page.get_by_role("heading", name="This can put a second document in the books")).to_be_visible()
    await expect(page.get_by_text("may still exist in the destination").first).to_be_visible()
    await expect(page.get_by_text(stuck.idempotency_key).first).to_be_visible()
    await page.screenshot(path=artifacts / "export-again.png", full_page=True)

    submit = page.get_by_role("button", name="Export again as a new document")
    await page.get_by_label("Why export it again").fill("the bill was deleted in Intacct to be corrected")
    await submit.click()  # not confirmed: the browser keeps the form on the page
    assert page.url.endswith(f"/items/{stuck.id}/export-again")
    confirm = page.get_by_label("I have checked the destination", exact=False)
    assert await confirm.evaluate("box => box.validity.valueMissing")
    await confirm.check()
    await submit.click()

    await page.wait_for_url(f"**/dashboard/items/{stuck.id}")
    await expect(page.get_by_role("status")).to_contain_text("Exported again as a new document")
    await expect(page.locator("#item-state")).to_have_text("pending")
    async with database.tenant_session(books.tenant.id) as session:
        item = await session.get(ExportItem, stuck.id)
    assert item is not None and item.idempotency_key != stuck.idempotency_key
    await expect(page.get_by_role("status")).to_contain_text(item.idempotency_key)

    await run_exports(database, books)
    await page.reload()
    await expect(page.locator("#item-state")).to_have_text("succeeded")
    await expect(page.get_by_text("export_item.pending").first).to_be_visible()  # the audit trail shows it
    assert sandbox_bills(sandbox, item.idempotency_key) == 1
    assert sandbox_bills(sandbox, stuck.idempotency_key) == 0
    assert sandbox_bills(sandbox) == 3
