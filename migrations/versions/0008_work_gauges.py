"""work gauges: queue depth, oldest due age and connections by health across tenants, as counts only

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24 10:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

APP_ROLE = "ledgerline_app"

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Prometheus needs totals over every tenant, and the service role sees no row without a tenant: these owner-run
# functions return aggregates only (no id, no tenant), like the reconciler's, so `/metrics` needs no audited
# cross-tenant session. Each part reads one of the partial or state indexes the workers and the dashboard use.
FUNCTIONS = {
    "ledgerline_work_queue_gauges()": """
        RETURNS TABLE (queue text, state text, depth bigint, oldest_due_seconds double precision)
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
            -- Items of a paused or unauthorized connection wait for a person, not for a worker: `held`, not due.
            SELECT 'export_items', 'due', count(*),
                   coalesce(extract(epoch FROM now() - min(e.next_attempt_at)), 0)::float8
                FROM public.export_items e JOIN public.connections c ON c.id = e.destination_connection_id
                WHERE e.state = 'pending' AND e.next_attempt_at <= now() AND c.status = 'active' AND NOT c.paused
            UNION ALL SELECT 'export_items', 'waiting', count(*), 0
                FROM public.export_items e JOIN public.connections c ON c.id = e.destination_connection_id
                WHERE e.state = 'pending' AND e.next_attempt_at > now() AND c.status = 'active' AND NOT c.paused
            UNION ALL SELECT 'export_items', 'held', count(*), 0
                FROM public.export_items e JOIN public.connections c ON c.id = e.destination_connection_id
                WHERE e.state = 'pending' AND (c.status <> 'active' OR c.paused)
            UNION ALL SELECT 'export_items', 'running', count(*), 0
                FROM public.export_items WHERE state = 'running'
            UNION ALL SELECT 'export_items', 'needs_action', count(*), 0
                FROM public.export_items WHERE state = 'needs_action'
            UNION ALL SELECT 'sync_runs', 'due', count(*),
                   coalesce(extract(epoch FROM now() - min(next_attempt_at)), 0)::float8
                FROM public.sync_runs WHERE state = 'pending' AND next_attempt_at <= now()
            UNION ALL SELECT 'sync_runs', 'waiting', count(*), 0
                FROM public.sync_runs WHERE state = 'pending' AND next_attempt_at > now()
            UNION ALL SELECT 'sync_runs', 'running', count(*), 0
                FROM public.sync_runs WHERE state = 'running'
            -- An event is claimable (so due) once no live lease holds it, as `webhooks.dispatch` claims them.
            UNION ALL SELECT 'webhook_events', 'due', count(*),
                   coalesce(extract(epoch FROM now() - min(next_attempt_at)), 0)::float8
                FROM public.webhook_events
                WHERE state = 'received' AND next_attempt_at <= now()
                  AND (lease_owner IS NULL OR lease_expires_at < now())
            UNION ALL SELECT 'webhook_events', 'waiting', count(*), 0
                FROM public.webhook_events
                WHERE state = 'received' AND next_attempt_at > now()
                  AND (lease_owner IS NULL OR lease_expires_at < now())
            UNION ALL SELECT 'webhook_events', 'running', count(*), 0
                FROM public.webhook_events
                WHERE state = 'received' AND lease_owner IS NOT NULL AND lease_expires_at >= now()
        $$""",
    "ledgerline_connection_health()": """
        RETURNS TABLE (system text, role text, health text, connections bigint)
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
            SELECT provider, role, CASE WHEN status = 'active' AND paused THEN 'paused' ELSE status END, count(*)
            FROM public.connections
            GROUP BY 1, 2, 3
        $$""",
}


def upgrade() -> None:
    for signature, body in FUNCTIONS.items():
        op.execute(f"CREATE FUNCTION {signature} {body}")
        op.execute(f"REVOKE ALL ON FUNCTION {signature} FROM PUBLIC")
        op.execute(f"GRANT EXECUTE ON FUNCTION {signature} TO {APP_ROLE}")


def downgrade() -> None:
    for signature in FUNCTIONS:
        op.execute(f"DROP FUNCTION IF EXISTS {signature}")
