"""Binding an OAuth authorization to the browser, and the signed-in session, that started it (RFC 9700 §4.7).

Starting needs a session: an admin API key, or a tenant admin's dashboard session. The answer that sends the browser
to the consent page also sets a short-lived, HttpOnly, SameSite=Lax cookie holding the SHA-256 of the state (Lax:
the browser must send it on the top-level redirect back from the other site). The callback stores tokens only when
that cookie matches the state, and the session that started the flow is still signed in, as the same tenant.

So a consent link sent to someone else, say another company's admin, is refused when it comes back in their browser:
it lacks the cookie. The same holds for a callback URL an attacker carries to a victim (login CSRF).
"""

import hashlib
import hmac
import html
import uuid
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import text

from core.db import Database
from core.models import ApiKeyRole
from web.constants import OAUTH_STATE_COOKIE, OAUTH_STATE_TTL_SECONDS
from web.problems import problem_response

WRONG_BROWSER_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · Ledgerline</title>
<style>body{{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;line-height:1.5}}</style>
</head><body><main><h1>{title}</h1><p>{detail}</p><p>Nothing was saved.</p></main></body></html>
"""


def _state_digest(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


def _callback_path(system: str) -> str:
    return f"/v1/connections/{system}/callback"


def set_state_cookie(response: Response, *, state: str, system: str, secure: bool) -> None:
    response.set_cookie(
        OAUTH_STATE_COOKIE,
        _state_digest(state),
        max_age=OAUTH_STATE_TTL_SECONDS,
        path=_callback_path(system),
        httponly=True,
        samesite="lax",
        secure=secure,
    )


def clear_state_cookie(response: Response, *, system: str, secure: bool) -> None:
    response.delete_cookie(
        OAUTH_STATE_COOKIE, path=_callback_path(system), httponly=True, samesite="lax", secure=secure
    )


def started_in_this_browser(request: Request, state: str) -> bool:
    cookie = request.cookies.get(OAUTH_STATE_COOKIE, "")
    return bool(cookie) and hmac.compare_digest(cookie.encode(), _state_digest(state).encode())


@dataclass(frozen=True, slots=True)
class StartedBy:
    """The signed-in session that started a flow: its key, and for the dashboard the session's token hash."""

    key_id: uuid.UUID
    key_prefix: str
    dashboard_session_hash: str | None = None

    def remembered(self) -> dict[str, Any]:
        return {
            "key_id": str(self.key_id),
            "key_prefix": self.key_prefix,
            "dashboard_session_hash": self.dashboard_session_hash,
        }

    @classmethod
    def from_remembered(cls, data: dict[str, Any]) -> "StartedBy":
        return cls(
            key_id=uuid.UUID(data["key_id"]),
            key_prefix=str(data["key_prefix"]),
            dashboard_session_hash=data.get("dashboard_session_hash"),
        )

    async def still_signed_in(self, database: Database, *, tenant_id: uuid.UUID) -> bool:
        """The key is still valid and still an admin key of `tenant_id`; a dashboard session is still open."""
        async with database.unscoped_session() as session:
            if self.dashboard_session_hash is not None:
                found = (
                    await session.execute(
                        text("SELECT api_key_id AS id, role, tenant_id FROM ledgerline_find_dashboard_session(:hash)"),
                        {"hash": self.dashboard_session_hash},
                    )
                ).first()
            else:
                found = (
                    await session.execute(
                        text(
                            "SELECT id, role, tenant_id FROM ledgerline_find_api_key(:prefix) "
                            "WHERE NOT revoked AND NOT expired"
                        ),
                        {"prefix": self.key_prefix},
                    )
                ).first()
        return (
            found is not None
            and found.id == self.key_id
            and found.role == ApiKeyRole.ADMIN.value
            and found.tenant_id == tenant_id
        )


def wrong_browser(request: Request, detail: str) -> Response:
    """403: an HTML page for a person's browser, problem+json for anything else."""
    if "text/html" in request.headers.get("accept", ""):
        title = "Finish connecting in the browser that started it"
        page = WRONG_BROWSER_PAGE.format(title=html.escape(title), detail=html.escape(detail))
        return HTMLResponse(page, status_code=403)
    return problem_response(403, detail, problem="authorization-from-another-browser", instance=request.url.path)


CONTINUE_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="0;url={url}">
<title>Connected · Ledgerline</title></head>
<body><main><p>Connected. <a href="{url}">Back to Ledgerline</a>.</p></main></body></html>
"""


def continue_to(path: str) -> HTMLResponse:
    """Back to a dashboard page by a page of ours rather than a redirect: a redirect would continue the navigation
    that came from the other site, and the browser would withhold the dashboard's SameSite=Strict session cookie."""
    return HTMLResponse(CONTINUE_PAGE.format(url=html.escape(path, quote=True)))
