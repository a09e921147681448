"""A connection whose credentials the system refused waits for a person: `needs_reauth`, with the reason, audited.

One place for it, because the refusal can surface anywhere — a token refresh, an export, an import, a payment
check — and each must leave the same trace.
"""

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.audit import append_event
from core.constants import STATUS_REASON_MAX_CHARS
from core.models import Connection, ConnectionStatus


async def mark_needs_reauth(
    session: AsyncSession,
    *,
    tenant_id: uuid.UUID,
    connection_id: uuid.UUID,
    reason: str,
    actor: str,
    data: dict[str, Any] | None = None,
) -> bool:
    """Move an active connection to `needs_reauth`; False when it was not active (someone got there first)."""
    row = await session.scalar(
        select(Connection).where(Connection.tenant_id == tenant_id, Connection.id == connection_id).with_for_update()
    )
    if row is None or row.status != ConnectionStatus.ACTIVE.value:
        return False
    row.status, row.status_reason = ConnectionStatus.NEEDS_REAUTH.value, reason[:STATUS_REASON_MAX_CHARS]
    await append_event(
        session,
        tenant_id=tenant_id,
        actor=actor,
        action="connection.needs_reauth",
        entity_type="connections",
        entity_id=str(connection_id),
        data={"reason": row.status_reason, **(data or {})},
    )
    return True
