"""retry dashboard at scale: exact word search, a list index for provider and error class, a cheaper export_items
policy; a replay's own retry window

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

APP_ROLE = "ledgerline_app"
CURRENT_TENANT = "NULLIF(current_setting('app.tenant_id', true), '')::uuid"
CROSS_TENANT = "current_setting('app.cross_tenant', true) = 'on'"
# The same rule, each setting read once per statement (an init plan) instead of once per row: at 200,000 rows the
# per-row reads were most of a count's time.
CURRENT_TENANT_ONCE = f"(SELECT {CURRENT_TENANT})"
CROSS_TENANT_ONCE = f"(SELECT {CROSS_TENANT})"

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_WORD_SEARCH = "ledgerline_export_items_with_words(words text, only_state text, max_rows integer)"
OLD_WORD_SEARCH_BODY = """
    RETURNS TABLE (item_id uuid)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
        SELECT id FROM public.export_items
        WHERE error_message IS NOT NULL
          AND to_tsvector('simple'::regconfig, error_message) @@ to_tsquery('simple'::regconfig, words)
          AND (only_state IS NULL OR state = only_state)
          AND (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid
               OR current_setting('app.cross_tenant', true) = 'on')
        LIMIT max_rows
    $$"""

# 0006's search returned an arbitrary `max_rows` matches, which the list then sorted: page 1 of a broad search was the
# newest of an arbitrary few, and counts and bulk replays stopped at the cap. Now the word condition is checked on
# every row the list walks (exact in any order, filter and page), and this owner-run function only says, through the
# index, which items those can be when they are few — NULL when there are more than `max_rows`, since a broad search
# finds its page quickly along the list's own index. It applies the row-level security policy itself, as 0006's did.
WORD_SEARCH = "ledgerline_export_item_ids_with_words(words text, only_state text, max_rows integer)"
WORD_SEARCH_BODY = """
    RETURNS uuid[]
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
        SELECT CASE WHEN count(*) <= max_rows THEN coalesce(array_agg(id), '{}') END
        FROM (
            SELECT id FROM public.export_items
            WHERE error_message IS NOT NULL
              AND to_tsvector('simple'::regconfig, error_message) @@ to_tsquery('simple'::regconfig, words)
              AND (only_state IS NULL OR state = only_state)
              AND (tenant_id = (SELECT NULLIF(current_setting('app.tenant_id', true), '')::uuid)
                   OR (SELECT current_setting('app.cross_tenant', true) = 'on'))
            LIMIT max_rows + 1
        ) found
    $$"""


def _policy(tenant: str, cross: str) -> None:
    op.execute("DROP POLICY tenant_isolation ON export_items")
    op.execute(
        f"CREATE POLICY tenant_isolation ON export_items "
        f"USING (tenant_id = {tenant} OR {cross}) WITH CHECK (tenant_id = {tenant} OR {cross})"
    )


def _function(signature: str, body: str) -> None:
    op.execute(f"CREATE FUNCTION {signature} {body}")
    op.execute(f"REVOKE ALL ON FUNCTION {signature} FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION {signature} TO {APP_ROLE}")


def upgrade() -> None:
    op.execute("DROP FUNCTION ledgerline_export_items_with_words(text, text, integer)")
    _function(WORD_SEARCH, WORD_SEARCH_BODY)
    _policy(CURRENT_TENANT_ONCE, CROSS_TENANT_ONCE)
    # The failures list filtered by error class (and provider), walked in its own order (newest change first).
    op.create_index(
        "ix_export_items_state_class_provider_updated",
        "export_items",
        ["state", "error_class", "destination_provider", "updated_at", "id"],
        postgresql_include=["tenant_id"],
    )
    op.add_column("export_items", sa.Column("replayed_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column("export_items", "replayed_at")
    op.drop_index("ix_export_items_state_class_provider_updated", table_name="export_items")
    _policy(CURRENT_TENANT, CROSS_TENANT)
    op.execute("DROP FUNCTION ledgerline_export_item_ids_with_words(text, text, integer)")
    _function(OLD_WORD_SEARCH, OLD_WORD_SEARCH_BODY)
