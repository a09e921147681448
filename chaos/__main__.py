"""`python -m chaos`: play every scenario (or those `--only` names), print the table, write the JSON, and exit 1
unless every scenario recovered with no duplicate, no missing expense and no lost webhook."""

import argparse
import asyncio
import shutil
import sys
import tempfile
import time
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import make_url

from bench.destinations import DESTINATIONS
from bench.e2e_setup import REDIS_URL, SERVER_URL
from chaos.constants import (
    BOOKS_RATE_LIMIT_SECONDS,
    BOOKS_SINCE,
    MIN_RETRY_SECONDS,
    REFUSALS_SHOWN,
    UNSAID_RETRY_SECONDS,
)
from chaos.counting import tally_sandbox
from chaos.report import Row, passed, print_table, write_json
from chaos.scenario import Options, Scenario
from chaos.scenarios import SCENARIOS
from chaos.world import World, built, configure_destination
from core.errors import RateLimited
from ledgerline.embedded import postgres_answers, redis_answers
from sync.books_check import BooksReport, check_connection_books

RESULTS = Path(__file__).parent / "results.json"


async def play(scenario: Scenario, options: Options, logs: Path) -> Row:
    """One scenario in a world of its own; an exception is a failed row, not the end of the run."""
    row = Row(scenario=scenario.name, fault=scenario.fault)
    started = time.monotonic()
    try:
        async with built(
            scenario.name.replace(" ", "-").replace(":", ""),
            expenses=scenario.expenses,
            per_report=scenario.per_report,
            logs=logs,
            env=scenario.env,
            destination=DESTINATIONS[scenario.destination],
        ) as world:
            await configure_destination(world, **scenario.connection_settings)
            injected = await scenario.act(world, options)
            codes = world.stop_workers()
            tally = await tally_sandbox(world.sandbox_url, world.destination, wanted_if=scenario.exportable)
            row.problems = injected.problems + [
                f"worker {index} exited with {code}" for index, code in enumerate(codes) if code != 0
            ]
            if injected.recovery.done_seconds is None:
                row.problems.append(f"not done in time: items {injected.recovery.progress.items}")
                print(world.log_tail(), file=sys.stderr)
            row.expenses, row.documents = tally.expenses, tally.documents
            row.duplicates, row.missing, row.lost_webhooks = tally.duplicates, tally.missing, injected.lost_webhooks
            books = await books_after(world)
            row.books_differences = books.difference_count
            if not books.clean:
                row.problems.append(f"the books check found {books.difference_count} differences")
            row.resumed_seconds = _rounded(injected.recovery.resumed_seconds)
            row.recovery_seconds = _rounded(injected.recovery.done_seconds)
            row.notes = injected.notes
            row.details = injected.details | {"items": injected.recovery.progress.items}
    except Exception as exc:  # the run goes on; the row says what broke
        row.problems.append(f"{type(exc).__name__}: {exc}")
    row.seconds = round(time.monotonic() - started, 1)
    print(f"{scenario.name}: {'ok' if row.ok else 'FAIL'} in {row.seconds:.0f} s", file=sys.stderr, flush=True)
    return row


async def books_after(world: World) -> BooksReport:
    """The product's own books check of the scenario's destination, over every day anything was spent; a rate limit
    (Xero's minute, still full of the workers' last calls) is waited out, as the product's scheduler would, for
    `BOOKS_RATE_LIMIT_SECONDS` at most."""
    deadline = time.monotonic() + BOOKS_RATE_LIMIT_SECONDS
    said: Counter[str] = Counter()
    while True:
        try:
            return await check_connection_books(
                database=world.database,
                settings=world.settings,
                tenant_id=world.tenant.tenant_id,
                connection_id=world.tenant.destination_id,
                since=BOOKS_SINCE,
                until=datetime.now(UTC).date(),
            )
        except RateLimited as exc:
            said[f"{exc.code or exc.provider_code}: {exc.message}"] += 1
            wait = (exc.retry_at - datetime.now(UTC)).total_seconds() if exc.retry_at else UNSAID_RETRY_SECONDS
            if time.monotonic() + wait > deadline:
                waited = f"{BOOKS_RATE_LIMIT_SECONDS:.0f} s"
                raise RuntimeError(
                    f"the books check was rate limited for {waited}: {dict(said)}; {await _refusals(world)}"
                ) from exc
            await asyncio.sleep(max(MIN_RETRY_SECONDS, wait))


async def _refusals(world: World) -> str:
    """Who refused the last calls, as the simulator logged them: the destination itself or an injected fault."""
    async with world.control() as control:
        logged = await control.get("/requests", params={"system": world.destination.system, "limit": REFUSALS_SHOWN})
    rows = logged.json().get("data", []) if logged.status_code == 200 else []
    seen = Counter(f"{row.get('operation')} {row.get('status')} fault={row.get('fault')}" for row in rows)
    return f"the simulator's last {len(rows)} calls: {dict(seen)}"


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def require_local_cluster() -> None:
    """Chaos restarts PostgreSQL with `pg_ctlcluster` and flushes Redis: the embedded services cannot stand in."""
    postgres = make_url(SERVER_URL).render_as_string(hide_password=True)
    missing = [
        what
        for what, present in (
            ("pg_ctlcluster", shutil.which("pg_ctlcluster") is not None),
            (f"PostgreSQL at {postgres}", postgres_answers(SERVER_URL)),
            (f"Redis at {REDIS_URL}", redis_answers(REDIS_URL)),
        )
        if not present
    ]
    if missing:
        sys.exit(f"make chaos needs the real local cluster (it restarts and flushes it); missing: {', '.join(missing)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", nargs="+", help="play only scenarios whose name contains one of these")
    parser.add_argument("--expenses", type=int, help="expenses generated per scenario instead of each one's own")
    parser.add_argument(
        "--redis-flush", choices=["all", "db"], default="all", help="FLUSHALL, or FLUSHDB of the product's database"
    )
    parser.add_argument(
        "--flood-rate",
        type=float,
        default=Options.flood_rate,
        help=f"deliveries/s the webhook flood aims at (default {Options.flood_rate:.0f}: 10x the normal rate)",
    )
    parser.add_argument(
        "--flood-senders", type=int, default=Options.flood_senders, help="load processes sharing the flood"
    )
    parser.add_argument(
        "--flood-servers", type=int, default=Options.flood_servers, help="server processes the flood is sent to"
    )
    parser.add_argument(
        "--ingress-limit",
        type=int,
        help="deliveries/s per connection the ingress admits during the flood (default: the product's own limit)",
    )
    parser.add_argument("--json", type=Path, default=RESULTS, help=f"where to write the results ({RESULTS.name})")
    args = parser.parse_args()

    chosen = [
        scenario
        for scenario in SCENARIOS
        if not args.only or any(part.lower() in scenario.name.lower() for part in args.only)
    ]
    if args.expenses:
        chosen = [replace(scenario, expenses=args.expenses) for scenario in chosen]
    options = Options(
        redis_flush=args.redis_flush,
        flood_rate=args.flood_rate,
        flood_senders=args.flood_senders,
        flood_servers=args.flood_servers,
        ingress_limit=args.ingress_limit,
    )
    require_local_cluster()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="ledgerline-chaos-") as logs:
        rows = [asyncio.run(play(scenario, options, Path(logs))) for scenario in chosen]
    seconds = time.monotonic() - started
    print_table(rows)
    print(f"\n{len(rows)} scenarios in {seconds:.0f} s; results in {args.json}")
    write_json(rows, args.json, seconds)
    sys.exit(0 if passed(rows) else 1)


if __name__ == "__main__":
    main()
