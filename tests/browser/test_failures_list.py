"""The failures list on a 1280-pixel screen: no horizontal scrolling, and each item named as a person reads it
(document type as the destination calls it, employee, report, amount with currency, date); the grouping key is on the
item's own page."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, ViewportSize, expect
from sqlalchemy import select

from core.db import Database
from core.models import ExportItem, ExportItemRecord, SourceRecord
from tests.browser.conftest import sign_in
from tests.browser.test_dashboard import needs_action_for_want_of_a_mapping
from tests.dashboard.conftest import make_failed_items, make_support_key
from tests.sync.conftest import Books

LAPTOP: ViewportSize = {"width": 1280, "height": 800}
UNBROKEN = "E" * 180
"""A message with no place to break (a provider's long token): it must wrap, not widen the page."""


@pytest.fixture
async def laptop(browser: Browser, app_url: str) -> AsyncIterator[Page]:
    context = await browser.new_context(base_url=app_url, viewport=LAPTOP)
    tab = await context.new_page()
    yield tab
    await context.close()


async def horizontal_overflow(page: Page) -> dict[str, int]:
    """How far the page, and the list's own scroll box, are wider than what they show (0: nothing to scroll)."""
    found: dict[str, int] = await page.evaluate(
        """() => {
            const page = document.scrollingElement;
            const box = document.querySelector('.table-wrap');
            return {page: page.scrollWidth - page.clientWidth, list: box ? box.scrollWidth - box.clientWidth : -1};
        }"""
    )
    return found


async def report_a_key(database: Database, books: Books) -> str:
    async with database.tenant_session(books.tenant.id) as session:
        key = await session.scalar(
            select(ExportItem.group_key)
            .join(ExportItemRecord, ExportItemRecord.export_item_id == ExportItem.id)
            .join(SourceRecord, SourceRecord.id == ExportItemRecord.source_record_id)
            .where(SourceRecord.parent_remote_id == "rp-a")
        )
    assert key is not None
    return key


async def test_the_failures_list_fits_a_laptop_and_reads_like_a_person_would_say_it(
    laptop: Page, database: Database, books: Books, artifacts: Path
) -> None:
    await needs_action_for_want_of_a_mapping(database, books)
    await make_failed_items(
        database,
        books.tenant.id,
        count=1,
        message=f"Intacct refused the request: {UNBROKEN}",
        connection_name="Intacct — the group's consolidated US and Canadian books, main entity",
    )
    key = await report_a_key(database, books)
    await sign_in(laptop, await make_support_key(database))
    await laptop.goto(f"/dashboard/items?tenant={books.tenant.id}")
    rows = laptop.locator("tbody tr").filter(has=laptop.locator("input[name=item_id]"))
    await expect(rows).to_have_count(4)
    await laptop.screenshot(path=artifacts / "failures-1280.png", full_page=True)

    assert await horizontal_overflow(laptop) == {"page": 0, "list": 0}
    report_a = rows.filter(has_text="Report rp-a")
    await expect(report_a).to_have_count(1)
    for shown in (
        "AP bill",
        "Ada Lovelace",
        "85.00 USD",
        "2024-03-01 to 2024-03-02",
        "Sage Intacct",
        "Category “Travel” has no GL account",
    ):
        await expect(report_a).to_contain_text(shown)
    await expect(
        laptop.get_by_role(
            "checkbox", name="Select AP bill, Ada Lovelace, Report rp-a, 85.00 USD, 2024-03-01 to 2024-03-02"
        )
    ).to_have_count(1)
    await expect(laptop.get_by_label("System")).to_contain_text("Sage Intacct")
    assert key not in await laptop.locator("main").inner_text()  # the raw key is no name for people

    await report_a.get_by_role("link", name="AP bill").click()
    await expect(laptop.get_by_role("heading", level=1)).to_contain_text("AP bill")
    await expect(laptop.locator("main")).to_contain_text(key)
    assert (await horizontal_overflow(laptop))["page"] == 0
