"""The SQL of the ingress hot path: one short transaction in one or two round trips, with `BEGIN` and `COMMIT`
riding along.

The endpoint knows no tenant until it has found the connection, and row-level security shows a tenant-less session
nothing. So the lookup goes through the owner-run `ledgerline_webhook_connection(key)` (migration 0005), which
returns just what checking a delivery needs, and the same statement scopes the rest of the transaction to the
connection's tenant (`set_config(…, true)`): the insert then passes row-level security like any tenant write, and
the setting dies with the transaction.

When the process remembers the key's last lookup (`webhooks.lookup_cache`) and the signature verifies against it,
one round trip does it all: scope to the remembered tenant, and insert only if the connection row still matches
what was remembered (`insert_if_current_and_commit`); the answer says whether it did. Otherwise, or when it did
not match, two: the lookup, then the insert.

Each round trip is one simple-protocol query holding several statements (`BEGIN; lookup`, then `insert; COMMIT`),
its values bound on the client by psycopg's `AsyncClientCursor` (quoted by libpq's rules for this connection). That
costs both this process and PostgreSQL less than the same statements through pipeline mode (measured: about a third
of the client CPU, and less server CPU too), and each round trip is a wake-up of both this process and a PostgreSQL
backend: on a busy host that, not the SQL, is what a delivery mostly costs. The connection is in autocommit mode
(`webhooks.ingress_pool`), so the driver adds no `BEGIN` of its own; an error ends the query at the failing
statement, and the pool rolls back what is left open.
"""

import uuid
from dataclasses import dataclass
from typing import Any

from psycopg import AsyncClientCursor, AsyncConnection

from core.constants import CROSS_TENANT_GUC, TENANT_GUC


@dataclass(frozen=True, slots=True)
class ConnectionForWebhooks:
    tenant_id: uuid.UUID
    connection_id: uuid.UUID
    provider: str
    sealed_secrets: bytes | None


_BEGIN_LOOKUP_AND_SCOPE = (
    "BEGIN; "
    "SELECT c.tenant_id, c.connection_id, c.provider, c.webhook_secrets, "
    "set_config(%(tenant_guc)s, c.tenant_id::text, true), set_config(%(cross_guc)s, 'off', true) "
    "FROM ledgerline_webhook_connection(%(key)s) AS c"
)
_INSERT_EVENT_AND_COMMIT = (
    "INSERT INTO webhook_events (tenant_id, connection_id, provider, event_id, event_type, payload) "
    "VALUES (%(tenant_id)s, %(connection_id)s, %(provider)s, %(event_id)s, %(event_type)s, "
    "CAST(%(payload)s AS jsonb)) "
    "ON CONFLICT (provider, connection_id, event_id) DO NOTHING RETURNING id; "
    "COMMIT"
)
_SCOPE_INSERT_IF_CURRENT_AND_COMMIT = (
    "BEGIN; "
    "SELECT set_config(%(tenant_guc)s, %(tenant)s, true), set_config(%(cross_guc)s, 'off', true); "
    "WITH current_connection AS ("
    "SELECT tenant_id, id FROM connections WHERE tenant_id = %(tenant_id)s AND id = %(connection_id)s "
    "AND webhook_key = %(key)s AND provider = %(provider)s AND webhook_secrets = %(sealed)s"
    "), inserted AS ("
    "INSERT INTO webhook_events (tenant_id, connection_id, provider, event_id, event_type, payload) "
    "SELECT tenant_id, id, %(provider)s, %(event_id)s, %(event_type)s, CAST(%(payload)s AS jsonb) "
    "FROM current_connection "
    "ON CONFLICT (provider, connection_id, event_id) DO NOTHING RETURNING id"
    ") SELECT EXISTS (SELECT FROM current_connection), (SELECT id FROM inserted); "
    "COMMIT"
)
_INBOX_DEPTH = (
    "SELECT count(*) FROM (SELECT 1 FROM webhook_events "
    "WHERE connection_id = %(connection_id)s AND state = 'received' LIMIT %(limit)s) AS inbox"
)


async def begin_find_and_scope(connection: AsyncConnection[Any], key: str) -> ConnectionForWebhooks | None:
    """Open a transaction and find the connection whose webhook key is `key`; when found, the transaction now acts
    for its tenant. The transaction stays open either way (`insert_event_and_commit` ends it, or the pool)."""
    cursor = AsyncClientCursor(connection)
    await cursor.execute(_BEGIN_LOOKUP_AND_SCOPE, {"key": key, "tenant_guc": TENANT_GUC, "cross_guc": CROSS_TENANT_GUC})
    cursor.nextset()  # past BEGIN's empty result
    row = await cursor.fetchone()
    if row is None:
        return None
    return ConnectionForWebhooks(
        tenant_id=row[0], connection_id=row[1], provider=row[2], sealed_secrets=bytes(row[3]) if row[3] else None
    )


async def insert_event_and_commit(
    connection: AsyncConnection[Any],
    *,
    found: ConnectionForWebhooks,
    provider: str,
    event_id: str,
    event_type: str | None,
    payload_json: str,
) -> uuid.UUID | None:
    """Store the event (`ON CONFLICT DO NOTHING`) and commit: the new row's id, durable once this returns, or None
    when the sender's id was already stored (a redelivery)."""
    cursor = AsyncClientCursor(connection)
    await cursor.execute(
        _INSERT_EVENT_AND_COMMIT,
        {
            "tenant_id": found.tenant_id,
            "connection_id": found.connection_id,
            "provider": provider,
            "event_id": event_id,
            "event_type": event_type,
            "payload": payload_json,
        },
    )
    row = await cursor.fetchone()  # the insert's result; the query returned, so the COMMIT after it succeeded
    return row[0] if row else None


@dataclass(frozen=True, slots=True)
class ConditionalInsert:
    current: bool
    """The connection row still matched the remembered lookup; when False nothing was stored."""
    row_id: uuid.UUID | None
    """As `insert_event_and_commit`: the new row, or None for a redelivery (or when not `current`)."""


async def insert_if_current_and_commit(
    connection: AsyncConnection[Any],
    *,
    key: str,
    remembered: ConnectionForWebhooks,
    event_id: str,
    event_type: str | None,
    payload_json: str,
) -> ConditionalInsert:
    """In one transaction and round trip: act for the remembered tenant, and store the event only if the connection
    with this key still has the remembered tenant, provider and sealed secrets (what the delivery was verified
    against)."""
    cursor = AsyncClientCursor(connection)
    await cursor.execute(
        _SCOPE_INSERT_IF_CURRENT_AND_COMMIT,
        {
            "tenant_guc": TENANT_GUC,
            "cross_guc": CROSS_TENANT_GUC,
            "tenant": str(remembered.tenant_id),
            "tenant_id": remembered.tenant_id,
            "connection_id": remembered.connection_id,
            "key": key,
            "provider": remembered.provider,
            "sealed": remembered.sealed_secrets,
            "event_id": event_id,
            "event_type": event_type,
            "payload": payload_json,
        },
    )
    cursor.nextset()  # past BEGIN
    cursor.nextset()  # past the scoping
    row = await cursor.fetchone()
    assert row is not None  # the final SELECT always returns one row
    return ConditionalInsert(current=bool(row[0]), row_id=row[1])


async def inbox_depth(connection: AsyncConnection[Any], *, connection_id: uuid.UUID, limit: int) -> int:
    """Events of the connection still waiting to be handled, counted up to `limit` (a full count is not needed)."""
    row = await (await connection.execute(_INBOX_DEPTH, {"connection_id": connection_id, "limit": limit})).fetchone()
    return int(row[0]) if row else 0
