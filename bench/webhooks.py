"""Webhook ingress: accepted deliveries per second and p50/p99 latency, beside a bare one-INSERT endpoint.

Set-up (not timed): a throw-away migrated database; a tenant with a Fyle source connection and a webhook secret
(`sync.webhook_secrets`, sealed with the vault as the API does); the baseline's table. Then, for each server in turn —
the baseline (`bench.webhook_baseline`) and the product (`bench.webhook_app`: `ledgerline.app.create_app` with the
rate and inbox limits raised) — uvicorn with `--workers` worker processes, by default one per core (uvloop +
httptools, no access log, the way production runs it), the same number for both servers so the comparison stays
fair, and the load generator (`bench.webhook_loadgen`) in a process of its own. One process cannot take 500
deliveries/s on a two-core machine (neither server can), so the default is not 1; the server CPU figure counts the
supervisor and all its workers.

1. closed loop, `--concurrency` connections, `--requests` signed deliveries → accepted/s, and the ratio to the
   baseline (goal ≥ 0.7);
2. open loop at `--rate` requests/s for `--seconds` → p50/p99 latency from the scheduled send (goal p99 ≤ 50 ms)
   and errors (anything but 202, or no answer).

Between phases the product's stored events are marked processed, as a dispatcher keeping up would leave them.
`--rounds N` alternates baseline and product N times and reports the median of each figure.

    .venv/bin/python -m bench.webhooks [--requests 10000] [--concurrency 32] [--rate 500] [--seconds 10] [--workers N]
"""

import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr
from redis.asyncio import Redis
from sqlalchemy import text

from bench.e2e_setup import ACTOR, REDIS_URL, create_database, drop_database, product_env
from core.audit import append_event
from core.constants import APP_DB_ROLE
from core.crypto import CredentialVault
from core.db import Database
from core.models import Connection, ConnectionRole, Tenant
from core.settings import Settings
from sandbox.server import free_port
from sync.webhook_secrets import new_secret, seal
from webhooks.constants import PROCESS_JOB_ID

ROOT = Path(__file__).parent.parent
STARTUP_SECONDS = 30
WORKER_STARTUP_SECONDS = 2.0
BASELINE_APP = "bench.webhook_baseline:create_baseline_app"
PRODUCT_APP = "bench.webhook_app:create_bench_app"
BASELINE_TABLE = """
CREATE TABLE bench_webhook_events (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    provider varchar(32) NOT NULL,
    connection_key varchar(64) NOT NULL,
    event_id varchar(255) NOT NULL,
    payload jsonb NOT NULL,
    state varchar(16) NOT NULL DEFAULT 'received',
    received_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (provider, connection_key, event_id)
);
GRANT SELECT, INSERT ON bench_webhook_events TO {role};
"""
THROUGHPUT_GOAL = 0.7
P99_GOAL_MS = 50.0


@dataclass(frozen=True)
class Target:
    connection_key: str
    secret: str


async def set_up(settings: Settings) -> Target:
    """A tenant with a Fyle source connection and one webhook secret, and the baseline's table."""
    vault = CredentialVault(settings.vault_key_list())
    database = Database(settings)
    tenant_id, connection_id = uuid.uuid4(), uuid.uuid4()
    secret = new_secret(now=datetime.now(UTC))
    key = uuid.uuid4().hex
    try:
        async with database.owner_session() as session:
            session.add(Tenant(id=tenant_id, name="Webhooks", slug=f"webhooks-{tenant_id.hex[:8]}"))
            await session.flush()
            await append_event(
                session, tenant_id=tenant_id, actor=ACTOR, action="tenant.create", entity_type="tenants", entity_id=None
            )
            for statement in BASELINE_TABLE.format(role=APP_DB_ROLE).split(";"):
                if statement.strip():
                    await session.execute(text(statement))
        async with database.tenant_session(tenant_id) as session:
            session.add(
                Connection(
                    id=connection_id,
                    tenant_id=tenant_id,
                    name="fyle",
                    provider="fyle",
                    role=ConnectionRole.SOURCE.value,
                    credentials=vault.encrypt({"refresh_token": "bench"}),
                    webhook_key=key,
                    webhook_secrets=seal(vault, [secret]),
                )
            )
    finally:
        await database.dispose()
    return Target(connection_key=key, secret=secret.secret)


