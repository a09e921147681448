"""Clients for the Fyle simulator on the shared sandbox server (the wire API with a token, the control API) and a
webhook receiver."""

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, cast

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandbox.fyle import FyleSimulator
from sandbox.fyle.constants import FYLE_SANDBOX_CLIENT_ID, FYLE_SANDBOX_CLIENT_SECRET, FYLE_SANDBOX_REFRESH_TOKEN
from sandbox.server import BackgroundServer
from tests.sandbox.conftest import RunningSandbox

ADMIN = "/platform/v1/admin"


@dataclass
class Fyle:
    sandbox: RunningSandbox
    wire: httpx.Client
    """Unauthenticated, on `{url}/fyle`."""
    control: httpx.Client
    """On `{url}/_sandbox`."""

    @property
    def base(self) -> str:
        return f"{self.sandbox.url}/fyle"

    @property
    def simulator(self) -> FyleSimulator:
        return cast(FyleSimulator, self.sandbox.box.systems["fyle"])

    def token_response(self, **params: str) -> httpx.Response:
        body = {"client_id": FYLE_SANDBOX_CLIENT_ID, "client_secret": FYLE_SANDBOX_CLIENT_SECRET} | params
        return self.wire.post("/oauth/token", json=body)

    def access_token(self, refresh_token: str = FYLE_SANDBOX_REFRESH_TOKEN) -> str:
        response = self.token_response(grant_type="refresh_token", refresh_token=refresh_token)
        assert response.status_code == 200, response.text
        token: str = response.json()["access_token"]
        return token

    def admin(self, token: str | None = None) -> httpx.Client:
        """A client on `/platform/v1/admin` that sends a bearer token."""
        headers = {"Authorization": f"Bearer {token or self.access_token()}"}
        return httpx.Client(base_url=f"{self.base}{ADMIN}", headers=headers, timeout=60)

    def list_all(self, api: httpx.Client, path: str, params: dict[str, Any], limit: int = 200) -> list[dict[str, Any]]:
        """Page through a list with offset/limit the way Ledgerline does, until a short page."""
        records: list[dict[str, Any]] = []
        while True:
            response = api.get(path, params=params | {"offset": len(records), "limit": limit})
            assert response.status_code == 200, response.text
            page = response.json()["data"]
            records.extend(page)
            if len(page) < limit:
                return records


@pytest.fixture
def fyle(sandbox: RunningSandbox) -> Iterator[Fyle]:
    with httpx.Client(base_url=f"{sandbox.url}/fyle", timeout=60) as wire, sandbox.control() as control:
        yield Fyle(sandbox=sandbox, wire=wire, control=control)


@pytest.fixture
def api(fyle: Fyle) -> Iterator[httpx.Client]:
    with fyle.admin() as client:
        yield client


def wait_for(condition: Callable[[], Any], timeout: float = 10.0) -> Any:
    """Poll until `condition()` is truthy (background webhook deliveries), returning its value."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(0.02)


@dataclass
class Receiver:
    """A tiny webhook endpoint that records what it gets and can fail its first few calls."""

    url: str = ""
    received: list[tuple[bytes, dict[str, str]]] = field(default_factory=list)
    failures_left: int = 0

    async def hook(self, request: Request) -> Response:
        self.received.append((await request.body(), dict(request.headers)))
        if self.failures_left > 0:
            self.failures_left -= 1
            return Response("try later", status_code=503)
        return Response(status_code=204)


@pytest.fixture(scope="module")
def receiver_server() -> Iterator[Receiver]:
    receiver = Receiver()
    app = Starlette(routes=[Route("/hook", receiver.hook, methods=["POST"])])
    with BackgroundServer(app) as server:
        receiver.url = f"{server.url}/hook"
        yield receiver


@pytest.fixture
def receiver(receiver_server: Receiver) -> Receiver:
    receiver_server.received.clear()
    receiver_server.failures_left = 0
    return receiver_server
