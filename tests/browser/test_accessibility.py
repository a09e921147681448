"""Every dashboard and onboarding page, checked with axe-core (vendored under `tests/browser/vendor/axe-core/`) and by
keyboard: no serious or critical violation; Tab reaches every form control, in document order, each with a visible
focus ring; nothing with a positive tabindex; and a form (signing in) completed with the keyboard alone.

The pages are found the way a person finds them: every link a support engineer and a tenant admin can follow from the
overview, plus the pages no link leads to (sign-in, the refusals, the consent callback's landing)."""

import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Browser, BrowserContext, Page, ViewportSize, expect

from core.db import Database
from core.models import WebhookEvent
from sync.item_queries import ItemFilter
from sync.replay import request_replay
from tests.browser.conftest import sign_in
from tests.browser.test_dashboard import needs_action_for_want_of_a_mapping
from tests.dashboard.conftest import make_failed_items, make_support_key
from tests.sync.conftest import Books

AXE = (Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js").read_text(encoding="utf-8")
BLOCKING_IMPACTS = ("serious", "critical")
VIEWPORT: ViewportSize = {"width": 1280, "height": 800}
PAGE_LIMIT = 40
"""Distinct pages per person: a crawl that finds more has found a loop, not pages."""
ID_SEGMENT = re.compile(r"/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(?=/|$)")
NOT_PAGES = ("/dashboard/static", "/dashboard/logout", "/dashboard/sign-in")
SEGMENTED_INPUTS = 4
"""Tab stops a date input may hold (month, day, year, picker) before focus leaves it."""

RUN_AXE = """async () => {
    const result = await axe.run(document, {resultTypes: ['violations']});
    return result.violations.map(v => ({
        id: v.id, impact: v.impact, help: v.help,
        nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))
    }));
}"""

# Marks every form control and every tab stop in document order, so the Tab walk can say which one it is on.
MARK_CONTROLS = """() => {
    // Rendered and not inside a closed <details> (its content stays laid out, but out of the tab order).
    const shown = el => el.checkVisibility({contentVisibilityAuto: true, visibilityProperty: true});
    const controls = [...document.querySelectorAll('input:not([type=hidden]), select, textarea, button')]
        .filter(el => !el.disabled && shown(el));
    controls.forEach((el, i) => el.setAttribute('data-a11y-control', String(i)));
    const stops = [...document.querySelectorAll('a[href], button, input, select, textarea, summary, [tabindex]')]
        .filter(el => !el.disabled && el.tabIndex >= 0 && el.type !== 'hidden' && shown(el));
    const describe = el => el.tagName.toLowerCase() + (el.name ? `[name=${el.name}]` : '') + (el.id ? '#' + el.id : '')
        + ' ' + (el.getAttribute('aria-label') || el.textContent || '').trim().slice(0, 40);
    return {
        controls: controls.map(describe),
        stops: stops.length,
        segmented: controls.filter(el => ['date', 'time', 'datetime-local', 'month', 'week'].includes(el.type)).length,
        positive: [...document.querySelectorAll('[tabindex]')].filter(el => el.tabIndex > 0).map(describe),
    };
}"""

# Chromium starts a Tab walk where focus last was (the sign-in form's autofocused field): focus a mark placed before
# everything, which is no tab stop itself, so the walk begins at the page's first stop.
START_AT_THE_TOP = """() => {
    const mark = document.createElement('span');
    mark.tabIndex = -1;
    document.body.prepend(mark);
    mark.focus();
    window.scrollTo(0, 0);
}"""

FOCUSED = """() => {
    const el = document.activeElement;
    if (!el || el === document.body || el === document.documentElement) return null;
    const style = getComputedStyle(el);
    const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2;
    const shadow = style.boxShadow && style.boxShadow !== 'none';
    return {
        control: el.getAttribute('data-a11y-control'),
        ring: outline || !!shadow,
        what: el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
            + ' ' + (el.textContent || el.name || '').trim().slice(0, 40),
    };
}"""

# The live regions refresh themselves every few seconds; a refresh in the middle of a Tab walk would swap the marked
# elements for fresh copies. `dashboard.js` skips refreshing a hidden document.
HOLD_STILL = "Object.defineProperty(document, 'hidden', {get: () => true});"


@dataclass
class Audit:
    problems: list[str] = field(default_factory=list)
    pages: list[str] = field(default_factory=list)


async def axe_violations(page: Page) -> list[dict[str, Any]]:
    await page.evaluate(AXE)  # through the DevTools protocol: the pages' Content-Security-Policy does not apply
    found: list[dict[str, Any]] = await page.evaluate(RUN_AXE)
    return [violation for violation in found if violation["impact"] in BLOCKING_IMPACTS]


async def keyboard_problems(page: Page) -> list[str]:
    """Walk the page with Tab from the top: every form control reached, in document order, each showing focus."""
    marked: dict[str, Any] = await page.evaluate(MARK_CONTROLS)
    problems = [f"positive tabindex (breaks the reading order): {what}" for what in marked["positive"]]
    await page.evaluate(START_AT_THE_TOP)
    reached: list[int] = []
    budget = marked["stops"] + SEGMENTED_INPUTS * marked["segmented"] + 2
    for stops in range(1, budget + 1):
        await page.keyboard.press("Tab")
        focused: dict[str, Any] | None = await page.evaluate(FOCUSED)
        if focused is None:
            break  # past the last stop
        if not focused["ring"]:
            problems.append(f"no visible focus on {focused['what']}")
        control = focused["control"]
        if control is not None and int(control) not in reached:
            reached.append(int(control))
        if len(reached) == len(marked["controls"]) and stops >= marked["stops"]:
            break
    missed = [what for index, what in enumerate(marked["controls"]) if index not in reached]
    problems += [f"Tab never reaches {what}" for what in missed]
    if reached != sorted(reached):
        problems.append(f"Tab visits the form controls out of document order: {reached}")
    return problems


async def audit_page(page: Page, audit: Audit, label: str) -> None:
    audit.pages.append(label)
    for violation in await axe_violations(page):
        audit.problems.append(
            f"{label}: axe {violation['impact']} {violation['id']} ({violation['help']}) at {violation['nodes']}"
        )
    audit.problems += [f"{label}: {problem}" for problem in await keyboard_problems(page)]


def page_key(url: str) -> str:
    """A page as its template: ids and queries aside, `/dashboard/items/<id>` is one page however many items."""
    return ID_SEGMENT.sub("/{id}", urlsplit(url).path)


async def crawl(page: Page, origin: str, audit: Audit, who: str) -> set[str]:
    """Audit the overview and every dashboard page its links lead to, one visit per page."""
    queue, seen = [f"{origin}/dashboard"], {"/dashboard"}
    while queue and len(seen) <= PAGE_LIMIT:
        url = queue.pop(0)
        answer = await page.goto(url)
        if answer is None or not page.url.startswith(origin + "/dashboard"):
            continue
        await audit_page(page, audit, f"{who} {page_key(page.url)} ({answer.status})")
        links: list[str] = await page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)")
        for link in links:
            key = page_key(link)
            if link.startswith(origin + "/dashboard") and key not in seen and not key.startswith(NOT_PAGES):
                seen.add(key)
                queue.append(link.split("#")[0])
    assert len(seen) <= PAGE_LIMIT, f"more than {PAGE_LIMIT} distinct pages: {sorted(seen)}"
    return seen


