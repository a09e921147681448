"""The SQL of the ingress hot path: one short transaction of (at most) three statements.

The endpoint knows no tenant until it has found the connection, and row-level security shows a tenant-less session
nothing. So the lookup goes through the owner-run `ledgerline_webhook_connection(key)` (migration 0005), which
returns just what checking a delivery needs, and the same statement scopes the rest of the transaction to the
connection's tenant (`set_config(…, true)`): the insert then passes row-level security like any tenant write, and
the setting dies with the transaction. Plain Core statements on a pooled connection: the ORM would add a
round trip (the session's own tenant stamp) and object bookkeeping to every delivery for nothing.
"""

import uuid
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from core.constants import CROSS_TENANT_GUC, TENANT_GUC


@dataclass(frozen=True, slots=True)
class ConnectionForWebhooks:
    tenant_id: uuid.UUID
    connection_id: uuid.UUID
    provider: str
    sealed_secrets: bytes | None


_LOOKUP_AND_SCOPE = text(
    "SELECT c.tenant_id, c.connection_id, c.provider, c.webhook_secrets, "
    "set_config(:tenant_guc, c.tenant_id::text, true), set_config(:cross_guc, 'off', true) "
    "FROM ledgerline_webhook_connection(:key) AS c"
)
_INSERT_EVENT = text(
    "INSERT INTO webhook_events (tenant_id, connection_id, provider, event_id, event_type, payload) "
    "VALUES (:tenant_id, :connection_id, :provider, :event_id, :event_type, CAST(:payload AS jsonb)) "
    "ON CONFLICT (provider, connection_id, event_id) DO NOTHING RETURNING id"
)
_INBOX_DEPTH = text(
    "SELECT count(*) FROM (SELECT 1 FROM webhook_events "
    "WHERE connection_id = :connection_id AND state = 'received' LIMIT :limit) AS inbox"
)


async def find_and_scope(connection: AsyncConnection, key: str) -> ConnectionForWebhooks | None:
    """The connection whose webhook key is `key`; when found, the transaction now acts for its tenant."""
    row = (
        await connection.execute(
            _LOOKUP_AND_SCOPE, {"key": key, "tenant_guc": TENANT_GUC, "cross_guc": CROSS_TENANT_GUC}
        )
    ).first()
    if row is None:
        return None
    return ConnectionForWebhooks(
        tenant_id=row[0], connection_id=row[1], provider=row[2], sealed_secrets=bytes(row[3]) if row[3] else None
    )


async def insert_event(
    connection: AsyncConnection,
    *,
    found: ConnectionForWebhooks,
    provider: str,
    event_id: str,
    event_type: str | None,
    payload_json: str,
) -> uuid.UUID | None:
    """The new row's id, or None when the sender's id was already stored (a redelivery)."""
    inserted: uuid.UUID | None = (
        await connection.execute(
            _INSERT_EVENT,
            {
                "tenant_id": found.tenant_id,
                "connection_id": found.connection_id,
                "provider": provider,
                "event_id": event_id,
                "event_type": event_type,
                "payload": payload_json,
            },
        )
    ).scalar()
    return inserted


async def inbox_depth(connection: AsyncConnection, *, connection_id: uuid.UUID, limit: int) -> int:
    """Events of the connection still waiting to be handled, counted up to `limit` (a full count is not needed)."""
    depth = (await connection.execute(_INBOX_DEPTH, {"connection_id": connection_id, "limit": limit})).scalar()
    return int(depth or 0)
