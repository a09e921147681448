"""The Jinja2 environment of the dashboard: autoescaped templates, a few filters, and what every page needs."""

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import Response

from dashboard.constants import CSRF_FIELD, FLASH_COOKIE, PREFIX, STATIC_PATH
from dashboard.session import DashboardUser, take_flash

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"


def _when(value: datetime | None) -> str:
    if value is None:
        return "—"
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _ago(value: datetime | None) -> str:
    if value is None:
        return "—"
    seconds = int((datetime.now(UTC) - value).total_seconds())
    if seconds < 0:
        return "in " + _span(-seconds)
    return _span(seconds) + " ago"


def _span(seconds: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit}"
    return f"{seconds} s"


def _pretty(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, default=str, ensure_ascii=False)


def _label(value: str | None) -> str:
    return (value or "—").replace("_", " ")


def _context(request: Request) -> dict[str, Any]:
    user: DashboardUser | None = getattr(request.state, "dashboard_user", None)
    return {
        "user": user,
        "csrf_field": CSRF_FIELD,
        "csrf_token": user.csrf_token if user else "",
        "prefix": PREFIX,
        "static": STATIC_PATH,
        "flash": take_flash(request),
        "path": request.url.path,
    }


templates = Jinja2Templates(directory=TEMPLATES_DIR, context_processors=[_context])
templates.env.filters.update(when=_when, ago=_ago, pretty=_pretty, label=_label)


def render(request: Request, name: str, context: dict[str, Any], *, status_code: int = 200) -> Response:
    response = templates.TemplateResponse(request, name, context, status_code=status_code)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    if request.cookies.get(FLASH_COOKIE):
        response.delete_cookie(FLASH_COOKIE, path=PREFIX)
    return response
