"""`IntacctSimulator`: the Sage Intacct XML gateway, its control API and the shared-harness hooks in one object."""

from fastapi import APIRouter
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp

from sandbox.clock import SandboxClock
from sandbox.intacct.constants import (
    CONTENT_TYPE,
    ERR_OUTAGE,
    ERR_RATE_LIMIT,
    GATEWAY_PATH,
    NAME,
    OFFLINE_TEXT,
    RATE_LIMIT_TEXT,
)
from sandbox.intacct.control import build_router
from sandbox.intacct.envelope import FunctionCall, failed_control, parse_xml, render
from sandbox.intacct.errors import ErrorDetail, IntacctError
from sandbox.intacct.gateway import Gateway
from sandbox.intacct.state import SimulatorState


class IntacctSimulator:
    """One gateway endpoint (`POST /ia/xml/xmlgw.phtml`) over seeded companies; see the package docstring."""

    name = NAME

    def __init__(self, *, clock: SandboxClock, seed: int) -> None:
        self.state = SimulatorState(clock, seed)
        self._gateway = Gateway(self.state)
        self._app = Starlette(routes=[Route(GATEWAY_PATH, self._endpoint, methods=["POST"])])
        self._control = build_router(self.state)

    @property
    def app(self) -> ASGIApp:
        return self._app

    @property
    def control(self) -> APIRouter:
        return self._control

    async def _endpoint(self, request: Request) -> Response:
        endpoint = str(request.url.replace(query="", fragment=""))
        return Response(self._gateway.handle(await request.body(), endpoint), media_type=CONTENT_TYPE)

    def operation_of(self, method: str, path: str, body: bytes) -> str:
        """`getAPISession`, `readByQuery:GLACCOUNT`, `create:APBILL`, `create_expensereport`: the first function."""
        try:
            root = parse_xml(body)
        except IntacctError:
            return "unparseable"
        function = root.find("operation/content/function")
        if function is None or not len(function):
            return f"{method} {path}"
        return FunctionCall(function.get("controlid", ""), function[0].tag, function[0]).operation

    def error_response(self, status: int, message: str) -> Response:
        """An outage: the status asked for, with the gateway's failure envelope naming the off-line service."""
        error = ErrorDetail(
            ERR_OUTAGE, f"{OFFLINE_TEXT}. {message}.", description=OFFLINE_TEXT, correction="Retry the request later."
        )
        return Response(render(failed_control(None, [error])), status_code=status, media_type=CONTENT_TYPE)

    def rate_limited_response(self, retry_after: int) -> Response:
        """HTTP 429 with GW-0010, as the gateway answers a client over its rate limit."""
        error = ErrorDetail(
            ERR_RATE_LIMIT,
            f"{RATE_LIMIT_TEXT}: retry after {retry_after} seconds.",
            description="Too Many Requests",
            correction="Back off and retry after Retry-After.",
        )
        return Response(
            render(failed_control(None, [error])),
            status_code=429,
            media_type=CONTENT_TYPE,
            headers={"Retry-After": str(retry_after)},
        )

    def reset(self, seed: int) -> None:
        self.state.reset(seed)
