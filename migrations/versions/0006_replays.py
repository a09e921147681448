"""replays: bulk replay jobs, the retry dashboard's indexes, word search in error messages, replay discovery

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22 14:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

APP_ROLE = "ledgerline_app"
CURRENT_TENANT = "NULLIF(current_setting('app.tenant_id', true), '')::uuid"
CROSS_TENANT = "current_setting('app.cross_tenant', true) = 'on'"

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Same rule as 0003 for discovery: ids only, every change happens in the replay's own session.
# The word search is different: row-level security keeps a non-leakproof operator (`@@`) from using an index in the
# service's queries, so this owner-run function searches with the index and applies the very same policy itself —
# it reads the caller's tenant (or cross-tenant flag) from the transaction's settings, like the policies do.
FUNCTIONS = {
    "ledgerline_due_replays(max_rows integer)": """
        RETURNS TABLE (tenant_id uuid, replay_id uuid)
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
            SELECT tenant_id, id FROM public.replays
            WHERE state = 'pending' AND next_attempt_at <= now()
            ORDER BY next_attempt_at
            LIMIT max_rows
        $$""",
    "ledgerline_expired_replay_leases(max_rows integer)": """
        RETURNS TABLE (tenant_id uuid, replay_id uuid)
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
            SELECT tenant_id, id FROM public.replays
            WHERE state = 'running' AND lease_expires_at < now()
            ORDER BY lease_expires_at
            LIMIT max_rows
        $$""",
    "ledgerline_export_items_with_words(words text, only_state text, max_rows integer)": """
        RETURNS TABLE (item_id uuid)
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
            SELECT id FROM public.export_items
            WHERE error_message IS NOT NULL
              AND to_tsvector('simple'::regconfig, error_message) @@ to_tsquery('simple'::regconfig, words)
              AND (only_state IS NULL OR state = only_state)
              AND (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid
                   OR current_setting('app.cross_tenant', true) = 'on')
            LIMIT max_rows
        $$""",
}


def _drop(signature: str) -> None:
    name, _, arguments = signature.partition("(")
    types = ", ".join(argument.split()[-1] for argument in arguments.rstrip(")").split(","))
    op.execute(f"DROP FUNCTION IF EXISTS {name}({types})")


def upgrade() -> None:
    op.create_table(
        "replays",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("tenant_id", sa.UUID(), nullable=True),
        sa.Column("filter", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("state", sa.String(length=16), server_default="pending", nullable=False),
        sa.Column("total", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("done", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("failed", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("cursor", sa.UUID(), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("attempt_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("lease_owner", sa.String(length=128), nullable=True),
        sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("requested_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "state IN ('pending', 'running', 'succeeded', 'failed', 'cancelled')", name=op.f("ck_replays_state_allowed")
        ),
        sa.CheckConstraint("total >= 0 AND done >= 0 AND failed >= 0", name=op.f("ck_replays_counts_not_negative")),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_replays_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_replays")),
    )
    op.create_index("ix_replays_due", "replays", ["next_attempt_at"], postgresql_where=sa.text("state = 'pending'"))
    op.create_index(
        "ix_replays_lease_expiry", "replays", ["lease_expires_at"], postgresql_where=sa.text("state = 'running'")
    )
    op.create_index(op.f("ix_replays_tenant_id_created_at"), "replays", ["tenant_id", "created_at"])
    # A replay across tenants has no tenant: only a cross-tenant (support) session sees it.
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON replays TO {APP_ROLE}")
    op.execute("ALTER TABLE replays ENABLE ROW LEVEL SECURITY")
    op.execute(
        f"CREATE POLICY tenant_isolation ON replays "
        f"USING (tenant_id = {CURRENT_TENANT} OR {CROSS_TENANT}) "
        f"WITH CHECK (tenant_id = {CURRENT_TENANT} OR {CROSS_TENANT})"
    )

    # The retry dashboard's lists, counts and lookups (see `sync.item_queries`).
    op.create_index("ix_export_items_state_updated", "export_items", ["state", "updated_at", "id"])
    op.create_index("ix_export_items_state_created", "export_items", ["state", "created_at", "id"])
    op.create_index(
        "ix_export_items_state_facets",
        "export_items",
        ["state", "error_class", "id"],
        postgresql_include=["destination_provider", "tenant_id"],
    )
    op.create_index("ix_export_items_idempotency_key", "export_items", ["idempotency_key"])
    op.create_index(
        "ix_export_items_remote_id", "export_items", ["remote_id"], postgresql_where=sa.text("remote_id IS NOT NULL")
    )
    op.create_index(
        "ix_export_items_needs_action",
        "export_items",
        ["tenant_id", "id"],
        postgresql_where=sa.text("state = 'needs_action'"),
    )
    op.create_index(
        "ix_export_items_error_words",
        "export_items",
        [sa.text("to_tsvector('simple'::regconfig, error_message)")],
        postgresql_using="gin",
        postgresql_where=sa.text("error_message IS NOT NULL"),
    )
    op.create_index(op.f("ix_source_records_remote_id"), "source_records", ["remote_id"])
    op.create_index(op.f("ix_source_records_parent_remote_id"), "source_records", ["parent_remote_id"])
    op.create_index(op.f("ix_export_item_records_source_record_id"), "export_item_records", ["source_record_id"])
    op.create_index(
        "ix_attempts_failed_finished",
        "attempts",
        ["finished_at"],
        postgresql_include=["tenant_id"],
        postgresql_where=sa.text("outcome IN ('failed', 'outcome_unknown')"),
    )
    op.create_index(op.f("ix_audit_events_entity_type_entity_id"), "audit_events", ["entity_type", "entity_id"])
    for signature, body in FUNCTIONS.items():
        op.execute(f"CREATE FUNCTION {signature} {body}")
        op.execute(f"REVOKE ALL ON FUNCTION {signature} FROM PUBLIC")
        op.execute(f"GRANT EXECUTE ON FUNCTION {signature} TO {APP_ROLE}")


def downgrade() -> None:
    for signature in FUNCTIONS:
        _drop(signature)
    op.drop_index(op.f("ix_audit_events_entity_type_entity_id"), table_name="audit_events")
    op.drop_index("ix_attempts_failed_finished", table_name="attempts")
    op.drop_index(op.f("ix_export_item_records_source_record_id"), table_name="export_item_records")
    op.drop_index(op.f("ix_source_records_parent_remote_id"), table_name="source_records")
    op.drop_index(op.f("ix_source_records_remote_id"), table_name="source_records")
    for name in (
        "ix_export_items_error_words",
        "ix_export_items_needs_action",
        "ix_export_items_remote_id",
        "ix_export_items_idempotency_key",
        "ix_export_items_state_facets",
        "ix_export_items_state_created",
        "ix_export_items_state_updated",
    ):
        op.drop_index(name, table_name="export_items")
    op.drop_table("replays")
