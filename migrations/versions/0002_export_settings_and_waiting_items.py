"""versioned export settings, the mappings an item waits on, why an expense was left out

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 09:12:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

APP_ROLE = "ledgerline_app"
NEW_TENANT_TABLES = ("export_settings",)
CURRENT_TENANT = "NULLIF(current_setting('app.tenant_id', true), '')::uuid"
CROSS_TENANT = "current_setting('app.cross_tenant', true) = 'on'"

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _secure(table: str) -> None:
    """The same grants and row-level security policy the first migration gives every tenant table."""
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {APP_ROLE}")
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(
        f"CREATE POLICY tenant_isolation ON {table} "
        f"USING (tenant_id = {CURRENT_TENANT} OR {CROSS_TENANT}) "
        f"WITH CHECK (tenant_id = {CURRENT_TENANT} OR {CROSS_TENANT})"
    )


def upgrade() -> None:
    op.create_table(
        "export_settings",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("destination_connection_id", sa.UUID(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("body", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("version >= 1", name=op.f("ck_export_settings_version_positive")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "destination_connection_id"],
            ["connections.tenant_id", "connections.id"],
            name=op.f("fk_export_settings_tenant_id_destination_connection_id_connections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_export_settings_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_export_settings")),
        sa.UniqueConstraint(
            "tenant_id",
            "destination_connection_id",
            "version",
            name=op.f("uq_export_settings_tenant_id_destination_connection_id_version"),
        ),
        sa.UniqueConstraint("tenant_id", "id", name=op.f("uq_export_settings_tenant_id_id")),
    )
    op.add_column("export_items", sa.Column("missing_mappings", postgresql.JSONB(astext_type=sa.Text()), nullable=True))
    op.create_index(
        "ix_export_items_missing_mappings",
        "export_items",
        ["missing_mappings"],
        unique=False,
        postgresql_using="gin",
        postgresql_where=sa.text("missing_mappings IS NOT NULL"),
    )
    op.add_column("source_records", sa.Column("skip_reason", sa.Text(), nullable=True))
    for table in NEW_TENANT_TABLES:
        _secure(table)


def downgrade() -> None:
    op.drop_column("source_records", "skip_reason")
    op.drop_index(
        "ix_export_items_missing_mappings",
        table_name="export_items",
        postgresql_using="gin",
        postgresql_where=sa.text("missing_mappings IS NOT NULL"),
    )
    op.drop_column("export_items", "missing_mappings")
    op.drop_table("export_settings")
