"""Sign-in with an API key (support, or a tenant's admin), and sign-out."""

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from core.log import get_logger
from dashboard.constants import LOGIN_COOKIE, PREFIX
from dashboard.csrf import CsrfUserDep, check_login_token, new_login_token, set_login_cookie
from dashboard.session import database_of, end_session, read_session, sign_in, start_session
from dashboard.templating import render

router = APIRouter()
log = get_logger(__name__)


def safe_next(target: str | None) -> str:
    """Only a path inside the dashboard: never an open redirect to another site."""
    if not target:
        return PREFIX
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith(PREFIX) or target.startswith("//"):
        return PREFIX
    return target


def _login_page(request: Request, *, next_path: str, error: str | None = None, status_code: int = 200) -> Response:
    token = new_login_token()
    response = render(
        request, "login.html", {"login_token": token, "next": next_path, "error": error}, status_code=status_code
    )
    set_login_cookie(request, response, token)
    return response


@router.get("/login", name="dashboard_login")
async def login_form(request: Request, next: str | None = None) -> Response:
    if await read_session(request) is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return _login_page(request, next_path=safe_next(next))


@router.post("/login")
async def login(
    request: Request, api_key: Annotated[str, Form(max_length=200)] = "", next: Annotated[str, Form()] = PREFIX
) -> Response:
    await check_login_token(request)
    signed_in = await sign_in(database_of(request), api_key) if api_key.strip() else None
    if signed_in is None:
        log.info("dashboard_sign_in_refused")
        return _login_page(
            request,
            next_path=safe_next(next),
            error="That key is unknown or revoked. Use a support key or your tenant's admin key.",
            status_code=401,
        )
    principal, prefix = signed_in
    log.info("dashboard_sign_in", api_key_id=str(principal.key_id), role=principal.role.value)
    response = RedirectResponse(safe_next(next), status_code=303)
    start_session(request, response, principal, prefix)
    response.delete_cookie(LOGIN_COOKIE, path=PREFIX)
    return response


@router.post("/logout")
async def logout(user: CsrfUserDep) -> Response:
    response = RedirectResponse(f"{PREFIX}/login", status_code=303)
    end_session(response)
    return response
