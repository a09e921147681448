"""The Export settings step in a browser (the accessibility crawl in `test_accessibility` checks it with axe and the
keyboard too): the saved settings' next documents, and a save refused from the keyboard that says beside the field
what is missing, keeps what was chosen, and is announced."""

from pathlib import Path

from playwright.async_api import Page, expect

from tests.browser.conftest import sign_in
from tests.sync.conftest import Books


async def test_a_save_refused_from_the_keyboard_says_beside_the_field_what_is_missing(
    page: Page, books: Books, artifacts: Path
) -> None:
    await sign_in(page, books.tenant.key)
    await page.goto(f"/dashboard/setup/destinations/{books.destination_id}/settings")
    await expect(page.locator("#preview tbody tr").first).to_be_visible()
    await page.screenshot(path=str(artifacts / "setup-settings.png"), full_page=True)

    card = page.get_by_label("Export as").nth(1)  # the corporate-card expenses' box comes second
    await card.select_option("charge_card_transaction")
    await page.get_by_label("Line description").press("Enter")  # submits with the first button: Save settings
    account = page.get_by_label("Charge-card account")
    await expect(account).to_have_attribute("aria-invalid", "true")
    error = page.locator("#s-defaults-charge_card_account-error")
    await expect(error).to_contain_text("Charge-card account")
    assert "s-defaults-charge_card_account-error" in (await account.get_attribute("aria-describedby") or "")
    await expect(page.get_by_role("alert")).to_contain_text("not saved")
    await expect(card).to_have_value("charge_card_transaction")
    await page.screenshot(path=str(artifacts / "setup-settings-refused.png"), full_page=True)
