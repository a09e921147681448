"""Sandbox fixtures for every test package: one simulator server on a real loopback port per session, reset per test."""

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from sandbox.app import Sandbox
from sandbox.constants import DEFAULT_SEED
from sandbox.server import BackgroundServer


@dataclass
class RunningSandbox:
    box: Sandbox
    url: str

    def control(self) -> httpx.Client:
        return httpx.Client(base_url=f"{self.url}/_sandbox", timeout=10)


@pytest.fixture(scope="session")
def running_sandbox() -> Iterator[RunningSandbox]:
    box = Sandbox(seed=DEFAULT_SEED)
    with BackgroundServer(box.asgi()) as server:
        yield RunningSandbox(box=box, url=server.url)


@pytest.fixture
def sandbox(running_sandbox: RunningSandbox) -> RunningSandbox:
    """The shared server, reset to its seed data, with no faults, limits or clock offset."""
    running_sandbox.box.reset(DEFAULT_SEED)
    return running_sandbox
