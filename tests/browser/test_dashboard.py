"""A support engineer and a tenant admin in a real browser: find the failure, understand it, fix it, replay it."""

from pathlib import Path

from playwright.async_api import Page, expect
from sqlalchemy import update

from core.db import Database
from core.models import Mapping
from sync.export_engine import ExportEngine
from tests.browser.conftest import sign_in
from tests.dashboard.conftest import make_failed_items, make_support_key
from tests.sync.conftest import Books


async def needs_action_for_want_of_a_mapping(database: Database, books: Books) -> None:
    async with database.tenant_session(books.tenant.id) as session:
        await session.execute(update(Mapping).where(Mapping.source_type == "category").values(source_value="Lodging"))
    report = await ExportEngine(database, owner="browser").run_batch(
        books.connector, tenant_id=books.tenant.id, connection_id=books.destination_id
    )
    assert report.needs_action == 3


async def test_support_filters_opens_a_failure_replays_it_and_sees_the_state_change(
    page: Page, database: Database, books: Books, artifacts: Path
) -> None:
    await needs_action_for_want_of_a_mapping(database, books)
    await sign_in(page, await make_support_key(database))
    await page.screenshot(path=artifacts / "overview.png", full_page=True)
    await page.get_by_role("link", name="Failures").click()
    await page.get_by_label("Tenant").select_option(label="Books")
    await page.get_by_label("Error class").select_option("mapping")
    await page.get_by_role("button", name="Apply filters").click()
    rows = page.locator("tbody tr").filter(has=page.locator("input[name=item_id]"))
    await expect(rows).to_have_count(3)
    await page.screenshot(path=artifacts / "failures.png", full_page=True)
    await rows.first.get_by_role("link").click()
    await expect(page.get_by_role("heading", name="Why it failed")).to_be_visible()
    await expect(page.get_by_text("has no GL account", exact=False).first).to_be_visible()
    await expect(page.locator("#item-state")).to_have_text("needs action")
    await page.screenshot(path=artifacts / "item.png", full_page=True)
    await page.get_by_role("button", name="Replay this item").click()
    await expect(page.get_by_role("status")).to_contain_text("1 item queued for replay.")
    await expect(page.locator("#item-state")).to_have_text("pending")
    await expect(page.get_by_role("button", name="Replay this item")).to_have_count(0)


async def test_a_tenant_admin_fixes_the_mapping_and_the_item_is_exported(
    page: Page, database: Database, books: Books, artifacts: Path
) -> None:
    await needs_action_for_want_of_a_mapping(database, books)
    await sign_in(page, books.tenant.key)
    await page.goto("/dashboard/items")
    await page.locator("tbody tr a").first.click()
    await page.get_by_role("link", name="Fix the missing mapping").click()
    await page.get_by_label("Map to GL account").select_option(label="70004")
    await page.get_by_role("button", name="Save mapping").click()
    await expect(page.get_by_role("status")).to_contain_text("3 waiting items went back to pending")
    await ExportEngine(database, owner="browser").run_batch(
        books.connector, tenant_id=books.tenant.id, connection_id=books.destination_id
    )
    await page.reload()
    await expect(page.locator("#item-state")).to_have_text("succeeded")
    await page.screenshot(path=artifacts / "item-succeeded.png", full_page=True)


async def test_a_tenant_admin_cannot_open_another_tenants_item(page: Page, database: Database, books: Books) -> None:
    from tests.conftest import make_tenant

    other = await make_tenant(database, "Globex")
    [theirs] = await make_failed_items(database, other.id, count=1)
    await sign_in(page, books.tenant.key)
    response = await page.goto(f"/dashboard/items/{theirs}")
    assert response is not None and response.status == 404
    await expect(page.get_by_role("heading", name="Not found")).to_be_visible()


async def test_an_action_without_the_csrf_token_is_refused(page: Page, database: Database, books: Books) -> None:
    await needs_action_for_want_of_a_mapping(database, books)
    await sign_in(page, books.tenant.key)
    await page.goto("/dashboard/items")
    href = await page.locator("tbody tr a").first.get_attribute("href")
    assert href
    await page.goto(href)
    await page.locator("input[name=csrf_token]").evaluate_all("fields => fields.forEach(f => f.remove())")
    async with page.expect_response(lambda r: r.request.method == "POST") as posted:
        await page.get_by_role("button", name="Replay this item").click()
    assert (await posted.value).status == 403
    await expect(page.get_by_role("heading", name="Refused")).to_be_visible()
    await page.goto(href)
    await expect(page.locator("#item-state")).to_have_text("needs action")


async def test_every_form_field_has_a_label_and_tab_reaches_the_buttons(
    page: Page, database: Database, books: Books
) -> None:
    await needs_action_for_want_of_a_mapping(database, books)
    await sign_in(page, books.tenant.key)
    paths = ["/dashboard", "/dashboard/items", "/dashboard/connections", "/dashboard/webhooks", "/dashboard/replays"]
    await page.goto("/dashboard/items")
    item = await page.locator("tbody tr a").first.get_attribute("href")
    for path in [*paths, item]:
        await page.goto(str(path))
        unlabeled = await page.locator("input:not([type=hidden]), select, textarea").evaluate_all(
            """fields => fields.filter(f => !(f.labels && f.labels.length) && !f.getAttribute('aria-label'))
                               .map(f => f.name || f.id)"""
        )
        assert unlabeled == [], f"{path}: fields without a label: {unlabeled}"
    await page.goto("/dashboard/items")
    reached: set[str] = set()
    for _ in range(80):
        await page.keyboard.press("Tab")
        focused = await page.evaluate("document.activeElement && document.activeElement.textContent.trim()")
        reached.add(focused or "")
        if {"Apply filters", "Replay selected", "Skip selected"} <= reached:
            break
    assert {"Apply filters", "Replay selected", "Skip selected"} <= reached
    await page.get_by_label("Error text").fill("nothing like this")
    await page.keyboard.press("Enter")  # the filter form submits from the keyboard
    await page.wait_for_url("**/dashboard/items?*q=nothing+like+this*")
    await expect(page.get_by_text("Nothing matches.")).to_be_visible()
