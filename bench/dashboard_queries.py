"""The retry dashboard's failures page at scale: p50/p95 of its queries over 1,000,000 export items, with plans.

A throw-away migrated database is bulk-loaded as the owner (INSERT … SELECT generate_series, the non-constraint
indexes dropped for the load and re-created from their own definitions, then ANALYZE): 50 tenants, each with a Fyle
source and three destinations across four systems, tenants skewed (the largest holds ~13% of the items), 1,000,000
export items of which 200,000 are `needs_action` (seven error classes, templated messages with varied words, updated
over the last 30 days), 1–4 failed attempts per failed item, and two source expenses (with their report id) for
every failed item and one for every tenth other item.

Timed, `--runs` times each, a fresh session per run exactly as the dashboard opens it (`cross_tenant_session` for
support, `tenant_session` for a tenant admin of the largest tenant), only the service call inside it:

- the failures page's list (`list_items`): default, by tenant, provider + error class, date range, words, expense
  id, the next page by cursor; its total (`total_items`, and `count_items` by state) and counts by provider and error
  class over every state;
- the overview's counts (by state, tenant, provider, error class) and `failures_by_hour`;
- whole pages over HTTP (`/dashboard/items…`, `/dashboard`) through the real app, signed in through the form;
- a baseline from the same run: the bare `SELECT … WHERE state = 'needs_action' ORDER BY updated_at DESC LIMIT 50`
  through psycopg as the owner (no ORM, no row-level security).

Then EXPLAIN (ANALYZE, BUFFERS) of each statement the service functions sent, run in the same kind of session (so
row-level security shapes the plan as in production), summarised to its scan nodes.

    .venv/bin/python -m bench.dashboard_queries [--items 1000000] [--failed 200000] [--runs 50] [--keep]
    .venv/bin/python -m bench.dashboard_queries --url postgresql://postgres@127.0.0.1:5432/ledgerline_bench_…  # reuse
"""

import argparse
import asyncio
import contextlib
import json
import re
import secrets
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import psycopg
from sqlalchemy import event, make_url
from sqlalchemy.ext.asyncio import AsyncSession

from bench.e2e_setup import REDIS_URL, create_database, drop_database
from core import migrate
from core.api_keys import issue_key
from core.crypto import CredentialVault
from core.db import Database
from core.models import ApiKeyRole
from core.settings import Settings
from dashboard.constants import FAILURE_WINDOW_HOURS, PAGE_SIZE
from ledgerline.app import create_app
from sync.item_queries import ItemFacet, ItemFilter, count_items, failures_by_hour, list_items, total_items

TENANTS = 50
DESTINATIONS_PER_TENANT = 3
PROVIDERS = ("intacct", "netsuite", "quickbooks", "xero")
TARGET_P95_MS = 200.0
ACTOR = "bench"
LOADED_TABLES = ("export_items", "attempts", "source_records", "export_item_records")
PLAN_NODES = re.compile(r"Scan|Join|Nested Loop|Sort|Limit|Aggregate|Append|Gather|Execution Time|Planning Time")
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')

# Failed items: (error class, error code, message template) by weight; {n} and {period} vary the words.
FAILURE_KINDS = (
    (6, "destination_rejected", "BL01001973", "The period {period} is closed. Post to an open period."),
    (2, "destination_rejected", "BL34000061", "Vendor V{n} is inactive in the destination."),
    (4, "mapping", "MAPPING_MISSING", 'No account is mapped for category "Travel {n}".'),
    (3, "validation", "REQUIRED", "Field LOCATIONID is required for entity E{n}."),
    (2, "auth", "invalid_grant", "The refresh token was revoked (invalid_grant); reconnect the destination."),
    (1, "rate_limited", "429", "Rate limit exceeded: {n} requests per minute allowed."),
    (1, "transient", "503", "Service unavailable (503) after {n} retries."),
    (1, "outcome_unknown", "timeout", "The connection timed out after the request was sent; document {n} may exist."),
)


