"""`QuickBooksSimulator`: Intuit's OAuth2 server and the QuickBooks Online Accounting API v3 on one ASGI app,
plus its control router and the shared-harness hooks."""

from collections.abc import Awaitable, Callable
from functools import partial

from fastapi import APIRouter
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp

from sandbox.clock import SandboxClock
from sandbox.quickbooks import api, oauth_routes
from sandbox.quickbooks.batch import batch
from sandbox.quickbooks.constants import (
    API_PREFIX,
    AUTHORIZE_PATH,
    DISCOVERY_PATHS,
    JWKS_PATH,
    NAME,
    REVOKE_PATH,
    TOKEN_PATH,
    USERINFO_PATH,
)
from sandbox.quickbooks.control import build_router
from sandbox.quickbooks.errors import QboFault, server_fault, throttle_fault
from sandbox.quickbooks.state import QboState
from sandbox.quickbooks.upload import upload

COMPANY = API_PREFIX + "/{realm_id}"


def _guard(handler: api.Handler) -> Callable[[Request], Awaitable[Response]]:
    return partial(api.guarded, handler=handler)


async def _download(request: Request) -> Response:
    """A temporary download URL handed out in `TempDownloadUri` (no token needed, like Intuit's signed links)."""
    state = api.state_of(request)
    stored = state.files.get((request.path_params["realm_id"], request.path_params["attachable_id"]))
    if stored is None or stored.key != request.path_params["key"]:
        return Response("Not found", 404)
    return Response(stored.content, media_type=stored.content_type)


async def _not_found(request: Request, _: Exception) -> Response:
    fault = QboFault("610", f"Object Not Found : no resource at {request.url.path}", status=404)
    return fault.response(api.state_of(request).clock.now())


def build_app(state: QboState) -> Starlette:
    routes = [
        *(Route(path, oauth_routes.discovery, methods=["GET"]) for path in DISCOVERY_PATHS),
        *(Route(path + "/", oauth_routes.discovery, methods=["GET"]) for path in DISCOVERY_PATHS),
        Route(AUTHORIZE_PATH, oauth_routes.consent, methods=["GET", "POST"]),
        Route(TOKEN_PATH, oauth_routes.token, methods=["POST"]),
        Route(REVOKE_PATH, oauth_routes.revoke, methods=["POST"]),
        Route(USERINFO_PATH, oauth_routes.userinfo, methods=["GET"]),
        Route(JWKS_PATH, oauth_routes.jwks, methods=["GET"]),
        Route("/files/{realm_id}/{attachable_id}/{key}", _download, methods=["GET"]),
        Route(COMPANY + "/query", _guard(api.query), methods=["GET", "POST"]),
        Route(COMPANY + "/batch", _guard(batch), methods=["POST"]),
        Route(COMPANY + "/cdc", _guard(api.cdc), methods=["GET"]),
        Route(COMPANY + "/upload", _guard(upload), methods=["POST"]),
        Route(COMPANY + "/companyinfo/{object_id}", _guard(api.company_info), methods=["GET"]),
        Route(COMPANY + "/preferences", _guard(api.preferences), methods=["GET"]),
        Route(COMPANY + "/{entity}", _guard(api.write), methods=["POST"]),
        Route(COMPANY + "/{entity}/{object_id}", _guard(api.read), methods=["GET"]),
    ]
    app = Starlette(routes=routes, exception_handlers={404: _not_found})
    app.state.quickbooks = state
    return app


class QuickBooksSimulator:
    """QuickBooks Online as Ledgerline sees it; see the package docstring."""

    name = NAME

    def __init__(self, *, clock: SandboxClock, seed: int) -> None:
        self.state = QboState(clock=clock, seed=seed)
        self._app = build_app(self.state)
        self._control = build_router(self.state)

    @property
    def app(self) -> ASGIApp:
        return self._app

    @property
    def control(self) -> APIRouter:
        return self._control

    def operation_of(self, method: str, path: str, body: bytes) -> str:
        """`POST /v3/company/{realm}/bill` → `POST bill`, `GET bill/{id}`, `POST batch`; OAuth paths as they are."""
        mount = f"/{self.name}"
        relative = path[len(mount) :] if path.startswith(mount + "/") else path
        parts = relative.strip("/").split("/")
        if relative.startswith(API_PREFIX + "/") and len(parts) >= 4:
            return f"{method} {parts[3]}" + ("/{id}" if len(parts) > 4 else "")
        return f"{method} {relative or '/'}"

    def error_response(self, status: int, message: str) -> Response:
        return server_fault(status, message).response(self.state.clock.now())

    def rate_limited_response(self, retry_after: int) -> Response:
        return throttle_fault(retry_after).response(self.state.clock.now())

    def reset(self, seed: int) -> None:
        self.state.reset(seed)
