"""word search walks only the searching tenant's words

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05 13:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# 0007's search read the one words' index every tenant shares, then dropped other tenants' rows: a tenant admin's broad
# prefix ("a:*") walked, fetched and rechecked every tenant's matching messages. Here each message's words are also
# indexed with its tenant's id written in front of them, so a tenant's prefix term is a range of the index that holds
# only that tenant's words: the tenant filter is applied by the index itself, before any row is read. Support (across
# tenants) keeps the shared index. Words are cut to 200 characters on both sides so no lexeme can outgrow a tsvector's
# limit; a prefix of a long word still finds it.
TENANT_WORDS = """
    CREATE FUNCTION ledgerline_tenant_words(tenant uuid, message text) RETURNS tsvector
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE SET search_path = pg_catalog AS $$
        SELECT array_to_tsvector(ARRAY(
            SELECT replace(tenant::text, '-', '') || left(word.lexeme, 200)
            FROM unnest(to_tsvector('simple'::regconfig, message)) AS word
        ))
    $$"""
# The same words a `to_tsquery('simple', words)` prefix search holds (every one must start a word), keyed the same way.
TENANT_WORDS_QUERY = """
    CREATE FUNCTION ledgerline_tenant_words_query(tenant uuid, words text) RETURNS tsquery
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE SET search_path = pg_catalog AS $$
        SELECT coalesce(
            string_agg(quote_literal(replace(tenant::text, '-', '') || left(word.lexeme, 200)) || ':*', ' & '), ''
        )::tsquery
        FROM unnest(to_tsvector('simple'::regconfig, words)) AS word
    $$"""

WORD_SEARCH = "ledgerline_export_item_ids_with_words(words text, only_state text, max_rows integer)"
WORD_SEARCH_SHARED = """
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
# Same answer as before (the ids when at most `max_rows`, NULL when more, row-level security applied here); a tenant's
# search now goes through its own words.
WORD_SEARCH_TENANT_FIRST = """
    RETURNS uuid[]
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    DECLARE
        searcher uuid := NULLIF(current_setting('app.tenant_id', true), '')::uuid;
        found uuid[];
    BEGIN
        IF current_setting('app.cross_tenant', true) = 'on' THEN
            SELECT array_agg(id) INTO found FROM (
                SELECT id FROM public.export_items
                WHERE error_message IS NOT NULL
                  AND to_tsvector('simple'::regconfig, error_message) @@ to_tsquery('simple'::regconfig, words)
                  AND (only_state IS NULL OR state = only_state)
                LIMIT max_rows + 1
            ) matches;
        ELSIF searcher IS NOT NULL THEN
            SELECT array_agg(id) INTO found FROM (
                SELECT id FROM public.export_items
                WHERE error_message IS NOT NULL
                  AND ledgerline_tenant_words(tenant_id, error_message)
                      @@ ledgerline_tenant_words_query(searcher, words)
                  AND tenant_id = searcher
                  AND (only_state IS NULL OR state = only_state)
                LIMIT max_rows + 1
            ) matches;
        END IF;
        IF coalesce(cardinality(found), 0) > max_rows THEN
            RETURN NULL;
        END IF;
        RETURN coalesce(found, '{}');
    END
    $$"""

APP_ROLE = "ledgerline_app"


def _word_search(body: str) -> None:
    op.execute(f"CREATE OR REPLACE FUNCTION {WORD_SEARCH} {body}")
    op.execute(f"REVOKE ALL ON FUNCTION {WORD_SEARCH} FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION {WORD_SEARCH} TO {APP_ROLE}")


def upgrade() -> None:
    op.execute(TENANT_WORDS)
    op.execute(TENANT_WORDS_QUERY)
    op.execute(
        "CREATE INDEX ix_export_items_tenant_error_words ON export_items "
        "USING gin (ledgerline_tenant_words(tenant_id, error_message)) WHERE error_message IS NOT NULL"
    )
    op.execute("DROP FUNCTION ledgerline_export_item_ids_with_words(text, text, integer)")
    _word_search(WORD_SEARCH_TENANT_FIRST)


def downgrade() -> None:
    op.execute("DROP FUNCTION ledgerline_export_item_ids_with_words(text, text, integer)")
    _word_search(WORD_SEARCH_SHARED)
    op.execute("DROP INDEX ix_export_items_tenant_error_words")
    op.execute("DROP FUNCTION ledgerline_tenant_words_query(uuid, text)")
    op.execute("DROP FUNCTION ledgerline_tenant_words(uuid, text)")
