"""Onboarding, first page: what the tenant has connected, each installed system to connect, and the way back from a
system's consent page.

A system connects the way its spec says: OAuth2 through its consent page (the callback comes back to
`/setup/connected/{system}`, which says what was connected and what comes next, or what went wrong), or a
credentials form whose fields come from the spec, checked with the system before anything is saved
(`web.connection_setup`), with each problem shown beside its field.
"""

import re
import uuid
from collections import Counter
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import func, select

from connectors.registry import available_systems, connector_class
from connectors.spec import AuthMode, ConnectorRole, ConnectorSpec
from core.models import Connection, ConnectionRole, DestinationAttribute, ExportItem, ExportSettingsVersion, ExportState
from dashboard.constants import PREFIX
from dashboard.csrf import CsrfUserDep
from dashboard.pages.common import back
from dashboard.pages.setup_common import SETUP, display_name, require_admin, spec_of
from dashboard.scope import ScopeDep
from dashboard.session import UserDep, session_hash
from dashboard.templating import render
from sync.repointing import RepointingRefusedError
from web.app_state import queue_of, settings_of, vault_of
from web.connection_setup import (
    ConnectionOfAnotherSystem,
    CredentialsRefused,
    SystemUnreachable,
    check_credentials,
    credential_problems,
    refuse_repointing,
    save_connection,
)
from web.constants import CONNECTION_NAME_PATTERN
from web.oauth_binding import StartedBy, set_state_cookie
from web.oauth_start import secure_request, start_authorization

router = APIRouter(prefix=SETUP)


@dataclass(frozen=True)
class SystemCard:
    system: str
    display_name: str
    roles: tuple[str, ...]
    oauth: bool
    connected: int


async def _destination_rows(session: Any, tenant_id: uuid.UUID) -> list[dict[str, Any]]:
    """Each destination with how far its setup has come: values imported, settings saved, documents exported."""
    destinations = (
        await session.scalars(
            select(Connection)
            .where(Connection.tenant_id == tenant_id, Connection.role == ConnectionRole.DESTINATION.value)
            .order_by(Connection.created_at)
        )
    ).all()
    imported = dict(
        (
            await session.execute(
                select(DestinationAttribute.connection_id, func.count())
                .where(DestinationAttribute.tenant_id == tenant_id)
                .group_by(DestinationAttribute.connection_id)
            )
        ).all()
    )
    versions = dict(
        (
            await session.execute(
                select(ExportSettingsVersion.destination_connection_id, func.max(ExportSettingsVersion.version))
                .where(ExportSettingsVersion.tenant_id == tenant_id)
                .group_by(ExportSettingsVersion.destination_connection_id)
            )
        ).all()
    )
    states: Counter[tuple[uuid.UUID, str]] = Counter(
        {
            (row[0], row[1]): row[2]
            for row in (
                await session.execute(
                    select(ExportItem.destination_connection_id, ExportItem.state, func.count())
                    .where(ExportItem.tenant_id == tenant_id)
                    .group_by(ExportItem.destination_connection_id, ExportItem.state)
                )
            ).all()
        }
    )
    return [
        {
            "id": row.id,
            "name": row.name,
            "display_name": display_name(row.provider),
            "status": row.status,
            "imported": imported.get(row.id, 0),
            "settings_version": versions.get(row.id),
            "exported": states[(row.id, ExportState.SUCCEEDED.value)],
            "needs_action": states[(row.id, ExportState.NEEDS_ACTION.value)],
        }
        for row in destinations
    ]


@router.get("", name="dashboard_setup")
async def setup_page(request: Request, user: UserDep, scope: ScopeDep) -> Response:
    tenant_id = require_admin(user)
    async with scope.reading("setup") as session:
        connections = (
            await session.execute(
                select(Connection.name, Connection.provider, Connection.role, Connection.status).where(
                    Connection.tenant_id == tenant_id
                )
            )
        ).all()
        destinations = await _destination_rows(session, tenant_id)
    per_system = Counter(row.provider for row in connections)
    cards = []
    for system in available_systems():
        spec = connector_class(system).spec
        cards.append(
            SystemCard(
                system=system,
                display_name=spec.display_name,
                roles=tuple(role.value for role in spec.roles),
                oauth=spec.auth.mode is AuthMode.OAUTH2,
                connected=per_system[system],
            )
        )
    sources = [row for row in connections if row.role == ConnectionRole.SOURCE.value]
    context = {
        "cards": cards,
        "sources": [
            {"name": row.name, "display_name": display_name(row.provider), "status": row.status} for row in sources
        ],
        "destinations": destinations,
        "has_source": bool(sources),
    }
    return render(request, "setup.html", context)


def _form_context(spec: ConnectorSpec, *, name: str, values: dict[str, str], errors: dict[str, str]) -> dict[str, Any]:
    return {
        "spec": spec,
        "system": spec.system,
        "oauth": spec.auth.mode is AuthMode.OAUTH2,
        "name": name,
        "values": {key: value for key, value in values.items() if not _is_secret(spec, key)},
        "errors": errors,
        "name_pattern": CONNECTION_NAME_PATTERN,
    }


