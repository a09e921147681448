"""initial schema, row-level security and the service role

Revision ID: 0001
Revises:
Create Date: 2026-11-21 10:46:58.487603
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

APP_ROLE = "ledgerline_app"
TENANT_TABLES = (
    "api_keys",
    "connections",
    "destination_attributes",
    "source_records",
    "export_items",
    "export_item_records",
    "attempts",
    "sync_runs",
    "stream_cursors",
    "webhook_events",
    "mappings",
    "audit_events",
    "api_idempotency_keys",
)
CURRENT_TENANT = "NULLIF(current_setting('app.tenant_id', true), '')::uuid"
CROSS_TENANT = "current_setting('app.cross_tenant', true) = 'on'"


def _secure() -> None:
    """The service role, its grants, and a row-level security policy on every tenant table.

    The role is shared by every database of the cluster, so it is created if missing and never dropped here.
    """
    op.execute(
        f"""
        DO $$ BEGIN
            IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
                CREATE ROLE {APP_ROLE} LOGIN;
            END IF;
        EXCEPTION WHEN duplicate_object THEN NULL;
        END $$;
        """
    )
    op.execute(f"GRANT USAGE ON SCHEMA public TO {APP_ROLE}")
    op.execute(f"GRANT SELECT, UPDATE ON tenants TO {APP_ROLE}")
    op.execute("ALTER TABLE tenants ENABLE ROW LEVEL SECURITY")
    op.execute(
        f"CREATE POLICY tenant_isolation ON tenants USING (id = {CURRENT_TENANT} OR {CROSS_TENANT}) "
        f"WITH CHECK (id = {CURRENT_TENANT} OR {CROSS_TENANT})"
    )
    for table in TENANT_TABLES:
        privileges = "SELECT, INSERT" if table == "audit_events" else "SELECT, INSERT, UPDATE, DELETE"
        op.execute(f"GRANT {privileges} ON {table} TO {APP_ROLE}")
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY tenant_isolation ON {table} "
            f"USING (tenant_id = {CURRENT_TENANT} OR {CROSS_TENANT}) "
            f"WITH CHECK (tenant_id = {CURRENT_TENANT} OR {CROSS_TENANT})"
        )
    # The audit log is append-only for everyone, the owner included.
    op.execute(
        """
        CREATE FUNCTION ledgerline_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'audit_events is append-only (% refused)', TG_OP;
        END $$;
        """
    )
    op.execute(
        "CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_events "
        "FOR EACH STATEMENT EXECUTE FUNCTION ledgerline_audit_append_only()"
    )
    # API-key authentication happens before the tenant is known: this owner-run function is the only way the
    # service role can read a key row outside its tenant, and it returns just what checking one key needs.
    op.execute(
        """
        CREATE FUNCTION ledgerline_find_api_key(key_prefix text)
        RETURNS TABLE (id uuid, tenant_id uuid, role text, key_hash text, revoked boolean)
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
            SELECT id, tenant_id, role, key_hash, revoked_at IS NOT NULL FROM public.api_keys WHERE prefix = key_prefix
        $$;
        """
    )
    op.execute("REVOKE ALL ON FUNCTION ledgerline_find_api_key(text) FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION ledgerline_find_api_key(text) TO {APP_ROLE}")


def _unsecure() -> None:
    op.execute("DROP FUNCTION IF EXISTS ledgerline_find_api_key(text)")
    op.execute("DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events")
    op.execute("DROP FUNCTION IF EXISTS ledgerline_audit_append_only()")
    op.execute(f"REVOKE USAGE ON SCHEMA public FROM {APP_ROLE}")


revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "tenants",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("slug", sa.String(length=63), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tenants")),
        sa.UniqueConstraint("slug", name=op.f("uq_tenants_slug")),
    )
    op.create_table(
        "api_idempotency_keys",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("method", sa.String(length=8), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("response_status", sa.Integer(), nullable=True),
        sa.Column("response_headers", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("response_body", sa.LargeBinary(), nullable=True),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("state IN ('in_flight', 'completed')", name=op.f("ck_api_idempotency_keys_state_allowed")),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_api_idempotency_keys_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "key", name=op.f("pk_api_idempotency_keys")),
    )
    op.create_index(op.f("ix_api_idempotency_keys_expires_at"), "api_idempotency_keys", ["expires_at"], unique=False)
    op.create_table(
        "api_keys",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("tenant_id", sa.UUID(), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("prefix", sa.String(length=32), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "(role = 'support') = (tenant_id IS NULL)", name=op.f("ck_api_keys_support_keys_span_tenants")
        ),
        sa.CheckConstraint("role IN ('admin', 'support')", name=op.f("ck_api_keys_role_allowed")),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_api_keys_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("prefix", name=op.f("uq_api_keys_prefix")),
    )
    op.create_index(op.f("ix_api_keys_tenant_id"), "api_keys", ["tenant_id"], unique=False)
    op.create_table(
        "audit_events",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("chain", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("tenant_id", sa.UUID(), nullable=True),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("entity_type", sa.String(length=64), nullable=False),
        sa.Column("entity_id", sa.String(length=255), nullable=True),
        sa.Column(
            "data", postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.CheckConstraint("seq >= 1", name=op.f("ck_audit_events_seq_positive")),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_audit_events_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
        sa.UniqueConstraint("chain", "seq", name=op.f("uq_audit_events_chain_seq")),
    )
    op.create_index(
        op.f("ix_audit_events_tenant_id_created_at"), "audit_events", ["tenant_id", "created_at"], unique=False
    )
    op.create_table(
        "connections",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), server_default="active", nullable=False),
        sa.Column("status_reason", sa.Text(), nullable=True),
        sa.Column("credentials", sa.LargeBinary(), nullable=True),
        sa.Column(
            "settings", postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False
        ),
        sa.Column("webhook_key", sa.String(length=64), nullable=False),
        sa.Column("paused", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("role IN ('source', 'destination')", name=op.f("ck_connections_role_allowed")),
        sa.CheckConstraint(
            "status IN ('active', 'needs_reauth', 'disabled')", name=op.f("ck_connections_status_allowed")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_connections_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_connections")),
        sa.UniqueConstraint("tenant_id", "id", name=op.f("uq_connections_tenant_id_id")),
        sa.UniqueConstraint("tenant_id", "name", name=op.f("uq_connections_tenant_id_name")),
        sa.UniqueConstraint("webhook_key", name=op.f("uq_connections_webhook_key")),
    )
    op.create_index(op.f("ix_connections_provider"), "connections", ["provider"], unique=False)
    op.create_table(
        "destination_attributes",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("connection_id", sa.UUID(), nullable=False),
        sa.Column("attribute_type", sa.String(length=64), nullable=False),
        sa.Column("remote_id", sa.String(length=255), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("code", sa.String(length=255), nullable=True),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column(
            "detail", postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False
        ),
        sa.Column("remote_updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "connection_id"],
            ["connections.tenant_id", "connections.id"],
            name=op.f("fk_destination_attributes_tenant_id_connection_id_connections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_destination_attributes_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_destination_attributes")),
        sa.UniqueConstraint(
            "connection_id",
            "attribute_type",
            "remote_id",
            name=op.f("uq_destination_attributes_connection_id_attribute_type_remote_id"),
        ),
        sa.UniqueConstraint("tenant_id", "id", name=op.f("uq_destination_attributes_tenant_id_id")),
    )
    op.create_index(
        op.f("ix_destination_attributes_connection_id_attribute_type_active"),
        "destination_attributes",
        ["connection_id", "attribute_type", "active"],
        unique=False,
    )
    op.create_table(
        "export_items",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("destination_connection_id", sa.UUID(), nullable=False),
        sa.Column("destination_provider", sa.String(length=32), nullable=False),
        sa.Column("document_type", sa.String(length=32), nullable=False),
        sa.Column("group_key", sa.Text(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), server_default="pending", nullable=False),
        sa.Column("attempt_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("lease_owner", sa.String(length=128), nullable=True),
        sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome_unknown", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("error_class", sa.String(length=32), nullable=True),
        sa.Column("error_code", sa.String(length=64), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("error_hint", sa.Text(), nullable=True),
        sa.Column("skip_reason", sa.Text(), nullable=True),
        sa.Column("document", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("remote_id", sa.String(length=255), nullable=True),
        sa.Column("remote_url", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "document_type IN ('bill', 'expense_report', 'journal_entry', 'charge_card_transaction', 'payment', 'reimbursement')",
            name=op.f("ck_export_items_document_type_allowed"),
        ),
        sa.CheckConstraint(
            "state IN ('pending', 'running', 'succeeded', 'needs_action', 'skipped')",
            name=op.f("ck_export_items_state_allowed"),
        ),
        sa.CheckConstraint("attempt_count >= 0", name=op.f("ck_export_items_attempt_count_not_negative")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "destination_connection_id"],
            ["connections.tenant_id", "connections.id"],
            name=op.f("fk_export_items_tenant_id_destination_connection_id_connections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_export_items_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_export_items")),
        sa.UniqueConstraint("tenant_id", "id", name=op.f("uq_export_items_tenant_id_id")),
        sa.UniqueConstraint("tenant_id", "idempotency_key", name=op.f("uq_export_items_tenant_id_idempotency_key")),
    )
    op.create_index(
        "ix_export_items_due",
        "export_items",
        ["next_attempt_at"],
        unique=False,
        postgresql_where=sa.text("state = 'pending'"),
    )
    op.create_index("ix_export_items_error_class_updated", "export_items", ["error_class", "updated_at"], unique=False)
    op.create_index(
        "ix_export_items_provider_state_updated",
        "export_items",
        ["destination_provider", "state", "updated_at"],
        unique=False,
    )
    op.create_index(
        "ix_export_items_tenant_state_updated", "export_items", ["tenant_id", "state", "updated_at"], unique=False
    )
    op.create_index("ix_export_items_updated_at", "export_items", ["updated_at"], unique=False)
    op.create_index(
        "uq_export_items_remote_document",
        "export_items",
        ["destination_connection_id", "remote_id"],
        unique=True,
        postgresql_where=sa.text("remote_id IS NOT NULL"),
    )
    op.create_table(
        "source_records",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("connection_id", sa.UUID(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("remote_id", sa.String(length=255), nullable=False),
        sa.Column("parent_remote_id", sa.String(length=255), nullable=True),
        sa.Column("remote_state", sa.String(length=64), nullable=True),
        sa.Column("data", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("changed_after_export", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("remote_updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "connection_id"],
            ["connections.tenant_id", "connections.id"],
            name=op.f("fk_source_records_tenant_id_connection_id_connections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_source_records_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_source_records")),
        sa.UniqueConstraint(
            "connection_id", "kind", "remote_id", name=op.f("uq_source_records_connection_id_kind_remote_id")
        ),
        sa.UniqueConstraint("tenant_id", "id", name=op.f("uq_source_records_tenant_id_id")),
    )
    op.create_index(
        op.f("ix_source_records_connection_id_kind_parent_remote_id"),
        "source_records",
        ["connection_id", "kind", "parent_remote_id"],
        unique=False,
    )
    op.create_table(
        "stream_cursors",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("connection_id", sa.UUID(), nullable=False),
        sa.Column("stream", sa.String(length=64), nullable=False),
        sa.Column("cursor", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "connection_id"],
            ["connections.tenant_id", "connections.id"],
            name=op.f("fk_stream_cursors_tenant_id_connection_id_connections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_stream_cursors_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("connection_id", "stream", name=op.f("pk_stream_cursors")),
    )
    op.create_table(
        "sync_runs",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("connection_id", sa.UUID(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("trigger", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=16), server_default="pending", nullable=False),
        sa.Column(
            "counts", postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False
        ),
        sa.Column(
            "log", postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'[]'::jsonb"), nullable=False
        ),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("attempt_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("lease_owner", sa.String(length=128), nullable=True),
        sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("requested_by", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "state IN ('pending', 'running', 'succeeded', 'failed', 'cancelled')",
            name=op.f("ck_sync_runs_state_allowed"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "connection_id"],
            ["connections.tenant_id", "connections.id"],
            name=op.f("fk_sync_runs_tenant_id_connection_id_connections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_sync_runs_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_runs")),
        sa.UniqueConstraint("tenant_id", "id", name=op.f("uq_sync_runs_tenant_id_id")),
    )
    op.create_index(
        op.f("ix_sync_runs_connection_id_created_at"), "sync_runs", ["connection_id", "created_at"], unique=False
    )
    op.create_index(
        "ix_sync_runs_due",
        "sync_runs",
        ["next_attempt_at"],
        unique=False,
        postgresql_where=sa.text("state = 'pending'"),
    )
    op.create_table(
        "webhook_events",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("connection_id", sa.UUID(), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("event_id", sa.String(length=255), nullable=False),
        sa.Column("event_type", sa.String(length=128), nullable=True),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("state", sa.String(length=16), server_default="received", nullable=False),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("attempt_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("lease_owner", sa.String(length=128), nullable=True),
        sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "state IN ('received', 'processed', 'failed')", name=op.f("ck_webhook_events_state_allowed")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "connection_id"],
            ["connections.tenant_id", "connections.id"],
            name=op.f("fk_webhook_events_tenant_id_connection_id_connections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_webhook_events_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_events")),
        sa.UniqueConstraint(
            "provider", "connection_id", "event_id", name=op.f("uq_webhook_events_provider_connection_id_event_id")
        ),
    )
    op.create_index(
        "ix_webhook_events_due",
        "webhook_events",
        ["next_attempt_at"],
        unique=False,
        postgresql_where=sa.text("state = 'received'"),
    )
    op.create_index(
        op.f("ix_webhook_events_tenant_id_state_received_at"),
        "webhook_events",
        ["tenant_id", "state", "received_at"],
        unique=False,
    )
    op.create_table(
        "attempts",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("export_item_id", sa.UUID(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("worker", sa.String(length=128), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("error_class", sa.String(length=32), nullable=True),
        sa.Column("error_code", sa.String(length=64), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("request_excerpt", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("response_excerpt", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "outcome IN ('succeeded', 'adopted', 'failed', 'outcome_unknown')", name=op.f("ck_attempts_outcome_allowed")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "export_item_id"],
            ["export_items.tenant_id", "export_items.id"],
            name=op.f("fk_attempts_tenant_id_export_item_id_export_items"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_attempts_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attempts")),
        sa.UniqueConstraint("export_item_id", "number", name=op.f("uq_attempts_export_item_id_number")),
    )
    op.create_table(
        "export_item_records",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("export_item_id", sa.UUID(), nullable=False),
        sa.Column("source_record_id", sa.UUID(), nullable=False),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "export_item_id"],
            ["export_items.tenant_id", "export_items.id"],
            name=op.f("fk_export_item_records_tenant_id_export_item_id_export_items"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "source_record_id"],
            ["source_records.tenant_id", "source_records.id"],
            name=op.f("fk_export_item_records_tenant_id_source_record_id_source_records"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_export_item_records_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("export_item_id", "source_record_id", name=op.f("pk_export_item_records")),
    )
    op.create_index(
        "uq_export_item_records_live_record",
        "export_item_records",
        ["source_record_id"],
        unique=True,
        postgresql_where=sa.text("released_at IS NULL"),
    )
    op.create_table(
        "mappings",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("destination_connection_id", sa.UUID(), nullable=False),
        sa.Column("source_type", sa.String(length=64), nullable=False),
        sa.Column("source_value", sa.Text(), nullable=False),
        sa.Column("destination_type", sa.String(length=64), nullable=False),
        sa.Column("destination_attribute_id", sa.UUID(), nullable=False),
        sa.Column("updated_by", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "destination_attribute_id"],
            ["destination_attributes.tenant_id", "destination_attributes.id"],
            name=op.f("fk_mappings_tenant_id_destination_attribute_id_destination_attributes"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "destination_connection_id"],
            ["connections.tenant_id", "connections.id"],
            name=op.f("fk_mappings_tenant_id_destination_connection_id_connections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_mappings_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mappings")),
        sa.UniqueConstraint(
            "destination_connection_id",
            "source_type",
            "source_value",
            "destination_type",
            name=op.f("uq_mappings_destination_connection_id_source_type_source_value_destination_type"),
        ),
    )
    _secure()


def downgrade() -> None:
    _unsecure()
    op.drop_table("mappings")
    op.drop_index(
        "uq_export_item_records_live_record",
        table_name="export_item_records",
        postgresql_where=sa.text("released_at IS NULL"),
    )
    op.drop_table("export_item_records")
    op.drop_table("attempts")
    op.drop_index(op.f("ix_webhook_events_tenant_id_state_received_at"), table_name="webhook_events")
    op.drop_index("ix_webhook_events_due", table_name="webhook_events", postgresql_where=sa.text("state = 'received'"))
    op.drop_table("webhook_events")
    op.drop_index("ix_sync_runs_due", table_name="sync_runs", postgresql_where=sa.text("state = 'pending'"))
    op.drop_index(op.f("ix_sync_runs_connection_id_created_at"), table_name="sync_runs")
    op.drop_table("sync_runs")
    op.drop_table("stream_cursors")
    op.drop_index(op.f("ix_source_records_connection_id_kind_parent_remote_id"), table_name="source_records")
    op.drop_table("source_records")
    op.drop_index(
        "uq_export_items_remote_document", table_name="export_items", postgresql_where=sa.text("remote_id IS NOT NULL")
    )
    op.drop_index("ix_export_items_updated_at", table_name="export_items")
    op.drop_index("ix_export_items_tenant_state_updated", table_name="export_items")
    op.drop_index("ix_export_items_provider_state_updated", table_name="export_items")
    op.drop_index("ix_export_items_error_class_updated", table_name="export_items")
    op.drop_index("ix_export_items_due", table_name="export_items", postgresql_where=sa.text("state = 'pending'"))
    op.drop_table("export_items")
    op.drop_index(
        op.f("ix_destination_attributes_connection_id_attribute_type_active"), table_name="destination_attributes"
    )
    op.drop_table("destination_attributes")
    op.drop_index(op.f("ix_connections_provider"), table_name="connections")
    op.drop_table("connections")
    op.drop_index(op.f("ix_audit_events_tenant_id_created_at"), table_name="audit_events")
    op.drop_table("audit_events")
    op.drop_index(op.f("ix_api_keys_tenant_id"), table_name="api_keys")
    op.drop_table("api_keys")
    op.drop_index(op.f("ix_api_idempotency_keys_expires_at"), table_name="api_idempotency_keys")
    op.drop_table("api_idempotency_keys")
    op.drop_table("tenants")
