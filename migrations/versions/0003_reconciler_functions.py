"""reconciler discovery functions: due work and expired leases across tenants, without a cross-tenant session

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21 12:20:00.000000
"""

from collections.abc import Sequence

from alembic import op

APP_ROLE = "ledgerline_app"

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The reconciler must find work in every tenant, but it only needs ids: these owner-run functions return just
# that, and every change is then made in a tenant session (row-level security, audited), never across tenants.
FUNCTIONS = {
    "ledgerline_due_export_connections(max_rows integer)": """
        RETURNS TABLE (tenant_id uuid, connection_id uuid, due bigint)
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
            SELECT tenant_id, destination_connection_id, count(*)
            FROM public.export_items
            WHERE state = 'pending' AND next_attempt_at <= now()
            GROUP BY tenant_id, destination_connection_id
            ORDER BY min(next_attempt_at)
            LIMIT max_rows
        $$""",
    "ledgerline_expired_export_leases(max_rows integer)": """
        RETURNS TABLE (tenant_id uuid, item_id uuid)
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
            SELECT tenant_id, id FROM public.export_items
            WHERE state = 'running' AND lease_expires_at < now()
            ORDER BY lease_expires_at
            LIMIT max_rows
        $$""",
}


def upgrade() -> None:
    for signature, body in FUNCTIONS.items():
        op.execute(f"CREATE FUNCTION {signature} {body}")
        op.execute(f"REVOKE ALL ON FUNCTION {signature} FROM PUBLIC")
        op.execute(f"GRANT EXECUTE ON FUNCTION {signature} TO {APP_ROLE}")
    op.execute("CREATE INDEX ix_export_items_lease_expiry ON export_items (lease_expires_at) WHERE state = 'running'")


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_export_items_lease_expiry")
    for signature in FUNCTIONS:
        op.execute(f"DROP FUNCTION IF EXISTS {signature.replace(' max_rows', '')}")
