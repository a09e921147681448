"""webhook ingress: per-connection signing secrets, the key lookup, and discovery of webhook events

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 09:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

APP_ROLE = "ledgerline_app"

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Same rule as 0003: owner-run functions return only what their caller needs; every change happens in a tenant
# session. The ingress knows no tenant until it has found the connection by its URL key, hence the lookup.
FUNCTIONS = {
    "ledgerline_webhook_connection(lookup_key text)": """
        RETURNS TABLE (tenant_id uuid, connection_id uuid, provider text, webhook_secrets bytea)
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
            SELECT tenant_id, id, provider, webhook_secrets FROM public.connections WHERE webhook_key = lookup_key
        $$""",
    "ledgerline_due_webhook_events(max_rows integer)": """
        RETURNS TABLE (tenant_id uuid, event_id uuid)
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
            SELECT tenant_id, id FROM public.webhook_events
            WHERE state = 'received' AND next_attempt_at <= now()
              AND (lease_owner IS NULL OR lease_expires_at IS NULL OR lease_expires_at < now())
            ORDER BY next_attempt_at
            LIMIT max_rows
        $$""",
    "ledgerline_expired_webhook_leases(max_rows integer)": """
        RETURNS TABLE (tenant_id uuid, event_id uuid)
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
            SELECT tenant_id, id FROM public.webhook_events
            WHERE state = 'received' AND lease_expires_at < now()
            ORDER BY lease_expires_at
            LIMIT max_rows
        $$""",
}


def upgrade() -> None:
    op.add_column("connections", sa.Column("webhook_secrets", sa.LargeBinary(), nullable=True))
    # The ingress counts a connection's waiting events (backpressure); the reconciler finds expired leases.
    op.create_index(
        "ix_webhook_events_inbox", "webhook_events", ["connection_id"], postgresql_where=sa.text("state = 'received'")
    )
    op.create_index(
        "ix_webhook_events_lease_expiry",
        "webhook_events",
        ["lease_expires_at"],
        postgresql_where=sa.text("state = 'received'"),
    )
    for signature, body in FUNCTIONS.items():
        op.execute(f"CREATE FUNCTION {signature} {body}")
        op.execute(f"REVOKE ALL ON FUNCTION {signature} FROM PUBLIC")
        op.execute(f"GRANT EXECUTE ON FUNCTION {signature} TO {APP_ROLE}")


def downgrade() -> None:
    for signature in FUNCTIONS:
        name, _, arguments = signature.partition("(")
        types = ", ".join(argument.split()[-1] for argument in arguments.rstrip(")").split(","))
        op.execute(f"DROP FUNCTION IF EXISTS {name}({types})")
    op.drop_index("ix_webhook_events_lease_expiry", table_name="webhook_events")
    op.drop_index("ix_webhook_events_inbox", table_name="webhook_events")
    op.drop_column("connections", "webhook_secrets")