# ---------------------------------------------------------------------------------------------------------- load


def _failure_cases(weight_column: str, part: int) -> str:
    """A CASE over the weighted kinds: `part` 0 class, 1 code, 2 message template."""
    total = sum(kind[0] for kind in FAILURE_KINDS)
    arms, upto = [], 0
    for kind in FAILURE_KINDS:
        upto += kind[0]
        value = str(kind[part + 1]).replace("'", "''")
        arms.append(f"WHEN {weight_column} % {total} < {upto} THEN '{value}'")
    return "CASE " + " ".join(arms) + " END"


def load(url: str, *, items: int, failed: int) -> dict[str, float]:
    """Fill the database as its owner; returns seconds per step."""
    every = max(items // failed, 1)
    steps: dict[str, float] = {}
    with psycopg.connect(make_url(url).set(drivername="postgresql").render_as_string(False), autocommit=True) as db:

        def step(name: str, sql: str) -> None:
            started = time.perf_counter()
            db.execute(sql)
            steps[name] = steps.get(name, 0.0) + time.perf_counter() - started

        indexes = db.execute(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = 'public' "
            "AND i.tablename = ANY(%s) AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)",
            [list(LOADED_TABLES)],
        ).fetchall()
        for name, _ in indexes:
            step("drop indexes", f'DROP INDEX "{name}"')
        db.execute("SET session_replication_role = replica")  # no FK triggers: the generator keeps them true
        db.execute("SET maintenance_work_mem = '512MB'")
        step(
            "tenants, connections",
            f"""
            INSERT INTO tenants (id, name, slug)
            SELECT gen_random_uuid(), 'Tenant ' || lpad(t::text, 2, '0'), 'tenant-' || lpad(t::text, 2, '0')
            FROM generate_series(0, {TENANTS - 1}) t;
            INSERT INTO connections (id, tenant_id, name, provider, role, webhook_key)
            SELECT gen_random_uuid(), id, 'fyle', 'fyle', 'source', md5(random()::text) FROM tenants;
            INSERT INTO connections (id, tenant_id, name, provider, role, webhook_key)
            SELECT gen_random_uuid(), t.id, p.provider || ' ' || k, p.provider, 'destination', md5(random()::text)
            FROM tenants t CROSS JOIN generate_series(0, {DESTINATIONS_PER_TENANT - 1}) k
            JOIN LATERAL (SELECT (ARRAY{list(PROVIDERS)})[1 + (substr(t.slug, 8)::int + k) % {len(PROVIDERS)}]
                          AS provider) p ON true;
            CREATE TEMP TABLE dest AS
            SELECT (row_number() OVER (ORDER BY t.slug, c.name) - 1)::int AS n, c.id, c.tenant_id, c.provider
            FROM connections c JOIN tenants t ON t.id = c.tenant_id WHERE c.role = 'destination';
            CREATE TEMP TABLE src AS SELECT tenant_id, id FROM connections WHERE role = 'source';
            """,  # noqa: S608 (this module's constants, no input)
        )
        destinations = TENANTS * DESTINATIONS_PER_TENANT
        step(
            "export_items",
            f"""
            CREATE TEMP TABLE gen AS
            SELECT g, gen_random_uuid() AS id,
                   least({destinations - 1}, floor({destinations} * power(random(), 1.6)))::int AS n,
                   CASE WHEN g % {every} = 0 THEN 'needs_action' WHEN g % 50 = 1 THEN 'pending'
                        WHEN g % 50 = 3 THEN 'skipped' ELSE 'succeeded' END AS state,
                   now() - random() * interval '30 days' AS updated_at,
                   (g / {every}) * 7919 AS w
            FROM generate_series(1, {items}) g;
            INSERT INTO export_items (id, tenant_id, destination_connection_id, destination_provider, document_type,
                group_key, idempotency_key, state, attempt_count, next_attempt_at, outcome_unknown, error_class,
                error_code, error_message, remote_id, created_at, updated_at)
            SELECT s.id, d.tenant_id, d.id, d.provider,
                   (ARRAY['bill', 'expense_report', 'journal_entry', 'charge_card_transaction'])[1 + s.g % 4],
                   'report:rp' || s.g, md5('item' || s.g), s.state,
                   CASE WHEN s.state = 'needs_action' THEN 1 + s.g % 4 WHEN s.state = 'succeeded' THEN 1 ELSE 0 END,
                   s.updated_at,
                   s.state = 'needs_action' AND {_failure_cases("s.w", 0)} = 'outcome_unknown',
                   CASE WHEN s.state = 'needs_action' THEN {_failure_cases("s.w", 0)} END,
                   CASE WHEN s.state = 'needs_action' THEN {_failure_cases("s.w", 1)} END,
                   CASE WHEN s.state = 'needs_action' THEN
                       replace(replace({_failure_cases("s.w", 2)}, '{{n}}', (s.g % 977)::text),
                               '{{period}}', to_char(s.updated_at - interval '35 days', 'YYYY-MM')) END,
                   CASE WHEN s.state = 'succeeded' THEN 'DOC-' || s.g END,
                   s.updated_at - random() * interval '2 days', s.updated_at
            FROM gen s JOIN dest d USING (n);
            """,  # noqa: S608 (this module's constants, no input)
        )
        step(
            "attempts",
            """
            INSERT INTO attempts (id, tenant_id, export_item_id, number, worker, outcome, error_class, error_code,
                                  error_message, started_at, finished_at)
            SELECT gen_random_uuid(), e.tenant_id, e.id, k,  'bench',
                   CASE WHEN e.outcome_unknown AND k = e.attempt_count THEN 'outcome_unknown' ELSE 'failed' END,
                   e.error_class, e.error_code, e.error_message,
                   e.updated_at - (e.attempt_count - k) * interval '3 hours' - interval '2 seconds',
                   e.updated_at - (e.attempt_count - k) * interval '3 hours'
            FROM export_items e CROSS JOIN LATERAL generate_series(1, e.attempt_count) k
            WHERE e.state = 'needs_action';
            """,
        )
        step(
            "source_records, links",
            """
            CREATE TEMP TABLE expenses AS
            SELECT gen_random_uuid() AS id, s.id AS item_id, d.tenant_id, 'ex' || s.g || '-' || j AS remote_id,
                   'rp' || s.g AS report_id
            FROM gen s JOIN dest d USING (n)
            CROSS JOIN LATERAL generate_series(1, CASE WHEN s.state = 'needs_action' THEN 2 ELSE 1 END) j
            WHERE s.state = 'needs_action' OR s.g % 10 = 0;
            INSERT INTO source_records (id, tenant_id, connection_id, kind, remote_id, parent_remote_id, remote_state,
                                        data, fingerprint)
            SELECT x.id, x.tenant_id, src.id, 'expense', x.remote_id, x.report_id, 'APPROVED',
                   jsonb_build_object('id', x.remote_id, 'report_id', x.report_id, 'amount', 42.5), md5(x.remote_id)
            FROM expenses x JOIN src USING (tenant_id);
            INSERT INTO export_item_records (tenant_id, export_item_id, source_record_id)
            SELECT tenant_id, item_id, id FROM expenses;
            """,
        )
        db.execute("SET session_replication_role = origin")
        for _, definition in indexes:
            step("re-create indexes", definition)
        # The load bypassed the triggers that keep the dashboard's counts (migration 0016): count once, as they would.
        step("export_item_counts", "SELECT ledgerline_rebuild_export_item_counts()")
        step("analyze", "VACUUM (ANALYZE) " + ", ".join(LOADED_TABLES) + ", tenants, connections")
    return steps


# -------------------------------------------------------------------------------------------------------- timing


@dataclass
class Figures:
    name: str
    who: str
    samples: list[float] = field(default_factory=list)
    rows: int = 0

    def quantile(self, q: float) -> float:
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] * 1000

    @property
    def p50(self) -> float:
        return statistics.median(self.samples) * 1000

    @property
    def p95(self) -> float:
        return self.quantile(0.95)


