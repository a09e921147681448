"""dashboard sessions kept server-side, and API keys that expire

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-08 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

APP_ROLE = "ledgerline_app"
CURRENT_TENANT = "NULLIF(current_setting('app.tenant_id', true), '')::uuid"
CROSS_TENANT = "current_setting('app.cross_tenant', true) = 'on'"

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FIND_KEY = "ledgerline_find_api_key(key_prefix text)"
FIND_KEY_BEFORE = """
    RETURNS TABLE (id uuid, tenant_id uuid, role text, key_hash text, revoked boolean)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
        SELECT id, tenant_id, role, key_hash, revoked_at IS NOT NULL FROM public.api_keys WHERE prefix = key_prefix
    $$"""
# `expired` beside `revoked`: a caller told only "unusable" could not say why a key was refused.
FIND_KEY_AFTER = """
    RETURNS TABLE (id uuid, tenant_id uuid, role text, key_hash text, revoked boolean, expired boolean)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
        SELECT id, tenant_id, role, key_hash, revoked_at IS NOT NULL, coalesce(expires_at <= now(), false)
        FROM public.api_keys WHERE prefix = key_prefix
    $$"""

# A session is found before its tenant is known, and a support session belongs to no tenant, so the service role
# reaches the table only through these three owner-run functions, each keyed by the SHA-256 of an unguessable token.
# The tenant of a session is copied from its key by the database, never taken from the caller; finding a session
# re-reads role and tenant from the key row, so a revoked or expired key ends its sessions at once.
OPEN_SESSION = "ledgerline_open_dashboard_session(session_hash text, for_key uuid, csrf text, lifetime interval)"
OPEN_SESSION_BODY = """
    RETURNS boolean LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    BEGIN
        DELETE FROM public.dashboard_sessions WHERE expires_at <= now();
        INSERT INTO public.dashboard_sessions (token_hash, api_key_id, tenant_id, csrf_token, expires_at)
        SELECT session_hash, k.id, k.tenant_id, csrf, now() + lifetime FROM public.api_keys AS k
        WHERE k.id = for_key AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > now());
        RETURN FOUND;
    END
    $$"""
FIND_SESSION = "ledgerline_find_dashboard_session(session_hash text)"
FIND_SESSION_BODY = """
    RETURNS TABLE (api_key_id uuid, prefix text, role text, tenant_id uuid, csrf_token text)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
        SELECT k.id, k.prefix, k.role, k.tenant_id, s.csrf_token
        FROM public.dashboard_sessions AS s JOIN public.api_keys AS k ON k.id = s.api_key_id
        WHERE s.token_hash = session_hash AND s.expires_at > now()
          AND s.tenant_id IS NOT DISTINCT FROM k.tenant_id
          AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > now())
    $$"""
CLOSE_SESSION = "ledgerline_close_dashboard_session(session_hash text)"
CLOSE_SESSION_BODY = """
    RETURNS void LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
        DELETE FROM public.dashboard_sessions WHERE token_hash = session_hash
    $$"""
SESSION_FUNCTIONS = (
    (OPEN_SESSION, OPEN_SESSION_BODY),
    (FIND_SESSION, FIND_SESSION_BODY),
    (CLOSE_SESSION, CLOSE_SESSION_BODY),
)


def _signature(function: str) -> str:
    """`name(arg type, …)` as DROP and GRANT want it: the types without the argument names."""
    name, _, arguments = function.partition("(")
    return f"{name}({', '.join(argument.split()[-1] for argument in arguments.rstrip(')').split(', '))})"


def upgrade() -> None:
    op.add_column("api_keys", sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(f"DROP FUNCTION {_signature(FIND_KEY)}")
    op.execute(f"CREATE FUNCTION {FIND_KEY} {FIND_KEY_AFTER}")
    op.execute(f"REVOKE ALL ON FUNCTION {_signature(FIND_KEY)} FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION {_signature(FIND_KEY)} TO {APP_ROLE}")
    op.create_table(
        "dashboard_sessions",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("api_key_id", sa.UUID(), nullable=False),
        sa.Column("tenant_id", sa.UUID(), nullable=True),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["api_key_id"],
            ["api_keys.id"],
            name=op.f("fk_dashboard_sessions_api_key_id_api_keys"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_dashboard_sessions_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_dashboard_sessions")),
    )
    op.create_index(op.f("ix_dashboard_sessions_api_key_id"), "dashboard_sessions", ["api_key_id"], unique=False)
    op.create_index(op.f("ix_dashboard_sessions_expires_at"), "dashboard_sessions", ["expires_at"], unique=False)
    # Row-level security as on every tenant table, and no grant: the functions above are the only way in.
    op.execute("ALTER TABLE dashboard_sessions ENABLE ROW LEVEL SECURITY")
    op.execute(
        f"CREATE POLICY tenant_isolation ON dashboard_sessions "
        f"USING (tenant_id = {CURRENT_TENANT} OR {CROSS_TENANT}) "
        f"WITH CHECK (tenant_id = {CURRENT_TENANT} OR {CROSS_TENANT})"
    )
    for function, body in SESSION_FUNCTIONS:
        op.execute(f"CREATE FUNCTION {function} {body}")
        op.execute(f"REVOKE ALL ON FUNCTION {_signature(function)} FROM PUBLIC")
        op.execute(f"GRANT EXECUTE ON FUNCTION {_signature(function)} TO {APP_ROLE}")


def downgrade() -> None:
    for function, _body in SESSION_FUNCTIONS:
        op.execute(f"DROP FUNCTION IF EXISTS {_signature(function)}")
    op.drop_table("dashboard_sessions")
    op.execute(f"DROP FUNCTION {_signature(FIND_KEY)}")
    op.execute(f"CREATE FUNCTION {FIND_KEY} {FIND_KEY_BEFORE}")
    op.execute(f"REVOKE ALL ON FUNCTION {_signature(FIND_KEY)} FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION {_signature(FIND_KEY)} TO {APP_ROLE}")
    op.drop_column("api_keys", "expires_at")
