"""Small helpers the page modules share: redirects after a POST, parsing optional UUIDs from forms and queries."""

import uuid
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.models import Tenant
from dashboard.auth import safe_next
from dashboard.session import flash


def parse_uuid(value: str | None) -> uuid.UUID | None:
    if not value:
        return None
    try:
        return uuid.UUID(value.strip())
    except ValueError:
        return None


def back(
    request: Request, fallback: str, message: str, *, level: str = "info", to: str | None = None
) -> RedirectResponse:
    """Post-redirect-get: back to the page the form was on (a dashboard path only), with a one-time notice."""
    target = safe_next(to) if to else fallback
    response = RedirectResponse(target, status_code=303)
    flash(request, response, message, level=level)
    return response


async def tenant_names(session: AsyncSession) -> dict[uuid.UUID, str]:
    """Names of the tenants this session can see (one for an admin, all for support)."""
    rows = await session.execute(select(Tenant.id, Tenant.name))
    return {row.id: row.name for row in rows}


def drop_empty(params: dict[str, Any]) -> dict[str, str]:
    return {key: str(value) for key, value in params.items() if value not in (None, "", [])}
