"""`FyleSimulator`: Fyle's authorization server and admin API on one ASGI app, plus its control router."""

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp

from sandbox.clock import SandboxClock
from sandbox.fyle import api, api_files, oauth_routes
from sandbox.fyle.constants import ADMIN_PREFIX, SYSTEM_NAME
from sandbox.fyle.control import build_control_router
from sandbox.fyle.errors import FORBIDDEN, INVALID_TOKEN, NOT_FOUND, BadRequest, FyleError, message_response
from sandbox.fyle.state import FyleState


async def _fyle_error(_: Request, error: Exception) -> Response:
    assert isinstance(error, FyleError)
    return error.response()


async def _validation_error(_: Request, error: Exception) -> Response:
    assert isinstance(error, RequestValidationError)
    first = error.errors()[0] if error.errors() else {"msg": "invalid request"}
    return BadRequest(str(first["msg"])).response()


async def _http_error(_: Request, error: Exception) -> Response:
    """Routing errors (unknown path, wrong method) in Fyle's shape rather than FastAPI's `{"detail"}`."""
    assert isinstance(error, StarletteHTTPException)
    return message_response(error.status_code, NOT_FOUND if error.status_code == 404 else str(error.detail))


def build_app(state: FyleState) -> FastAPI:
    app = FastAPI(title="Fyle simulator", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.fyle = state
    app.add_exception_handler(FyleError, _fyle_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.include_router(oauth_routes.router)
    app.include_router(api.router, prefix=ADMIN_PREFIX)
    app.include_router(api_files.router)
    return app


class FyleSimulator:
    """The Fyle platform as Ledgerline sees it: OAuth2 (refresh token and code + PKCE), the admin API with
    Fyle's lists, filters and write-backs, signed file URLs, and Standard-Webhooks report notifications."""

    name = SYSTEM_NAME

    def __init__(self, *, clock: SandboxClock, seed: int) -> None:
        self.state = FyleState(clock=clock, seed=seed)
        self._app = build_app(self.state)
        self._control = build_control_router(self.state)

    @property
    def app(self) -> ASGIApp:
        return self._app

    @property
    def control(self) -> APIRouter:
        return self._control

    def operation_of(self, method: str, path: str, body: bytes) -> str:
        """`GET /platform/v1/admin/expenses`, `POST /oauth/token`: the method and the path under the mount."""
        mount = f"/{self.name}"
        relative = path[len(mount) :] if path == mount or path.startswith(mount + "/") else path
        return f"{method} {relative or '/'}"

    def error_response(self, status: int, message: str) -> Response:
        if status == 401:
            return message_response(401, INVALID_TOKEN)
        if status == 403:
            return message_response(403, FORBIDDEN)
        if status == 404:
            return message_response(404, NOT_FOUND)
        if status == 400:
            return BadRequest(message).response()
        return message_response(status, message)

    def rate_limited_response(self, retry_after: int) -> Response:
        return JSONResponse(
            {"message": f"Too many requests, retry after {retry_after} seconds", "data": None, "error": "RateLimited"},
            status_code=429,
            headers={"Retry-After": str(retry_after)},
        )

    def reset(self, seed: int) -> None:
        self.state.reset(seed)
