"""What the tenant admin's onboarding pages share: the admin-only rule, the destination a page is about, and the
steps it walks through (connect, import, map, settings, export)."""

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from connectors.registry import UnknownSystemError, connector_class
from connectors.spec import ConnectorSpec
from core.models import Connection, ConnectionRole
from dashboard.pages.item_actions import ForbiddenPage
from dashboard.scope import NotFoundPage, Scope
from dashboard.session import DashboardUser

SETUP = "/setup"
STEPS = (("import", "Import"), ("map", "Map"), ("settings", "Export settings"), ("export", "Export"))
"""The steps of a destination, each a page under `/setup/destinations/{id}/<step>`."""


def require_admin(user: DashboardUser) -> uuid.UUID:
    """The admin's tenant; support sees every tenant's failures but sets up none."""
    if user.is_support or user.tenant_id is None:
        raise ForbiddenPage("Setting a tenant up is for that tenant's admin: sign in with the tenant's key.")
    return user.tenant_id


def spec_of(system: str) -> ConnectorSpec:
    """The installed system's spec; the not-found page for any other name."""
    try:
        return connector_class(system).spec
    except UnknownSystemError:
        raise NotFoundPage("system") from None


def display_name(system: str) -> str:
    try:
        return connector_class(system).spec.display_name
    except UnknownSystemError:
        return system


@dataclass(frozen=True)
class DestinationView:
    id: uuid.UUID
    tenant_id: uuid.UUID
    name: str
    provider: str
    display_name: str
    status: str
    status_reason: str | None
    settings: dict[str, Any]
    sync_interval_minutes: int | None


async def destination_of(session: AsyncSession, scope: Scope, connection_id: uuid.UUID) -> DestinationView:
    """The admin's destination connection `connection_id`; the 404 page for anything else."""
    row = await session.scalar(
        select(Connection).where(Connection.id == connection_id, Connection.role == ConnectionRole.DESTINATION.value)
    )
    if row is None or not scope.allows(row.tenant_id):
        raise NotFoundPage("destination")
    return DestinationView(
        id=row.id,
        tenant_id=row.tenant_id,
        name=row.name,
        provider=row.provider,
        display_name=display_name(row.provider),
        status=row.status,
        status_reason=row.status_reason,
        settings=dict(row.settings),
        sync_interval_minutes=row.sync_interval_minutes,
    )


def steps_context(destination: DestinationView, current: str) -> dict[str, Any]:
    """What `_setup_steps.html` needs: the destination and which step the page is."""
    return {"destination": destination, "steps": STEPS, "current_step": current}
