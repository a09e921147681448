"""CSRF: one token per session, sent back in a hidden field of every form and compared in constant time.

The sign-in form has no session yet; its token lives in a short-lived signed cookie of its own. SameSite=Strict
cookies already keep other sites' forms out; the token is the second lock.
"""

import hmac
import secrets
from typing import Annotated

from fastapi import Depends, Request, Response

from dashboard.constants import CSRF_FIELD, CSRF_TOKEN_BYTES, LOGIN_COOKIE, LOGIN_MAX_AGE_SECONDS, LOGIN_SALT, PREFIX
from dashboard.session import DashboardUser, UserDep, secret_of, secure_cookies
from dashboard.signing import sign, unsign
from web.app_state import settings_of


class CsrfRejected(Exception):
    """A POST without the session's token: answered 403, nothing done."""


async def _submitted_token(request: Request) -> str:
    form = await request.form()
    value = form.get(CSRF_FIELD)
    return value if isinstance(value, str) else ""


def _matches(expected: str, submitted: str) -> bool:
    return bool(expected) and bool(submitted) and hmac.compare_digest(expected.encode(), submitted.encode())


async def require_csrf(request: Request, user: UserDep) -> DashboardUser:
    """The signed-in user, once the form proves it came from one of our pages."""
    if not _matches(user.csrf_token, await _submitted_token(request)):
        raise CsrfRejected
    return user


CsrfUserDep = Annotated[DashboardUser, Depends(require_csrf)]


def new_login_token() -> str:
    return secrets.token_urlsafe(CSRF_TOKEN_BYTES)


def set_login_cookie(request: Request, response: Response, token: str) -> None:
    response.set_cookie(
        LOGIN_COOKIE,
        sign(secret_of(settings_of(request)), LOGIN_SALT, {"csrf": token}),
        max_age=LOGIN_MAX_AGE_SECONDS,
        path=PREFIX,
        httponly=True,
        samesite="strict",
        secure=secure_cookies(request),
    )


async def check_login_token(request: Request) -> None:
    raw = request.cookies.get(LOGIN_COOKIE, "")
    payload = unsign(secret_of(settings_of(request)), LOGIN_SALT, raw, max_age=LOGIN_MAX_AGE_SECONDS) if raw else None
    if payload is None or not _matches(str(payload.get("csrf", "")), await _submitted_token(request)):
        raise CsrfRejected
