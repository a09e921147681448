"""export item counts kept by the writing transactions, for the dashboard's overview and totals

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 14:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

APP_ROLE = "ledgerline_app"
CURRENT_TENANT_ONCE = "(SELECT NULLIF(current_setting('app.tenant_id', true), '')::uuid)"
CROSS_TENANT_ONCE = "(SELECT current_setting('app.cross_tenant', true) = 'on')"

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# At a million items the overview counted every item in view on each load (items by state: 400 ms for support).
# The counts now live in `export_item_counts`, written by statement triggers on `export_items` inside the writing
# transaction, so they are exact wherever that write is visible. Rows are deltas appended (never updated in place):
# two workers moving items of the same connection never wait on one counter row, nor deadlock taking two in opposite
# orders. The writer whose deltas cross each 2048th id folds each key's rows into one (an advisory lock keeps
# two folds apart; a fold only deletes rows already committed and re-adds their sum in its own transaction).
# The bodies below are plain SQL (no value is formatted into them): the fold's period, 2048 deltas, and its advisory
# lock key, 7301016 (any constant no other lock of ours uses), are written in them.

FOLD = "ledgerline_fold_export_item_counts()"
FOLD_BODY = """
    RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    DECLARE
        folded bigint;
    BEGIN
        IF NOT pg_try_advisory_xact_lock(7301016) THEN
            RETURN 0;
        END IF;
        WITH busy AS (
            SELECT tenant_id, destination_connection_id, destination_provider, state, error_class FROM public.export_item_counts GROUP BY tenant_id, destination_connection_id, destination_provider, state, error_class HAVING count(*) > 1
        ), gone AS (
            DELETE FROM public.export_item_counts c USING busy b
            WHERE c.tenant_id = b.tenant_id AND c.destination_connection_id = b.destination_connection_id
              AND c.destination_provider = b.destination_provider AND c.state = b.state
              AND c.error_class IS NOT DISTINCT FROM b.error_class
            RETURNING c.tenant_id, c.destination_connection_id, c.destination_provider, c.state, c.error_class, c.items
        )
        INSERT INTO public.export_item_counts (tenant_id, destination_connection_id, destination_provider, state, error_class, items)
        SELECT tenant_id, destination_connection_id, destination_provider, state, error_class, sum(items) FROM gone GROUP BY tenant_id, destination_connection_id, destination_provider, state, error_class HAVING sum(items) <> 0;
        GET DIAGNOSTICS folded = ROW_COUNT;
        RETURN folded;
    END $$"""

COUNT = "ledgerline_count_export_items()"
COUNT_BODY = """
    RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    DECLARE
        added bigint;
        last_id bigint;
    BEGIN
        IF TG_OP = 'INSERT' THEN
            INSERT INTO public.export_item_counts (tenant_id, destination_connection_id, destination_provider, state, error_class, items)
            SELECT tenant_id, destination_connection_id, destination_provider, state, error_class, count(*) FROM new_rows GROUP BY tenant_id, destination_connection_id, destination_provider, state, error_class;
        ELSIF TG_OP = 'DELETE' THEN
            INSERT INTO public.export_item_counts (tenant_id, destination_connection_id, destination_provider, state, error_class, items)
            SELECT tenant_id, destination_connection_id, destination_provider, state, error_class, -count(*) FROM old_rows GROUP BY tenant_id, destination_connection_id, destination_provider, state, error_class;
        ELSE
            INSERT INTO public.export_item_counts (tenant_id, destination_connection_id, destination_provider, state, error_class, items)
            SELECT tenant_id, destination_connection_id, destination_provider, state, error_class, sum(n) FROM (
                SELECT tenant_id, destination_connection_id, destination_provider, state, error_class, 1 AS n FROM new_rows
                UNION ALL
                SELECT tenant_id, destination_connection_id, destination_provider, state, error_class, -1 AS n FROM old_rows
            ) moved
            GROUP BY tenant_id, destination_connection_id, destination_provider, state, error_class HAVING sum(n) <> 0;
        END IF;
        GET DIAGNOSTICS added = ROW_COUNT;
        IF added > 0 THEN
            last_id := currval(pg_get_serial_sequence('public.export_item_counts', 'id'));
            IF last_id / 2048 <> (last_id - added) / 2048 THEN
                PERFORM public.ledgerline_fold_export_item_counts();
            END IF;
        END IF;
        RETURN NULL;
    END $$"""

REBUILD = "ledgerline_rebuild_export_item_counts()"
REBUILD_BODY = """
    RETURNS bigint
    LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
    DECLARE
        keys bigint;
    BEGIN
        -- Writers wait (SHARE blocks them) so no delta is lost between the delete and the recount.
        LOCK TABLE public.export_items IN SHARE MODE;
        DELETE FROM public.export_item_counts;
        INSERT INTO public.export_item_counts (tenant_id, destination_connection_id, destination_provider, state, error_class, items)
        SELECT tenant_id, destination_connection_id, destination_provider, state, error_class, count(*) FROM public.export_items GROUP BY tenant_id, destination_connection_id, destination_provider, state, error_class;
        GET DIAGNOSTICS keys = ROW_COUNT;
        RETURN keys;
    END $$"""
"""For the owner only: after a load that bypassed the triggers (`session_replication_role = replica`), and here."""

TRIGGERS = {
    "export_items_counted_insert": "AFTER INSERT ON export_items REFERENCING NEW TABLE AS new_rows",
    "export_items_counted_update": "AFTER UPDATE ON export_items REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
    "export_items_counted_delete": "AFTER DELETE ON export_items REFERENCING OLD TABLE AS old_rows",
}


def upgrade() -> None:
    op.create_table(
        "export_item_counts",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("destination_connection_id", sa.UUID(), nullable=False),
        sa.Column("destination_provider", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("error_class", sa.String(length=32), nullable=True),
        sa.Column("items", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_export_item_counts")),
    )
    op.create_index(
        op.f("ix_export_item_counts_tenant_id_state"), "export_item_counts", ["tenant_id", "state"], unique=False
    )
    op.execute("ALTER TABLE export_item_counts ENABLE ROW LEVEL SECURITY")
    op.execute(
        f"CREATE POLICY tenant_isolation ON export_item_counts "
        f"USING (tenant_id = {CURRENT_TENANT_ONCE} OR {CROSS_TENANT_ONCE})"
    )
    op.execute(f"GRANT SELECT ON export_item_counts TO {APP_ROLE}")
    for signature, body in ((FOLD, FOLD_BODY), (COUNT, COUNT_BODY), (REBUILD, REBUILD_BODY)):
        op.execute(f"CREATE FUNCTION {signature} {body}")
        op.execute(f"REVOKE ALL ON FUNCTION {signature} FROM PUBLIC")
    for name, when in TRIGGERS.items():
        op.execute(f"CREATE TRIGGER {name} {when} FOR EACH STATEMENT EXECUTE FUNCTION {COUNT}")
    op.execute(f"SELECT {REBUILD}")


def downgrade() -> None:
    for name in TRIGGERS:
        op.execute(f"DROP TRIGGER {name} ON export_items")
    for signature in (REBUILD, COUNT, FOLD):
        op.execute(f"DROP FUNCTION {signature}")
    op.drop_index(op.f("ix_export_item_counts_tenant_id_state"), table_name="export_item_counts")
    op.drop_table("export_item_counts")
