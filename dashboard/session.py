"""Who is signed in to the dashboard: a session kept in PostgreSQL, named by a signed, HttpOnly, SameSite=Strict cookie.

The cookie carries only the key id and the session's random token; the row keeps only the token's SHA-256 and the
CSRF token. Role and tenant are read from the API key row on every request, never from the cookie, so a cookie signed
with a leaked secret opens nothing without a live session, and revoking or expiring the key, or signing out, ends the
session at once.
"""

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request, Response
from sqlalchemy import text

from core.api_keys import Principal, authenticate
from core.db import Database
from core.log import bind_context
from core.models import ApiKeyRole
from core.settings import Settings
from dashboard.constants import (
    CSRF_TOKEN_BYTES,
    FLASH_COOKIE,
    FLASH_MAX_AGE_SECONDS,
    FLASH_SALT,
    PREFIX,
    SESSION_COOKIE,
    SESSION_MAX_AGE_SECONDS,
    SESSION_SALT,
    SESSION_TOKEN_BYTES,
)
from dashboard.signing import sign, unsign
from web.app_state import database_of, settings_of


class LoginRequired(Exception):
    """No valid session: the handler sends the browser to the sign-in page."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


@dataclass(frozen=True, slots=True)
class DashboardUser:
    key_id: uuid.UUID
    key_prefix: str
    role: ApiKeyRole
    tenant_id: uuid.UUID | None
    csrf_token: str

    @property
    def is_support(self) -> bool:
        return self.role is ApiKeyRole.SUPPORT

    @property
    def actor(self) -> str:
        """How the audit log names what this person did through the dashboard."""
        return f"dashboard:{self.key_prefix}"


def secret_of(settings: Settings) -> bytes:
    return settings.session_secret.get_secret_value().encode()


def secure_cookies(request: Request) -> bool:
    """`Secure` whenever users reach us over https: the public URL says so even when a TLS-terminating proxy speaks
    plain http to us (and a trusted proxy's `X-Forwarded-Proto` makes the request's own scheme https)."""
    return settings_of(request).public_url_is_https or request.url.scheme == "https"


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def sign_in(database: Database, presented: str) -> Principal | None:
    """The principal of a presented key, checked by the same code as the API's bearer keys."""
    async with database.unscoped_session() as session:
        return await authenticate(session, presented.strip())


async def start_session(request: Request, response: Response, principal: Principal) -> bool:
    """Open a server-side session for the key and set its cookie; False if the key stopped being valid meanwhile."""
    token = secrets.token_urlsafe(SESSION_TOKEN_BYTES)
    async with database_of(request).unscoped_session() as session:
        opened = await session.scalar(
            text("SELECT ledgerline_open_dashboard_session(:hash, :key_id, :csrf, make_interval(secs => :seconds))"),
            {
                "hash": _token_hash(token),
                "key_id": principal.key_id,
                "csrf": secrets.token_urlsafe(CSRF_TOKEN_BYTES),
                "seconds": SESSION_MAX_AGE_SECONDS,
            },
        )
    if not opened:
        return False
    response.set_cookie(
        SESSION_COOKIE,
        sign(secret_of(settings_of(request)), SESSION_SALT, {"key_id": str(principal.key_id), "session": token}),
        max_age=SESSION_MAX_AGE_SECONDS,
        path=PREFIX,
        httponly=True,
        samesite="strict",
        secure=secure_cookies(request),
    )
    return True


def _session_token(request: Request) -> tuple[uuid.UUID, str] | None:
    """The key id and session token of the cookie, when it is ours and unexpired."""
    raw = request.cookies.get(SESSION_COOKIE)
    if not raw:
        return None
    payload = unsign(secret_of(settings_of(request)), SESSION_SALT, raw, max_age=SESSION_MAX_AGE_SECONDS)
    if payload is None:
        return None
    try:
        return uuid.UUID(str(payload["key_id"])), str(payload["session"])
    except (KeyError, ValueError):
        return None


def session_hash(request: Request) -> str | None:
    """The stored hash naming this browser's session, for a later step to check that it is still open."""
    found = _session_token(request)
    return _token_hash(found[1]) if found is not None else None


async def end_session(request: Request, response: Response) -> None:
    """Delete the session row, so the cookie opens nothing even if a copy of it survives, and the cookie."""
    found = _session_token(request)
    if found is not None:
        async with database_of(request).unscoped_session() as session:
            await session.execute(
                text("SELECT ledgerline_close_dashboard_session(:hash)"), {"hash": _token_hash(found[1])}
            )
    response.delete_cookie(
        SESSION_COOKIE, path=PREFIX, httponly=True, samesite="strict", secure=secure_cookies(request)
    )


async def read_session(request: Request) -> DashboardUser | None:
    """The signed-in user, with role and tenant as the key row has them now; None without a live session."""
    found = _session_token(request)
    if found is None:
        return None
    key_id, token = found
    async with database_of(request).unscoped_session() as session:
        row = (
            await session.execute(
                text(
                    "SELECT api_key_id, prefix, role, tenant_id, csrf_token "
                    "FROM ledgerline_find_dashboard_session(:hash)"
                ),
                {"hash": _token_hash(token)},
            )
        ).first()
    if row is None or row.api_key_id != key_id:
        return None
    return DashboardUser(
        key_id=row.api_key_id,
        key_prefix=row.prefix,
        role=ApiKeyRole(row.role),
        tenant_id=row.tenant_id,
        csrf_token=row.csrf_token,
    )


async def current_user(request: Request) -> DashboardUser:
    user = await read_session(request)
    if user is None:
        target = request.url.path if request.method == "GET" else PREFIX
        if request.method == "GET" and request.url.query:
            target = f"{target}?{request.url.query}"
        raise LoginRequired(target)
    request.state.dashboard_user = user
    bind_context(api_key_id=str(user.key_id), tenant_id=str(user.tenant_id or "*"))  # as the API's keys do
    return user


UserDep = Annotated[DashboardUser, Depends(current_user)]


def flash(request: Request, response: Response, message: str, *, level: str = "info") -> None:
    """A one-time notice for the page the browser is redirected to (post-redirect-get)."""
    response.set_cookie(
        FLASH_COOKIE,
        sign(secret_of(settings_of(request)), FLASH_SALT, {"message": message, "level": level}),
        max_age=FLASH_MAX_AGE_SECONDS,
        path=PREFIX,
        httponly=True,
        samesite="strict",
        secure=secure_cookies(request),
    )


def take_flash(request: Request) -> dict[str, str] | None:
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw:
        return None
    payload = unsign(secret_of(settings_of(request)), FLASH_SALT, raw, max_age=FLASH_MAX_AGE_SECONDS)
    if payload is None:
        return None
    return {"message": str(payload.get("message", "")), "level": str(payload.get("level", "info"))}
