"""The SQL of the ingress hot path: one short transaction of (at most) three statements, in two round trips.

The endpoint knows no tenant until it has found the connection, and row-level security shows a tenant-less session
nothing. So the lookup goes through the owner-run `ledgerline_webhook_connection(key)` (migration 0005), which
returns just what checking a delivery needs, and the same statement scopes the rest of the transaction to the
connection's tenant (`set_config(…, true)`): the insert then passes row-level security like any tenant write, and
the setting dies with the transaction.

The statements run on the pooled connection's psycopg driver in pipeline mode: `BEGIN` travels with the lookup,
and the insert with its `COMMIT` (`webhooks.ingress`), so a delivery costs two database round trips instead of
four. Neither the ORM nor SQLAlchemy Core can batch statements like that, and each round trip is a wake-up of both
this process and a PostgreSQL backend: on a busy host that, not the SQL, is what a delivery mostly costs.
"""

import uuid
from dataclasses import dataclass
from typing import Any

from psycopg import AsyncConnection, AsyncCursor

from core.constants import CROSS_TENANT_GUC, TENANT_GUC


@dataclass(frozen=True, slots=True)
class ConnectionForWebhooks:
    tenant_id: uuid.UUID
    connection_id: uuid.UUID
    provider: str
    sealed_secrets: bytes | None


_LOOKUP_AND_SCOPE = (
    "SELECT c.tenant_id, c.connection_id, c.provider, c.webhook_secrets, "
    "set_config(%(tenant_guc)s, c.tenant_id::text, true), set_config(%(cross_guc)s, 'off', true) "
    "FROM ledgerline_webhook_connection(%(key)s) AS c"
)
_INSERT_EVENT = (
    "INSERT INTO webhook_events (tenant_id, connection_id, provider, event_id, event_type, payload) "
    "VALUES (%(tenant_id)s, %(connection_id)s, %(provider)s, %(event_id)s, %(event_type)s, "
    "CAST(%(payload)s AS jsonb)) "
    "ON CONFLICT (provider, connection_id, event_id) DO NOTHING RETURNING id"
)
_INBOX_DEPTH = (
    "SELECT count(*) FROM (SELECT 1 FROM webhook_events "
    "WHERE connection_id = %(connection_id)s AND state = 'received' LIMIT %(limit)s) AS inbox"
)


class PendingInsert:
    """An insert sent in pipeline mode; its result can be read once the pipeline has synced (after `COMMIT`)."""

    def __init__(self, cursor: AsyncCursor[tuple[Any, ...]]) -> None:
        self._cursor = cursor

    async def row_id(self) -> uuid.UUID | None:
        """The new row's id, or None when the sender's id was already stored (a redelivery)."""
        row = await self._cursor.fetchone()
        return row[0] if row else None


async def find_and_scope(connection: AsyncConnection[Any], key: str) -> ConnectionForWebhooks | None:
    """The connection whose webhook key is `key`; when found, the transaction now acts for its tenant."""
    cursor = await connection.execute(
        _LOOKUP_AND_SCOPE, {"key": key, "tenant_guc": TENANT_GUC, "cross_guc": CROSS_TENANT_GUC}
    )
    row = await cursor.fetchone()
    if row is None:
        return None
    return ConnectionForWebhooks(
        tenant_id=row[0], connection_id=row[1], provider=row[2], sealed_secrets=bytes(row[3]) if row[3] else None
    )


async def insert_event(
    connection: AsyncConnection[Any],
    *,
    found: ConnectionForWebhooks,
    provider: str,
    event_id: str,
    event_type: str | None,
    payload_json: str,
) -> PendingInsert:
    """Send the insert (`ON CONFLICT DO NOTHING`); in pipeline mode it leaves with the next sync (the `COMMIT`)."""
    return PendingInsert(
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
    )


async def inbox_depth(connection: AsyncConnection[Any], *, connection_id: uuid.UUID, limit: int) -> int:
    """Events of the connection still waiting to be handled, counted up to `limit` (a full count is not needed)."""
    row = await (await connection.execute(_INBOX_DEPTH, {"connection_id": connection_id, "limit": limit})).fetchone()
    return int(row[0]) if row else 0
