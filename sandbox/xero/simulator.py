"""`XeroSimulator`: Xero's identity server, the connections list and the Accounting API 2.0 on one ASGI app, plus
its control router and the shared-harness hooks."""

import html
from collections.abc import Awaitable, Callable
from functools import partial

from fastapi import APIRouter
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from sandbox.clock import SandboxClock
from sandbox.xero import api, attachments, identity_routes, reads, settings_writes, writes
from sandbox.xero.constants import (
    API_PREFIX,
    APP_PREFIX,
    AUTHORIZE_PATH,
    CONNECTIONS_PATH,
    NAME,
    REVOKE_PATH,
    TOKEN_PATH,
)
from sandbox.xero.control import build_router
from sandbox.xero.errors import NOT_FOUND_TEXT, rate_limited, server_error
from sandbox.xero.state import XeroState

DOCUMENT = API_PREFIX + "/{collection}/{object_id}"
ATTACHMENTS = DOCUMENT + "/Attachments"


def _guard(handler: api.Handler) -> Callable[[Request], Awaitable[Response]]:
    return partial(api.guarded, handler=handler)


async def _app_link(request: Request) -> HTMLResponse:
    """Where a person's link to a document lands (go.xero.com in production)."""
    target = html.escape(request.url.path + ("?" + request.url.query if request.url.query else ""))
    return HTMLResponse(f"<!doctype html><title>Xero sandbox</title><p>Xero would show {target} here.</p>")


async def _not_found(request: Request, _: Exception) -> Response:
    return Response(NOT_FOUND_TEXT, 404, media_type="text/plain")


def build_app(state: XeroState) -> Starlette:
    connections_paths = (CONNECTIONS_PATH, "/Connections")
    routes = [
        Route(AUTHORIZE_PATH, identity_routes.authorize, methods=["GET", "POST"]),
        Route(TOKEN_PATH, identity_routes.token, methods=["POST"]),
        Route(REVOKE_PATH, identity_routes.revoke, methods=["POST"]),
        *(Route(path, identity_routes.connections, methods=["GET"]) for path in connections_paths),
        *(
            Route(path + "/{connection_id}", identity_routes.connections, methods=["DELETE"])
            for path in connections_paths
        ),
        Route(APP_PREFIX + "/{rest:path}", _app_link, methods=["GET"]),
        Route(API_PREFIX + "/Organisation", _guard(reads.organisation), methods=["GET"]),
        Route(API_PREFIX + "/Currencies", _guard(settings_writes.put_currency), methods=["PUT"]),
        Route(API_PREFIX + "/TrackingCategories", _guard(settings_writes.put_tracking_category), methods=["PUT"]),
        Route(
            API_PREFIX + "/TrackingCategories/{object_id}/Options",
            _guard(settings_writes.put_tracking_options),
            methods=["PUT"],
        ),
        Route(
            API_PREFIX + "/TrackingCategories/{object_id}",
            _guard(settings_writes.post_tracking_category),
            methods=["POST"],
        ),
        Route(ATTACHMENTS, _guard(attachments.list_attachments), methods=["GET"]),
        Route(ATTACHMENTS + "/{file_name}", _guard(attachments.download), methods=["GET"]),
        Route(ATTACHMENTS + "/{file_name}", _guard(attachments.upload), methods=["PUT", "POST"]),
        Route(API_PREFIX + "/{collection}", _guard(reads.list_objects), methods=["GET"]),
        Route(API_PREFIX + "/{collection}", _guard(writes.write), methods=["PUT", "POST"]),
        Route(DOCUMENT, _guard(reads.get_object), methods=["GET"]),
        Route(DOCUMENT, _guard(writes.write), methods=["POST"]),
    ]
    app = Starlette(routes=routes, exception_handlers={404: _not_found})
    app.state.xero = state
    return app


class XeroSimulator:
    """Xero as Ledgerline sees it; see the package docstring."""

    name = NAME

    def __init__(self, *, clock: SandboxClock, seed: int) -> None:
        self.state = XeroState(clock=clock, seed=seed)
        self._app = build_app(self.state)
        self._control = build_router(self.state)

    @property
    def app(self) -> ASGIApp:
        return self._app

    @property
    def control(self) -> APIRouter:
        return self._control

    def operation_of(self, method: str, path: str, body: bytes) -> str:
        """`PUT /xero/api.xro/2.0/Invoices` → `PUT Invoices`; `GET Invoices/{id}`; `PUT Invoices/{id}/Attachments`;
        identity and connections paths as they are (`POST /identity/connect/token`)."""
        mount = f"/{self.name}"
        relative = path[len(mount) :] if path.startswith(mount + "/") else path
        if not relative.startswith(API_PREFIX + "/"):
            return f"{method} {relative or '/'}"
        parts = relative[len(API_PREFIX) + 1 :].strip("/").split("/")
        name = parts[0]
        if len(parts) >= 3 and parts[2].lower() == "attachments":
            return f"{method} {name}/{{id}}/Attachments"
        if len(parts) >= 3:
            return f"{method} {name}/{{id}}/{parts[2]}"
        return f"{method} {name}" + ("/{id}" if len(parts) == 2 else "")

    def error_response(self, status: int, message: str) -> Response:
        return server_error(status, message)

    def rate_limited_response(self, retry_after: int) -> Response:
        return rate_limited(retry_after, "minute")

    def reset(self, seed: int) -> None:
        self.state.reset(seed)