@pytest.fixture
async def context(browser: Browser, app_url: str) -> AsyncIterator[BrowserContext]:
    made = await browser.new_context(base_url=app_url, viewport=VIEWPORT)
    await made.add_init_script(HOLD_STILL)
    yield made
    await made.close()


async def a_world_to_look_at(database: Database, books: Books) -> tuple[uuid.UUID, uuid.UUID]:
    """Failures of two kinds, attempts and audit, a bulk replay and a webhook event: every page has rows to show."""
    await needs_action_for_want_of_a_mapping(database, books)
    [rejected] = await make_failed_items(database, books.tenant.id, count=1)
    async with database.tenant_session(books.tenant.id) as session:
        replay = await request_replay(session, item_filter=ItemFilter(tenant_id=books.tenant.id), actor="test")
        session.add(
            WebhookEvent(
                tenant_id=books.tenant.id,
                connection_id=books.source_id,
                provider="fyle",
                event_id=f"evt-{uuid.uuid4().hex[:8]}",
                event_type="report.approved",
                payload={"report_id": "rp-a"},
                state="failed",
                error_message="The report was not found in Fyle.",
            )
        )
    return rejected, replay.id


async def test_every_page_passes_axe_and_the_keyboard(
    context: BrowserContext, database: Database, books: Books, app_url: str
) -> None:
    rejected, replay = await a_world_to_look_at(database, books)
    audit = Audit()
    page = await context.new_page()

    await page.goto("/dashboard/login")
    await audit_page(page, audit, "signed out /dashboard/login")

    await sign_in(page, await make_support_key(database))
    support_pages = await crawl(page, app_url, audit, "support")
    for path, label in (
        (f"/dashboard/items/{rejected}", "an item that failed in the destination"),
        (f"/dashboard/items/{rejected}/export-again", "export again"),
        (f"/dashboard/replays/{replay}", "a bulk replay"),
        (f"/dashboard/items/{uuid.uuid4()}", "not found"),
    ):
        await page.goto(path)
        await audit_page(page, audit, f"support {label}")
    await page.context.clear_cookies()

    await sign_in(page, books.tenant.key)
    admin_pages = await crawl(page, app_url, audit, "admin")
    for path, label in (
        ("/dashboard/setup/connected/intacct?error=access_denied", "consent refused"),
        ("/dashboard/setup/connected/intacct", "connected"),
    ):
        await page.goto(path)
        await audit_page(page, audit, f"admin {label}")

    every = support_pages | admin_pages
    for expected in ("/dashboard", "/dashboard/items", "/dashboard/items/{id}", "/dashboard/replays"):
        assert expected in every, f"the crawl never reached {expected}: {sorted(every)}"
    for expected in ("/dashboard/connections", "/dashboard/webhooks", "/dashboard/setup"):
        assert expected in every, f"the crawl never reached {expected}: {sorted(every)}"
    assert not audit.problems, "\n".join(audit.problems) + f"\n\npages checked: {audit.pages}"


async def test_signing_in_works_with_the_keyboard_alone(context: BrowserContext, books: Books) -> None:
    page = await context.new_page()
    await page.goto("/dashboard/login")
    await expect(page.get_by_label("API key")).to_be_focused()  # autofocus: the one thing to do here
    await page.keyboard.type(books.tenant.key)
    await page.keyboard.press("Tab")
    await expect(page.get_by_role("button", name="Sign in")).to_be_focused()
    await page.keyboard.press("Enter")
    await page.wait_for_url("**/dashboard")
    await page.keyboard.press("Tab")
    await expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    await page.keyboard.press("Enter")
    await expect(page.locator("main")).to_be_focused()
