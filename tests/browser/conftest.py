"""The dashboard in a real browser: the app served by uvicorn on a loopback port (its own thread, event loop and
lifespan), one headless Chromium for the whole session, screenshots under `test-artifacts/dashboard/`."""

import os
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import uvicorn
from playwright.async_api import Browser, Page, async_playwright

from core.settings import Settings
from ledgerline.app import create_app
from sandbox.server import free_port
from tests.sync.conftest import books  # noqa: F401 - the sync tests' fixture, reused here

CHROMIUM = os.environ.get("LEDGERLINE_CHROMIUM", "/usr/bin/chromium")
"""Debian's, unless `make test CHROMIUM=…` named another (the Makefile passes it on)."""
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "dashboard"
STARTUP_SECONDS = 20


class AppServer:
    """uvicorn on its own thread with lifespan on, so the app opens its database and queue in that thread's loop."""

    def __init__(self, settings: Settings, port: int | None = None) -> None:
        self.port = port or free_port()
        config = uvicorn.Config(
            create_app(settings),
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            access_log=False,
            lifespan="on",
            timeout_graceful_shutdown=2,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="dashboard-app", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + STARTUP_SECONDS
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the dashboard app did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture(scope="session")
def app_url(settings: Settings) -> Iterator[str]:
    server = AppServer(settings)
    server.start()
    yield server.url
    server.stop()


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield chromium
        await chromium.close()


@pytest.fixture
async def page(browser: Browser, app_url: str) -> AsyncIterator[Page]:
    context = await browser.new_context(base_url=app_url, viewport={"width": 1366, "height": 800})
    tab = await context.new_page()
    yield tab
    await context.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


async def sign_in(page: Page, key: str) -> None:
    await page.goto("/dashboard/login")
    await page.get_by_label("API key").fill(key)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url("**/dashboard")
