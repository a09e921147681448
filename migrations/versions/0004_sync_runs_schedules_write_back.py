"""sync runs, schedules, write-back and payment tracking; paused or unauthorised connections are not discovered

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21 13:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

APP_ROLE = "ledgerline_app"

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Same rule as 0003: owner-run discovery returns ids only; every change happens in a tenant session.
DUE_EXPORTS_0003 = """
        RETURNS TABLE (tenant_id uuid, connection_id uuid, due bigint)
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
            SELECT tenant_id, destination_connection_id, count(*)
            FROM public.export_items
            WHERE state = 'pending' AND next_attempt_at <= now()
            GROUP BY tenant_id, destination_connection_id
            ORDER BY min(next_attempt_at)
            LIMIT max_rows
        $$"""
DUE_EXPORTS = """
        RETURNS TABLE (tenant_id uuid, connection_id uuid, due bigint)
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
            SELECT i.tenant_id, i.destination_connection_id, count(*)
            FROM public.export_items i
            JOIN public.connections c ON c.tenant_id = i.tenant_id AND c.id = i.destination_connection_id
            WHERE i.state = 'pending' AND i.next_attempt_at <= now() AND c.status = 'active' AND NOT c.paused
            GROUP BY i.tenant_id, i.destination_connection_id
            ORDER BY min(i.next_attempt_at)
            LIMIT max_rows
        $$"""
FUNCTIONS = {
    "ledgerline_due_sync_runs(max_rows integer)": """
        RETURNS TABLE (tenant_id uuid, run_id uuid)
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
            SELECT r.tenant_id, r.id FROM public.sync_runs r
            JOIN public.connections c ON c.tenant_id = r.tenant_id AND c.id = r.connection_id
            WHERE r.state = 'pending' AND r.next_attempt_at <= now() AND c.status = 'active' AND NOT c.paused
            ORDER BY r.next_attempt_at
            LIMIT max_rows
        $$""",
    "ledgerline_expired_run_leases(max_rows integer)": """
        RETURNS TABLE (tenant_id uuid, run_id uuid)
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
            SELECT tenant_id, id FROM public.sync_runs
            WHERE state = 'running' AND lease_expires_at < now()
            ORDER BY lease_expires_at
            LIMIT max_rows
        $$""",
    # A destination is due when it has an interval, no run waiting or running, and no run started within it.
    "ledgerline_due_schedules(max_rows integer)": """
        RETURNS TABLE (tenant_id uuid, connection_id uuid)
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
            SELECT c.tenant_id, c.id FROM public.connections c
            WHERE c.role = 'destination' AND c.sync_interval_minutes IS NOT NULL AND c.status = 'active' AND NOT c.paused
              AND NOT EXISTS (
                SELECT 1 FROM public.sync_runs r
                WHERE r.tenant_id = c.tenant_id AND r.connection_id = c.id
                  AND (r.state IN ('pending', 'running')
                       OR r.created_at > now() - make_interval(mins => c.sync_interval_minutes)))
            ORDER BY c.id
            LIMIT max_rows
        $$""",
}


def _create(signature: str, body: str) -> None:
    op.execute(f"CREATE OR REPLACE FUNCTION {signature} {body}")
    op.execute(f"REVOKE ALL ON FUNCTION {signature} FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION {signature} TO {APP_ROLE}")


def upgrade() -> None:
    op.add_column("connections", sa.Column("sync_interval_minutes", sa.Integer(), nullable=True))
    op.create_check_constraint(
        op.f("ck_connections_sync_interval_positive"), "connections", "sync_interval_minutes > 0"
    )
    op.add_column("sync_runs", sa.Column("phase", sa.String(length=32), nullable=True))
    op.add_column("export_items", sa.Column("status_written_back_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("export_items", sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("export_items", sa.Column("paid_written_back_at", sa.DateTime(timezone=True), nullable=True))
    # The write-back and payment sweeps look for exactly these rows.
    op.create_index(
        "ix_export_items_write_back_due",
        "export_items",
        ["tenant_id", "destination_connection_id"],
        postgresql_where=sa.text(
            "state IN ('succeeded', 'needs_action', 'skipped') AND status_written_back_at IS NULL"
        ),
    )
    op.create_index(
        "ix_export_items_unpaid",
        "export_items",
        ["tenant_id", "destination_connection_id"],
        postgresql_where=sa.text("state = 'succeeded' AND paid_at IS NULL"),
    )
    op.create_index(
        "ix_sync_runs_lease_expiry", "sync_runs", ["lease_expires_at"], postgresql_where=sa.text("state = 'running'")
    )
    _create("ledgerline_due_export_connections(max_rows integer)", DUE_EXPORTS)
    for signature, body in FUNCTIONS.items():
        _create(signature, body)


def downgrade() -> None:
    for signature in FUNCTIONS:
        op.execute(f"DROP FUNCTION IF EXISTS {signature.replace(' max_rows', '')}")
    _create("ledgerline_due_export_connections(max_rows integer)", DUE_EXPORTS_0003)
    op.drop_index("ix_sync_runs_lease_expiry", table_name="sync_runs")
    op.drop_index("ix_export_items_unpaid", table_name="export_items")
    op.drop_index("ix_export_items_write_back_due", table_name="export_items")
    op.drop_column("export_items", "paid_written_back_at")
    op.drop_column("export_items", "paid_at")
    op.drop_column("export_items", "status_written_back_at")
    op.drop_column("sync_runs", "phase")
    op.drop_constraint(op.f("ck_connections_sync_interval_positive"), "connections", type_="check")
    op.drop_column("connections", "sync_interval_minutes")