@dataclass(frozen=True)
class World:
    support_tenant: uuid.UUID
    """A mid-sized tenant, for support's tenant filter."""
    admin_tenant: uuid.UUID
    """The largest tenant, whose admin is timed."""
    provider: str
    error_class: str
    expense_id: str
    report_id: str


class StatementLog:
    """The statements the service functions send, caught at the driver, to be explained afterwards."""

    def __init__(self, database: Database) -> None:
        self.on = False
        self.statements: list[tuple[str, Any]] = []
        event.listen(database.app_engine.sync_engine, "before_cursor_execute", self._caught)

    def _caught(self, conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        if self.on and not statement.lstrip().upper().startswith(("SELECT SET_CONFIG", "EXPLAIN")):
            self.statements.append((statement, parameters))

    @contextlib.contextmanager
    def catching(self) -> Any:
        self.statements = []
        self.on = True
        try:
            yield self
        finally:
            self.on = False


Call = Callable[[AsyncSession], Awaitable[int]]
Opener = Callable[[], contextlib.AbstractAsyncContextManager[AsyncSession]]


async def time_call(name: str, who: str, opener: Opener, call: Call, runs: int) -> Figures:
    figures = Figures(name, who)
    for _ in range(runs):
        async with opener() as session:
            started = time.perf_counter()
            figures.rows = await call(session)
            figures.samples.append(time.perf_counter() - started)
    return figures


async def explain(opener: Opener, log: StatementLog, call: Call) -> list[list[str]]:
    async with opener() as session:  # opened first: a cross-tenant session's own audit append is not the page's
        with log.catching():
            await call(session)
    statements = [(sql, params) for sql, params in log.statements if sql.lstrip().upper().startswith("SELECT")]
    plans = []
    for statement, parameters in statements:
        async with opener() as session:
            connection = await session.connection()
            result = await connection.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
            plans.append([row[0] for row in result.all()])
    return plans


def plan_summary(lines: list[str]) -> tuple[list[str], str]:
    kept, buffers = [], None
    for line in lines:
        if PLAN_NODES.search(line):
            kept.append(line.rstrip()[:150])
        elif buffers is None and "Buffers:" in line:
            buffers = line.strip()
    seq = [line for line in lines if "Seq Scan on export_items" in line or "Seq Scan on attempts" in line]
    indexed = [line for line in lines if "Index" in line and "Scan" in line]
    verdict = "SEQ SCAN of a big table" if seq else ("index" if indexed else "no index (small tables only)")
    if buffers:
        kept.insert(0, "  top " + buffers)
    return kept, verdict


def world_of(url: str) -> World:
    with psycopg.connect(make_url(url).set(drivername="postgresql").render_as_string(False)) as db:
        by_size = db.execute(
            "SELECT tenant_id FROM export_items WHERE state = 'needs_action' GROUP BY tenant_id ORDER BY count(*) DESC"
        ).fetchall()
        provider, error_class = db.execute(
            "SELECT destination_provider, error_class FROM export_items WHERE state = 'needs_action' "
            "GROUP BY 1, 2 ORDER BY count(*) DESC OFFSET 5 LIMIT 1"
        ).fetchone() or ("", "")
        expense, report = db.execute(
            "SELECT r.remote_id, r.parent_remote_id FROM source_records r "
            "JOIN export_item_records l ON l.source_record_id = r.id "
            "JOIN export_items e ON e.id = l.export_item_id WHERE e.state = 'needs_action' "
            "ORDER BY r.remote_id DESC LIMIT 1"
        ).fetchone() or ("", "")
    return World(by_size[len(by_size) // 2][0], by_size[0][0], provider, error_class, expense, report)


def baseline(url: str, runs: int) -> Figures:
    figures = Figures("baseline: bare SELECT … needs_action ORDER BY updated_at DESC LIMIT 50", "owner")
    sql = (
        "SELECT id, tenant_id, destination_connection_id, destination_provider, document_type, state, error_class, "
        "error_code, left(error_message, 240), attempt_count, outcome_unknown, group_key, created_at, updated_at "
        "FROM export_items WHERE state = 'needs_action' ORDER BY updated_at DESC LIMIT 50"
    )
    with psycopg.connect(make_url(url).set(drivername="postgresql").render_as_string(False)) as db:
        for _ in range(runs):
            started = time.perf_counter()
            figures.rows = len(db.execute(sql).fetchall())
            figures.samples.append(time.perf_counter() - started)
            db.rollback()
    return figures


def service_cases(world: World) -> list[tuple[str, str, Call]]:
    """(name, who, call): who is "support" (cross-tenant session) or "admin" (the largest tenant's session)."""
    now = datetime.now(UTC)

    def page(item_filter: ItemFilter, *, pages: int = 1) -> Call:
        async def call(session: AsyncSession) -> int:
            cursor = None
            for _ in range(pages):
                rows, cursor = await list_items(session, item_filter, cursor=cursor, limit=PAGE_SIZE)
            return len(rows)

        return call

    def counts(item_filter: ItemFilter, facet: ItemFacet) -> Call:
        async def call(session: AsyncSession) -> int:
            return len(await count_items(session, item_filter, group_by=facet))

        return call

    def total(item_filter: ItemFilter) -> Call:
        async def call(session: AsyncSession) -> int:
            return (await total_items(session, item_filter)).count

        return call

    def hours(tenant_id: uuid.UUID | None) -> Call:
        async def call(session: AsyncSession) -> int:
            since = datetime.now(UTC) - timedelta(hours=FAILURE_WINDOW_HOURS - 1)
            return sum(hour.failures for hour in await failures_by_hour(session, since=since, tenant_id=tenant_id))

        return call

    week_from, week_to = now - timedelta(days=14), now - timedelta(days=7)
    admin = world.admin_tenant
    return [
        ("list: default (needs_action, newest first)", "support", page(ItemFilter())),
        ("list: tenant", "support", page(ItemFilter(tenant_id=world.support_tenant))),
        (
            "list: provider + error class",
            "support",
            page(ItemFilter(provider=world.provider, error_class=world.error_class)),
        ),
        ("list: date range (one week)", "support", page(ItemFilter(updated_from=week_from, updated_to=week_to))),
        ("list: words 'closed period'", "support", page(ItemFilter(search="closed period"))),
        ("list: words 'vendor inactive'", "support", page(ItemFilter(search="vendor inactive"))),
        ("list: expense id", "support", page(ItemFilter(expense_id=world.expense_id))),
        ("list: report id", "support", page(ItemFilter(expense_id=world.report_id))),
        ("list: page 2 (cursor)", "support", page(ItemFilter(), pages=2)),
        ("list: page 5 (cursor)", "support", page(ItemFilter(), pages=5)),
        ("list: default", "admin", page(ItemFilter(tenant_id=admin))),
        (
            "list: error class + range",
            "admin",
            page(ItemFilter(tenant_id=admin, error_class="mapping", updated_from=week_from, updated_to=week_to)),
        ),
        ("list: words 'closed period'", "admin", page(ItemFilter(tenant_id=admin, search="closed period"))),
        ("items total: count by state (filtered)", "support", counts(ItemFilter(), ItemFacet.STATE)),
        (
            "items total: provider + class",
            "support",
            counts(ItemFilter(provider=world.provider, error_class=world.error_class), ItemFacet.STATE),
        ),
        ("items choices: providers, every state", "support", counts(ItemFilter(state=None), ItemFacet.PROVIDER)),
        ("items choices: classes, every state", "support", counts(ItemFilter(state=None), ItemFacet.ERROR_CLASS)),
        ("items total: count by state", "admin", counts(ItemFilter(tenant_id=admin), ItemFacet.STATE)),
        ("items total: total_items (needs_action)", "support", total(ItemFilter())),
        ("items total: total_items words 'closed period'", "support", total(ItemFilter(search="closed period"))),
        ("items total: total_items (needs_action)", "admin", total(ItemFilter(tenant_id=admin))),
        (
            "items total: total_items words 'closed period'",
            "admin",
            total(ItemFilter(tenant_id=admin, search="closed period")),
        ),
        (
            "items choices: providers, every state",
            "admin",
            counts(ItemFilter(tenant_id=admin, state=None), ItemFacet.PROVIDER),
        ),
        (
            "items choices: classes, every state",
            "admin",
            counts(ItemFilter(tenant_id=admin, state=None), ItemFacet.ERROR_CLASS),
        ),
        ("overview: by state (every state)", "support", counts(ItemFilter(state=None), ItemFacet.STATE)),
        ("overview: failing by tenant", "support", counts(ItemFilter(), ItemFacet.TENANT)),
        ("overview: failing by provider", "support", counts(ItemFilter(), ItemFacet.PROVIDER)),
        ("overview: failing by error class", "support", counts(ItemFilter(), ItemFacet.ERROR_CLASS)),
        ("overview: failures_by_hour (24 h)", "support", hours(None)),
        ("overview: by state (every state)", "admin", counts(ItemFilter(tenant_id=admin, state=None), ItemFacet.STATE)),
        ("overview: failing by error class", "admin", counts(ItemFilter(tenant_id=admin), ItemFacet.ERROR_CLASS)),
        ("overview: failures_by_hour (24 h)", "admin", hours(admin)),
    ]


# ------------------------------------------------------------------------------------------------------ HTTP pages


async def signed_in(client: httpx.AsyncClient, key: str) -> None:
    form = await client.get("/dashboard/login")
    token = CSRF_FIELD.search(form.text)
    assert token, "no CSRF field on the login form"
    answer = await client.post(
        "/dashboard/login", data={"api_key": key, "csrf_token": token.group(1), "next": "/dashboard"}
    )
    assert answer.status_code in (302, 303), answer.text[:300]


async def time_pages(settings: Settings, database: Database, world: World, runs: int) -> list[Figures]:
    async with database.owner_session() as session:
        support = issue_key(name=f"bench-support-{secrets.token_hex(3)}", role=ApiKeyRole.SUPPORT, tenant_id=None)
        admin = issue_key(
            name=f"bench-admin-{secrets.token_hex(3)}", role=ApiKeyRole.ADMIN, tenant_id=world.admin_tenant
        )
        session.add_all([support.row, admin.row])
    app = create_app(settings)
    figures: list[Figures] = []
    async with app.router.lifespan_context(app):
        for who, key in (("support", support.plaintext), ("admin", admin.plaintext)):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
                await signed_in(client, key)
                paths = [
                    ("page: /dashboard/items", "/dashboard/items"),
                    (
                        "page: /dashboard/items?provider&error_class",
                        f"/dashboard/items?provider={world.provider}&error_class={world.error_class}",
                    ),
                    ("page: /dashboard/items?q=closed period", "/dashboard/items?q=closed+period"),
                    ("page: /dashboard/items?expense=…", f"/dashboard/items?expense={world.expense_id}"),
                    ("page: /dashboard (overview)", "/dashboard"),
                ]
                for name, path in paths:
                    result = Figures(name, who)
                    for _ in range(runs):
                        started = time.perf_counter()
                        answer = await client.get(path)
                        result.samples.append(time.perf_counter() - started)
                        assert answer.status_code == 200, (path, answer.status_code, answer.text[:300])
                    result.rows = len(answer.content)
                    figures.append(result)
    return figures


# ------------------------------------------------------------------------------------------------------------ main


def print_table(title: str, figures: list[Figures], base: Figures) -> None:
    print(f"\n{title}")
    print(f"{'query':<48} {'who':<8} {'rows':>7} {'p50 ms':>8} {'p95 ms':>8} {'×base p95':>9}  ok")
    for f in figures:
        ok = "yes" if f.p95 <= TARGET_P95_MS else "NO"
        print(f"{f.name:<48} {f.who:<8} {f.rows:>7} {f.p50:>8.1f} {f.p95:>8.1f} {f.p95 / base.p95:>9.1f}  {ok}")


async def measure(url: str, args: argparse.Namespace) -> dict[str, Any]:
    settings = Settings(
        env="test",
        database_url=url,
        redis_url=REDIS_URL,
        queue_name=f"ledgerline:bench:{uuid.uuid4().hex[:8]}",
        vault_keys=CredentialVault.new_key(),
        session_secret=secrets.token_urlsafe(32),
        log_json=True,
        log_level="WARNING",
    )
    database = Database(settings)
    log = StatementLog(database)
    world = world_of(url)

    def opener_of(who: str) -> Opener:
        if who == "support":
            return lambda: database.cross_tenant_session(actor=ACTOR, reason="dashboard: bench")
        return lambda: database.tenant_session(world.admin_tenant)

    try:
        base = baseline(url, args.runs)
        cases = service_cases(world)
        for name, who, call in cases[:2]:  # warm the cache and the pool
            await time_call(name, who, opener_of(who), call, 3)
        timed = []
        for name, who, call in cases:
            timed.append(await time_call(name, who, opener_of(who), call, args.runs))
            print(f"  timed {who}: {name}: p95 {timed[-1].p95:.1f} ms", flush=True)
        pages = [] if args.no_pages else await time_pages(settings, database, world, args.page_runs)
        base = baseline(url, args.runs)  # again, after everything is warm: the figure the ratios use
        print(f"\nworld: {world}")
        print_table(f"service calls, {args.runs} runs each (target p95 ≤ {TARGET_P95_MS:.0f} ms)", [base, *timed], base)
        if pages:
            print_table(f"whole pages over HTTP (ASGI, in-process), {args.page_runs} runs each", pages, base)
        plans: dict[str, Any] = {}
        if not args.no_plans:
            print("\nplans (EXPLAIN ANALYZE, BUFFERS; scan nodes only)")
            for name, who, call in cases:
                explained = await explain(opener_of(who), log, call)
                plans[f"{who}: {name}"] = explained
                for number, lines in enumerate(explained, 1):
                    kept, verdict = plan_summary(lines)
                    print(f"\n## {who}: {name} — statement {number}/{len(explained)}: {verdict}")
                    print("\n".join(kept))
        return {
            "world": {key: str(value) for key, value in world.__dict__.items()},
            "figures": [
                {"name": f.name, "who": f.who, "rows": f.rows, "p50_ms": f.p50, "p95_ms": f.p95}
                for f in [base, *timed, *pages]
            ],
            "plans": plans,
        }
    finally:
        await database.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--failed", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--page-runs", type=int, default=10)
    parser.add_argument("--url", help="reuse this loaded database (migrated to head first) instead of a new one")
    parser.add_argument("--keep", action="store_true", help="keep the new database (its URL is printed)")
    parser.add_argument("--no-pages", action="store_true")
    parser.add_argument("--no-plans", action="store_true")
    parser.add_argument("--json", help="also write the figures and full plans here")
    args = parser.parse_args()

    url = args.url
    if url is None:
        url = create_database()
        print(f"database: {url}")
        started = time.perf_counter()
        steps = load(url, items=args.items, failed=args.failed)
        print(
            f"loaded in {time.perf_counter() - started:.0f} s: " + ", ".join(f"{k} {v:.0f} s" for k, v in steps.items())
        )
    else:
        migrate.upgrade(url)
    try:
        result = asyncio.run(measure(url, args))
        if args.json:
            with open(args.json, "w") as out:
                json.dump(result, out, indent=1)
    finally:
        if args.url is None and not args.keep:
            drop_database(url)


if __name__ == "__main__":
    main()
