"""webhook ingress: find the connections of an app-level delivery's accounts (QuickBooks realms) across tenants

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 12:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

APP_ROLE = "ledgerline_app"

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Same rule as 0005's key lookup: an owner-run function returns only what the ingress needs to scope the rest of
# its transaction to each connection's tenant, where row-level security applies to the insert as to any tenant
# write. A system that posts to one address per app names an account (a realm) in each delivery; the spec names
# the system-written connection setting that holds it. Connections are few per provider (the provider index), so
# no index on the setting is needed.
LOOKUP = "ledgerline_webhook_account_connections(lookup_provider text, account_setting text, account_ids text[])"
LOOKUP_BODY = """
    RETURNS TABLE (account_id text, tenant_id uuid, connection_id uuid)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
        SELECT settings ->> account_setting, tenant_id, id FROM public.connections
        WHERE provider = lookup_provider AND settings ->> account_setting = ANY (account_ids)
        ORDER BY tenant_id, id
    $$"""


def upgrade() -> None:
    op.execute(f"CREATE FUNCTION {LOOKUP} {LOOKUP_BODY}")
    op.execute(f"REVOKE ALL ON FUNCTION {LOOKUP} FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION {LOOKUP} TO {APP_ROLE}")


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS ledgerline_webhook_account_connections(text, text, text[])")