async def drain_inbox(settings: Settings) -> None:
    """Mark every stored event processed (a dispatcher keeping up), and drop their queued jobs."""
    database = Database(settings)
    redis = Redis.from_url(settings.redis_url or REDIS_URL)
    try:
        async with database.owner_session() as session:
            rows = await session.execute(
                text("UPDATE webhook_events SET state = 'processed' WHERE state = 'received' RETURNING id")
            )
            ids = [row[0] for row in rows]
        for start in range(0, len(ids), 1000):
            keys = [f"arq:job:{PROCESS_JOB_ID.format(event_id=item)}" for item in ids[start : start + 1000]]
            await redis.unlink(*keys)
        await redis.unlink(settings.queue_name)
    finally:
        await redis.aclose()
        await database.dispose()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a server has used so far: the uvicorn process and its workers (Linux `/proc`)."""
    used = 0.0
    for process in (pid, *_children(pid)):
        fields = Path(f"/proc/{process}/stat").read_text().rsplit(")", 1)[1].split()
        used += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return used


def _children(pid: int) -> list[int]:
    listed = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [int(child) for child in listed]


@contextmanager
def served(factory: str, env: dict[str, str], workers: int, profile: Path | None = None) -> Iterator[tuple[str, int]]:
    """uvicorn serving `factory` with `workers` processes; yields its base URL and pid once every worker answers."""
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "--factory", factory, "--port", str(port)]
    if profile is not None:
        name = factory.rsplit(":", 1)[1]
        command = [sys.executable, "-m", "cProfile", "-o", str(profile / f"{name}.prof"), *command[1:]]
    options = ["--workers", str(workers), "--loop", "uvloop", "--http", "httptools", "--log-level", "warning"]
    process = subprocess.Popen([*command, *options, "--no-access-log"], cwd=ROOT, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            try:
                httpx.get(url, timeout=1)
                if workers == 1 or len(_children(process.pid)) >= workers:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError(f"{factory} did not start") from None
            time.sleep(0.1)
        if workers > 1:
            time.sleep(WORKER_STARTUP_SECONDS)  # one worker answered; the others may still be importing the app
        yield url, process.pid
    finally:
        # SIGINT, not SIGTERM: uvicorn re-raises the signal it stopped on, and only an interrupt lets cProfile dump.
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)


def load(url: str, target: Target, mode: str, args: argparse.Namespace) -> dict[str, Any]:
    """Run the load generator in its own process and return its figures."""
    command = [
        sys.executable,
        "-m",
        "bench.webhook_loadgen",
        f"--url={url}/webhooks/fyle/{target.connection_key}",
        f"--secret={target.secret}",
        f"--mode={mode}",
        f"--requests={args.requests}",
        f"--concurrency={args.concurrency}",
        f"--rate={args.rate}",
        f"--seconds={args.seconds}",
    ]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True)
    figures: dict[str, Any] = json.loads(done.stdout)
    return figures


def measure(factory: str, env: dict[str, str], settings: Settings, target: Target, args: argparse.Namespace) -> dict:
    asyncio.run(drain_inbox(settings))
    with served(factory, env, args.workers, args.profile) as (url, pid):
        used = cpu_seconds(pid)
        closed = load(url, target, "closed", args)
        closed["server_cpu_ms_per_request"] = (cpu_seconds(pid) - used) * 1000 / closed["requests"]
        asyncio.run(drain_inbox(settings))
        used = cpu_seconds(pid)
        opened = load(url, target, "open", args)
        opened["server_cpu_ms_per_request"] = (cpu_seconds(pid) - used) * 1000 / opened["requests"]
    return {"closed": closed, "open": opened}


def median_of(runs: list[dict[str, Any]], mode: str, name: str) -> float:
    return float(statistics.median(run[mode][name] for run in runs))


def print_table(baseline: list[dict[str, Any]], product: list[dict[str, Any]], args: argparse.Namespace) -> None:
    rounds = f", median of {args.rounds} rounds" if args.rounds > 1 else ""
    print(
        f"\n{args.workers} uvicorn worker(s) per server; closed loop: {args.requests} deliveries, "
        f"{args.concurrency} connections; open loop: {args.rate:.0f} req/s for {args.seconds:.0f} s{rounds}"
    )
    header = (
        f"{'server':30} {'accepted/s':>10} {'vs base':>8} {'CPU ms/req':>10} {'cl p50':>7} {'cl p99':>7} {'cl err':>6} "
        f"{'@rate p50':>9} {'@rate p99':>9} {'@rate max':>9} {'@rate err':>9}"
    )
    print(header)
    base_rate = median_of(baseline, "closed", "accepted_per_second")
    for name, runs in (("baseline (bare FastAPI INSERT)", baseline), ("product (ledgerline webhooks)", product)):
        closed = {key: median_of(runs, "closed", key) for key in ("server_cpu_ms_per_request", "p50_ms", "p99_ms")}
        opened = {key: median_of(runs, "open", key) for key in ("p50_ms", "p99_ms", "max_ms", "errors")}
        rate = median_of(runs, "closed", "accepted_per_second")
        print(
            f"{name:30} {rate:10.0f} {rate / base_rate:8.2f} {closed['server_cpu_ms_per_request']:10.2f} "
            f"{closed['p50_ms']:7.1f} {closed['p99_ms']:7.1f} {median_of(runs, 'closed', 'errors'):6.0f} "
            f"{opened['p50_ms']:9.1f} {opened['p99_ms']:9.1f} {opened['max_ms']:9.1f} {opened['errors']:9.0f}"
        )
    ratio = median_of(product, "closed", "accepted_per_second") / base_rate
    p99 = median_of(product, "open", "p99_ms")
    throughput_verdict = "met" if ratio >= THROUGHPUT_GOAL else "MISSED"
    print(
        f"\ngoal throughput >= {THROUGHPUT_GOAL} x baseline: {ratio:.2f} {throughput_verdict}"
        f"; goal p99 <= {P99_GOAL_MS:.0f} ms at {args.rate:.0f} req/s: {p99:.1f} ms "
        f"{'met' if p99 <= P99_GOAL_MS else 'MISSED'}"
    )
    for name, runs in (("baseline", baseline), ("product", product)):
        for index, run in enumerate(runs):
            print(
                f"  {name} round {index + 1}: closed statuses {run['closed']['statuses']}, "
                f"open statuses {run['open']['statuses']}, open connections {run['open']['connections_opened']}, "
                f"sent late {run['open']['sent_late_over_1ms']}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=10_000, help="closed loop: timed deliveries per server")
    parser.add_argument("--concurrency", type=int, default=32, help="closed loop: connections")
    parser.add_argument("--rate", type=float, default=500.0, help="open loop: deliveries per second")
    parser.add_argument("--seconds", type=float, default=10.0, help="open loop: duration")
    parser.add_argument(
        "--workers", type=int, default=os.cpu_count() or 1, help="uvicorn worker processes, for both servers"
    )
    parser.add_argument("--rounds", type=int, default=1, help="alternate baseline and product this many times")
    parser.add_argument("--only", choices=["baseline", "product"], help="measure one server only")
    parser.add_argument("--keep-database", action="store_true", help="do not drop the throw-away database")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument(
        "--profile", type=Path, help="run the servers under cProfile, writing .prof files here (with --workers 1)"
    )
    args = parser.parse_args()
    if args.profile is not None and args.workers != 1:
        parser.error("cProfile sees only the process it starts: use --profile with --workers 1")
    if args.profile is not None:
        args.profile.mkdir(parents=True, exist_ok=True)

    database_url = create_database()
    settings = Settings(
        env="test",
        database_url=database_url,
        redis_url=REDIS_URL,
        queue_name=f"ledgerline:bench:webhooks:{uuid.uuid4().hex[:8]}",
        vault_keys=SecretStr(CredentialVault.new_key()),
        session_secret=SecretStr(uuid.uuid4().hex + uuid.uuid4().hex),
        log_json=True,
        log_level="WARNING",
    )
    env = product_env(settings) | {"PYTHONPATH": str(ROOT)}
    baseline: list[dict[str, Any]] = []
    product: list[dict[str, Any]] = []
    try:
        target = asyncio.run(set_up(settings))
        for _ in range(args.rounds):
            if args.only != "product":
                baseline.append(measure(BASELINE_APP, env, settings, target, args))
            if args.only != "baseline":
                product.append(measure(PRODUCT_APP, env, settings, target, args))
        asyncio.run(drain_inbox(settings))
    finally:
        if not args.keep_database:
            drop_database(database_url)
    if baseline and product:
        print_table(baseline, product, args)
    else:
        print(json.dumps(baseline or product, indent=2))
    if args.json:
        args.json.write_text(json.dumps({"benchmark": "webhooks", "baseline": baseline, "product": product}, indent=2))


if __name__ == "__main__":
    main()
