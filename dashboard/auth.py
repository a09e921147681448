"""Sign-in with an API key (support, or a tenant's admin), and sign-out.

Failed sign-ins count against the same per-address budget as the API's bearer keys; past it the form answers 429
with `Retry-After` before the key is even looked at.
"""

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from core.log import get_logger
from dashboard.constants import LOGIN_COOKIE, PREFIX, SIGN_IN_LINK_PATH
from dashboard.csrf import CsrfUserDep, check_login_token, new_login_token, set_login_cookie
from dashboard.session import end_session, read_session, sign_in, start_session
from dashboard.sign_in_links import redeem_sign_in_link
from dashboard.templating import render
from web.app_state import database_of, queue_of
from web.sign_in_throttle import client_address, throttle_of

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
    throttle = throttle_of(request)
    attempt = await throttle.attempt(client_address(request))
    if (wait := attempt.retry_after) is not None:
        log.info("dashboard_sign_in_throttled")
        response = _login_page(
            request,
            next_path=safe_next(next),
            error=f"Too many failed sign-ins from your address. Try again in {_minutes(wait)}.",
            status_code=429,
        )
        response.headers["Retry-After"] = str(wait)
        return response
    principal = await sign_in(database_of(request), api_key) if api_key.strip() else None
    response = RedirectResponse(safe_next(next), status_code=303)
    started = principal is not None and await start_session(request, response, principal)
    await throttle.settle(attempt, succeeded=started)
    if principal is None or not started:
        log.info("dashboard_sign_in_refused")
        return _login_page(
            request,
            next_path=safe_next(next),
            error="That key is unknown, revoked or expired. Use a support key or your tenant's admin key.",
            status_code=401,
        )
    log.info("dashboard_sign_in", api_key_id=str(principal.key_id), role=principal.role.value)
    response.delete_cookie(LOGIN_COOKIE, path=PREFIX)
    return response


@router.get(SIGN_IN_LINK_PATH + "/{token}", name="dashboard_sign_in_link")
async def sign_in_with_link(request: Request, token: str) -> Response:
    """A one-time sign-in link (`dashboard.sign_in_links`): the first opening starts a session and goes on to the
    overview; a used, expired or unknown link goes to the sign-in form, saying so. Refusals count against the
    same per-address budget as failed sign-ins."""
    throttle = throttle_of(request)
    attempt = await throttle.attempt(client_address(request))
    if (wait := attempt.retry_after) is not None:
        response = _login_page(
            request,
            next_path=PREFIX,
            error=f"Too many failed sign-ins from your address. Try again in {_minutes(wait)}.",
            status_code=429,
        )
        response.headers["Retry-After"] = str(wait)
        return response
    principal = await redeem_sign_in_link(queue_of(request).redis, token)
    response = RedirectResponse(PREFIX, status_code=303)
    started = principal is not None and await start_session(request, response, principal)
    await throttle.settle(attempt, succeeded=started)
    if principal is None or not started:
        log.info("dashboard_sign_in_link_refused")
        return _login_page(
            request,
            next_path=PREFIX,
            error="That sign-in link was already used, has expired, or its key was revoked. Sign in with a key.",
            status_code=401,
        )
    log.info("dashboard_sign_in", api_key_id=str(principal.key_id), role=principal.role.value, via="link")
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _minutes(seconds: int) -> str:
    minutes = -(-seconds // 60)
    return "a minute" if minutes <= 1 else f"{minutes} minutes"


@router.post("/logout")
async def logout(request: Request, user: CsrfUserDep) -> Response:
    response = RedirectResponse(f"{PREFIX}/login", status_code=303)
    await end_session(request, response)
    return response
