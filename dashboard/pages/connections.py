"""Connections: health at a glance (active, needs re-authorization, paused), with pause and resume.

Only descriptive columns are read: no page ever loads credentials or webhook secrets.
"""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from sqlalchemy import select

from connectors.registry import UnknownSystemError, connector_class
from connectors.spec import AuthMode
from core.models import Connection, ConnectionStatus, ExportState
from dashboard.constants import PREFIX
from dashboard.csrf import CsrfUserDep
from dashboard.pages.common import back, tenant_names
from dashboard.pages.item_actions import ForbiddenPage
from dashboard.scope import NotFoundPage, ScopeDep
from dashboard.session import session_hash
from dashboard.templating import render
from sync.item_counts import waiting_per_connection
from sync.runs import set_paused
from web.app_state import queue_of, settings_of
from web.oauth_binding import StartedBy, set_state_cookie
from web.oauth_start import secure_request, start_authorization

router = APIRouter()

PUBLIC_COLUMNS = (
    Connection.id,
    Connection.tenant_id,
    Connection.name,
    Connection.provider,
    Connection.role,
    Connection.status,
    Connection.status_reason,
    Connection.paused,
    Connection.sync_interval_minutes,
    Connection.updated_at,
)


def is_oauth(system: str) -> bool:
    try:
        return connector_class(system).spec.auth.mode is AuthMode.OAUTH2
    except UnknownSystemError:
        return False


def can_reconnect(system: str, status: str) -> bool:
    """OAuth systems re-connect through their consent page from here; credential systems through the API."""
    return status == ConnectionStatus.NEEDS_REAUTH.value and is_oauth(system)


def needs_attention(row: Any) -> bool:
    return bool(row.paused) or row.status != ConnectionStatus.ACTIVE.value


async def connection_rows(session: Any, *, attention_only: bool = False) -> list[dict[str, Any]]:
    query = select(*PUBLIC_COLUMNS).order_by(
        # Those needing attention first (false sorts before true), then by name.
        (Connection.status == ConnectionStatus.ACTIVE.value) & ~Connection.paused,
        Connection.name,
    )
    rows = (await session.execute(query)).all()
    waiting = await waiting_per_connection(session, state=ExportState.NEEDS_ACTION.value)
    names = await tenant_names(session)
    result = []
    for row in rows:
        if attention_only and not needs_attention(row):
            continue
        result.append(
            {
                **row._asdict(),
                "needs_action": waiting.get(row.id, 0),
                "tenant_name": names.get(row.tenant_id, str(row.tenant_id)),
                "can_reconnect": can_reconnect(row.provider, row.status),
            }
        )
    return result


@router.get("/connections", name="dashboard_connections")
async def connections_page(request: Request, scope: ScopeDep) -> Response:
    async with scope.reading("connections") as session:
        rows = await connection_rows(session)
    return render(request, "connections.html", {"connections": rows, "live": True})


async def _toggle(
    request: Request, scope: ScopeDep, connection_id: uuid.UUID, *, paused: bool, next_path: str
) -> Response:
    async with scope.reading("locate connection") as session:
        tenant_id = await session.scalar(select(Connection.tenant_id).where(Connection.id == connection_id))
    if tenant_id is None:
        raise NotFoundPage("connection")
    async with scope.acting_for(tenant_id) as repository:
        connection = await repository.get(Connection, connection_id)
        if connection is None:
            raise NotFoundPage("connection")
        changed = await set_paused(repository.session, connection=connection, paused=paused, actor=repository.actor)
        name = connection.name
    verb = "paused" if paused else "resumed"
    message = f"Connection “{name}” {verb}." if changed else f"Connection “{name}” was already {verb}."
    return back(request, f"{PREFIX}/connections", message, to=next_path)


@router.post("/connections/{connection_id}/pause")
async def pause(
    request: Request,
    connection_id: uuid.UUID,
    user: CsrfUserDep,
    scope: ScopeDep,
    next: Annotated[str, Form()] = "",
) -> Response:
    return await _toggle(request, scope, connection_id, paused=True, next_path=next)


@router.post("/connections/{connection_id}/resume")
async def resume(
    request: Request,
    connection_id: uuid.UUID,
    user: CsrfUserDep,
    scope: ScopeDep,
    next: Annotated[str, Form()] = "",
) -> Response:
    return await _toggle(request, scope, connection_id, paused=False, next_path=next)


@router.post("/connections/{connection_id}/reconnect")
async def reconnect(request: Request, connection_id: uuid.UUID, user: CsrfUserDep, scope: ScopeDep) -> Response:
    """Send the tenant admin on to the system's consent page, bound to this browser and session; the callback brings
    them back to this page."""
    if user.is_support:
        raise ForbiddenPage("Only the tenant's admin can authorize its connections again.")
    async with scope.reading("reconnect connection") as session:
        row = (
            await session.execute(
                select(Connection.tenant_id, Connection.provider, Connection.name).where(Connection.id == connection_id)
            )
        ).first()
    if row is None or not scope.allows(row.tenant_id):
        raise NotFoundPage("connection")
    started_by = StartedBy(key_id=user.key_id, key_prefix=user.key_prefix, dashboard_session_hash=session_hash(request))
    url, state = await start_authorization(
        settings=settings_of(request),
        redis=queue_of(request).redis,
        tenant_id=row.tenant_id,
        actor=user.actor,
        started_by=started_by,
        system=row.provider,
        name=row.name,
        return_to=f"{PREFIX}/connections",
    )
    # A page that moves on by itself rather than a redirect: the dashboard's `form-action 'self'` forbids a form's
    # answer to redirect to another site, and the policy stays that strict everywhere else.
    system = connector_class(row.provider).spec.display_name
    response = render(request, "oauth_continue.html", {"url": url, "system": system})
    set_state_cookie(response, state=state, system=row.provider, secure=secure_request(request, settings_of(request)))
    return response
