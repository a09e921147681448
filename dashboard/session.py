"""Who is signed in to the dashboard: a signed, HttpOnly, SameSite=Strict cookie naming the API key used to sign in.

The cookie holds no secret of the key, only its id and prefix, and the per-session CSRF token. Every request checks
the key again, so revoking it ends its dashboard sessions at once.
"""

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
)
from dashboard.signing import sign, unsign


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


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def database_of(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def key_prefix(presented: str) -> str:
    return presented.split("_", 2)[1]


async def sign_in(database: Database, presented: str) -> tuple[Principal, str] | None:
    """The principal of a presented key and its prefix, checked by the same code as the API's bearer keys."""
    async with database.unscoped_session() as session:
        principal = await authenticate(session, presented.strip())
    if principal is None:
        return None
    return principal, key_prefix(presented.strip())


def start_session(request: Request, response: Response, principal: Principal, prefix: str) -> None:
    payload = {
        "key_id": str(principal.key_id),
        "prefix": prefix,
        "role": principal.role.value,
        "tenant_id": str(principal.tenant_id) if principal.tenant_id else None,
        "csrf": secrets.token_urlsafe(CSRF_TOKEN_BYTES),
    }
    response.set_cookie(
        SESSION_COOKIE,
        sign(secret_of(settings_of(request)), SESSION_SALT, payload),
        max_age=SESSION_MAX_AGE_SECONDS,
        path=PREFIX,
        httponly=True,
        samesite="strict",
        secure=_secure(request),
    )


def end_session(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path=PREFIX, httponly=True, samesite="strict")


async def _key_still_valid(database: Database, key_id: uuid.UUID, prefix: str) -> bool:
    async with database.unscoped_session() as session:
        found = (
            await session.execute(text("SELECT id, revoked FROM ledgerline_find_api_key(:prefix)"), {"prefix": prefix})
        ).first()
    return found is not None and found.id == key_id and not found.revoked


async def read_session(request: Request) -> DashboardUser | None:
    raw = request.cookies.get(SESSION_COOKIE)
    if not raw:
        return None
    payload = unsign(secret_of(settings_of(request)), SESSION_SALT, raw, max_age=SESSION_MAX_AGE_SECONDS)
    if payload is None:
        return None
    try:
        user = DashboardUser(
            key_id=uuid.UUID(payload["key_id"]),
            key_prefix=str(payload["prefix"]),
            role=ApiKeyRole(payload["role"]),
            tenant_id=uuid.UUID(payload["tenant_id"]) if payload.get("tenant_id") else None,
            csrf_token=str(payload["csrf"]),
        )
    except (KeyError, ValueError, TypeError):
        return None
    if not await _key_still_valid(database_of(request), user.key_id, user.key_prefix):
        return None
    return user


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
        secure=_secure(request),
    )


def take_flash(request: Request) -> dict[str, str] | None:
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw:
        return None
    payload = unsign(secret_of(settings_of(request)), FLASH_SALT, raw, max_age=FLASH_MAX_AGE_SECONDS)
    if payload is None:
        return None
    return {"message": str(payload.get("message", "")), "level": str(payload.get("level", "info"))}