def _is_secret(spec: ConnectorSpec, name: str) -> bool:
    return any(field.name == name and field.secret for field in spec.auth.tenant_fields)


@router.get("/connect/{system}")
async def connect_page(request: Request, system: str, user: UserDep) -> Response:
    require_admin(user)
    spec = spec_of(system)
    return render(request, "setup_connect.html", _form_context(spec, name=system, values={}, errors={}))


@router.post("/connect/{system}")
async def connect(request: Request, system: str, user: CsrfUserDep, scope: ScopeDep) -> Response:
    """OAuth2: on to the consent page, bound to this browser and session. Credentials: checked, then saved."""
    tenant_id = require_admin(user)
    spec = spec_of(system)
    form = await request.form()
    name = str(form.get("name") or "").strip()
    if spec.auth.mode is AuthMode.OAUTH2:
        if not _valid_name(name):
            return render(
                request,
                "setup_connect.html",
                _form_context(spec, name=name, values={}, errors={"name": NAME_HELP}),
                status_code=422,
            )
        started_by = StartedBy(
            key_id=user.key_id, key_prefix=user.key_prefix, dashboard_session_hash=session_hash(request)
        )
        url, state = await start_authorization(
            settings=settings_of(request),
            redis=queue_of(request).redis,
            tenant_id=tenant_id,
            actor=user.actor,
            started_by=started_by,
            system=system,
            name=name,
            return_to=f"{PREFIX}{SETUP}/connected/{system}",
        )
        response = render(request, "oauth_continue.html", {"url": url, "system": spec.display_name})
        set_state_cookie(response, state=state, system=system, secure=secure_request(request, settings_of(request)))
        return response
    values = {field.name: str(form.get(field.name) or "").strip() for field in spec.auth.tenant_fields}
    return await _connect_with_credentials(request, scope, spec, tenant_id=tenant_id, name=name, values=values)


NAME_HELP = "A name of up to 200 letters, digits, spaces or . @ - _ for this connection."


def _valid_name(name: str) -> bool:
    return re.fullmatch(CONNECTION_NAME_PATTERN, name) is not None


async def _connect_with_credentials(
    request: Request, scope: ScopeDep, spec: ConnectorSpec, *, tenant_id: uuid.UUID, name: str, values: dict[str, str]
) -> Response:
    given = {key: value for key, value in values.items() if value}
    errors = dict(credential_problems(spec, given))
    if not _valid_name(name):
        errors["name"] = NAME_HELP
    if not errors:
        try:
            await check_credentials(spec, settings=settings_of(request), tenant_id=tenant_id, credentials=given)
        except (CredentialsRefused, SystemUnreachable) as exc:
            errors["form"] = exc.message
    if errors:
        context = _form_context(spec, name=name, values=values, errors=errors)
        return render(request, "setup_connect.html", context, status_code=422)
    credentials = given
    vault = vault_of(request)
    try:
        async with scope.acting_for(tenant_id) as repository:
            await refuse_repointing(repository, spec=spec, name=name, credentials=credentials, vault=vault)
            row = await save_connection(
                repository,
                spec=spec,
                name=name,
                credentials=vault.encrypt(credentials),
                action="connection.connect",
            )
            connection_id, role = row.id, row.role
    except (ConnectionOfAnotherSystem, RepointingRefusedError) as exc:
        context = _form_context(spec, name=name, values=values, errors={"form": str(exc)})
        return render(request, "setup_connect.html", context, status_code=409)
    message = f"Connected {spec.display_name} as “{name}”."
    if role == ConnectorRole.DESTINATION.value:
        return back(request, f"{PREFIX}{SETUP}/destinations/{connection_id}/import", message + " Next: import.")
    return back(request, f"{PREFIX}{SETUP}", message)


@router.get("/connected/{system}")
async def connected(
    request: Request,
    system: str,
    user: UserDep,
    scope: ScopeDep,
) -> Response:
    """Where a consent page sends the admin back: what was connected and what comes next, or what went wrong."""
    tenant_id = require_admin(user)
    spec = spec_of(system)
    choice = request.query_params.get("choose")
    if choice is not None:  # the consent covers several organisations: on to picking which to connect
        return RedirectResponse(f"{PREFIX}{SETUP}/choose/{spec.system}/{quote(choice, safe='')}", status_code=303)
    problem = request.query_params.get("error")
    row = None
    if problem is None:
        async with scope.reading("connected") as session:
            row = (
                await session.execute(
                    select(Connection.id, Connection.name, Connection.role, Connection.settings)
                    .where(Connection.tenant_id == tenant_id, Connection.provider == system)
                    .order_by(Connection.updated_at.desc())
                    .limit(1)
                )
            ).first()
    context = {
        "spec": spec,
        "system": system,
        "problem": problem,
        "connection": row,
        "is_destination": row is not None and row.role == ConnectorRole.DESTINATION.value,
    }
    return render(request, "setup_connected.html", context, status_code=200 if problem is None else 400)
