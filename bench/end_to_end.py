"""End to end: expenses per second from pull to write-back, one worker and two, beside a baseline from the same run.

Each measurement gets a fresh sandbox process (every simulator, no latency, a request log long enough to count every
call) with N approved expenses generated in Fyle (`--per-report` to a report), and a fresh tenant in one throw-away
database: Fyle source, Intacct destination, **one bill per report** for reimbursable expenses, the Intacct chart
imported and every category and employee mapped (set-up, not timed).

- baseline: the same HTTP calls and inserts without the engine (`bench.e2e_baseline`);
- product, W workers: W `ledgerline worker` processes on a queue of their own; timed from requesting a `realtime`
  run (pull, group, export, write-back: what a webhook starts for a tenant with real-time export) until it has
  succeeded.

Figures: expenses read from Fyle per second (the headline: every one is pulled, stored, grouped; the exportable
ones are also exported and written back), exportable expenses per second, bills per second, destination API calls
per bill beside the floor 1/batch_size, and the workers' peak RSS (VmHWM).

    .venv/bin/python -m bench.end_to_end [--expenses 10000] [--per-report 5] [--workers 1 2] [--json out.json]
"""

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO

import httpx
from sqlalchemy import func, select

from bench.destinations import INTACCT_DESTINATION, ExportPlan, SandboxDestination
from bench.e2e_baseline import INTACCT_BATCH, run_baseline
from bench.e2e_setup import (
    ACTOR,
    BILLS_PER_REPORT,
    BenchTenant,
    create_database,
    drop_database,
    fyle_grant,
    make_tenant,
    product_env,
    product_settings,
)
from bench.sandbox_capacity import served
from core.db import Database
from core.models import Connection, ExportItem, ExportItemRecord, ExportState, RunState, SourceRecord, SyncRun
from mappings.settings import ExportSettings
from sandbox.constants import CONTROL_PREFIX
from sync.jobs import live_workers
from sync.queue import Queue
from sync.runs import RunKind, RunTrigger, enqueue_run, request_run

LEDGERLINE_CLI = str(Path(sys.executable).with_name("ledgerline"))
SANDBOX_APP = "bench.e2e_sandbox:app"
POLL_SECONDS = 0.05
SETTLED_POLL_SECONDS = 0.5
RUN_TIMEOUT_SECONDS = 1800.0
WORKER_START_SECONDS = 60.0
FINISHED = {RunState.SUCCEEDED.value, RunState.FAILED.value, RunState.CANCELLED.value}


@dataclass
class Figures:
    name: str
    seconds: float
    expenses: int
    """Expenses read from Fyle (and stored)."""
    exported_expenses: int
    documents: int
    destination_calls: int
    destination_operations: dict[str, int] = field(default_factory=dict)
    fyle_calls: int = 0
    phases: dict[str, float] = field(default_factory=dict)
    worker_peak_rss_mb: list[float] = field(default_factory=list)
    worker_cpu_seconds: float | None = None
    """CPU the workers used while timed: steadier than wall time when something else shares the machine."""
    states: dict[str, int] = field(default_factory=dict)

    @property
    def per_second(self) -> float:
        return self.expenses / self.seconds

    @property
    def exported_per_second(self) -> float:
        return self.exported_expenses / self.seconds

    @property
    def calls_per_document(self) -> float:
        return self.destination_calls / self.documents if self.documents else float("nan")


class SandboxControl:
    def __init__(self, url: str) -> None:
        self.url = url
        self.client = httpx.Client(base_url=f"{url}{CONTROL_PREFIX}", timeout=300)

    def generate(self, expenses: int, per_report: int, state: str) -> None:
        self.client.post(
            "/fyle/generate", json={"expenses": expenses, "state": state, "per_report": per_report}
        ).raise_for_status()

    def request_count(self, system: str) -> int:
        count: int = self.client.get("/requests", params={"system": system, "limit": 1}).json()["count"]
        return count

    def operations_since(self, system: str, before: int) -> Counter[str]:
        after = self.request_count(system)
        if after == before:
            return Counter()
        rows = self.client.get("/requests", params={"system": system, "limit": after - before}).json()["data"]
        return Counter(row["operation"] for row in rows)


def start_worker(command: list[str], env: dict[str, str], log: IO[bytes]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(command, env=env, stdout=log, stderr=log)


def cpu_seconds(pid: int) -> float:
    """User plus system CPU of a process so far (`/proc/PID/stat` fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def _finished_run(database: Database, tenant_id: uuid.UUID, run_id: uuid.UUID) -> SyncRun:
    deadline = time.monotonic() + RUN_TIMEOUT_SECONDS
    while True:
        async with database.tenant_session(tenant_id) as session:
            run = await session.get(SyncRun, run_id)
            assert run is not None
            session.expunge(run)
        if run.state in FINISHED:
            if run.state != RunState.SUCCEEDED.value:
                raise RuntimeError(f"{run.kind} run {run.state}: {run.error_message} {run.log[-5:]}")
            return run
        if time.monotonic() > deadline:
            raise TimeoutError(f"{run.kind} run still {run.state} ({run.phase}) after {RUN_TIMEOUT_SECONDS} s")
        await asyncio.sleep(POLL_SECONDS)


async def _settled(database: Database, tenant_id: uuid.UUID) -> None:
    """Wait until no export item is pending or running: a run ends its export phase when the destination's budget
    defers the connection, and the export chain finishes the items after the deferral — part of the time measured."""
    deadline = time.monotonic() + RUN_TIMEOUT_SECONDS
    while True:
        async with database.tenant_session(tenant_id) as session:
            unsettled = await session.scalar(
                select(func.count())
                .select_from(ExportItem)
                .where(ExportItem.state.in_((ExportState.PENDING.value, ExportState.RUNNING.value)))
            )
        if not unsettled:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"{unsettled} export items still unsettled after {RUN_TIMEOUT_SECONDS} s")
        await asyncio.sleep(SETTLED_POLL_SECONDS)


async def _run(database: Database, queue: Queue, tenant: BenchTenant, kind: RunKind) -> SyncRun:
    async with database.tenant_session(tenant.tenant_id) as session:
        connection = await session.get(Connection, tenant.destination_id)
        assert connection is not None
        run, created = await request_run(
            session, connection=connection, kind=kind, trigger=RunTrigger.MANUAL, requested_by=ACTOR
        )
    assert created, "a run of this kind was already open"
    await enqueue_run(queue, run, job_id=f"run:{run.id}:requested")
    return await _finished_run(database, tenant.tenant_id, run.id)


def _phase_times(run: SyncRun, wall_start: datetime) -> dict[str, float]:
    """Seconds from the start to the end of each phase, from the run's log lines (their `at`)."""
    marks: dict[str, float] = {}
    for line in run.log:
        moment = (datetime.fromisoformat(line["at"]) - wall_start).total_seconds()
        marks[line.get("phase") or "end"] = round(moment, 2)
    return marks


async def _outcome(database: Database, tenant: BenchTenant) -> tuple[int, int, int, dict[str, int]]:
    """(source records, expenses in succeeded items, succeeded items, items by state)."""
    async with database.tenant_session(tenant.tenant_id) as session:
        records = await session.scalar(select(func.count()).select_from(SourceRecord)) or 0
        states = dict((await session.execute(select(ExportItem.state, func.count()).group_by(ExportItem.state))).all())
        exported = (
            await session.scalar(
                select(func.count())
                .select_from(ExportItemRecord)
                .join(ExportItem, ExportItem.id == ExportItemRecord.export_item_id)
                .where(ExportItem.state == "succeeded", ExportItemRecord.released_at.is_(None))
            )
            or 0
        )
    return records, exported, states.get("succeeded", 0), states


async def _wait_for_workers(queue: Queue, count: int, processes: list[subprocess.Popen[bytes]]) -> None:
    deadline = time.monotonic() + WORKER_START_SECONDS
    while len(await live_workers(queue)) < count:
        if time.monotonic() > deadline or any(process.poll() is not None for process in processes):
            raise RuntimeError("the workers did not start")
        await asyncio.sleep(0.2)


async def measure_product(
    url: str,
    database_url: str,
    args: argparse.Namespace,
    workers: int,
    logs: Path,
    destination: SandboxDestination = INTACCT_DESTINATION,
    *,
    export: ExportSettings | ExportPlan = BILLS_PER_REPORT,
    quiet_seconds: float = 0.0,
) -> Figures:
    """W workers exporting to `destination` (Intacct unless another is named) under `export` (one bill per report
    unless told); its calls counted. `quiet_seconds` before the timed run let a rate-limited system's window forget
    the set-up's calls, which no budget paced (they are not the product's)."""
    system = destination.system
    control = SandboxControl(url)
    control.generate(args.expenses, args.per_report, args.state)
    settings = product_settings(database_url, url)
    database = Database(settings)
    queue = await Queue.connect(settings.redis_url, settings.queue_name)
    processes: list[subprocess.Popen[bytes]] = []
    try:
        tenant = await make_tenant(database, settings, f"Bench{workers}w", destination, export=export)
        env = product_env(settings)
        for index in range(workers):
            log = (logs / f"worker-{workers}w-{index}.log").open("wb")
            command = [LEDGERLINE_CLI, "worker"]
            if args.profile is not None:  # cProfile writes its file when the worker shuts down on SIGTERM
                target = args.profile / f"worker-{workers}w-{index}.prof"
                command = [sys.executable, "-m", "cProfile", "-o", str(target), *command]
            processes.append(start_worker(command, env, log))
        await _wait_for_workers(queue, workers, processes)
        await asyncio.sleep(quiet_seconds)
        destination_before, fyle_before = control.request_count(system), control.request_count("fyle")

        wall_start = datetime.now().astimezone()
        cpu_before = sum(cpu_seconds(process.pid) for process in processes)
        started = time.perf_counter()
        run = await _run(database, queue, tenant, RunKind.REALTIME)
        await _settled(database, tenant.tenant_id)
        seconds = time.perf_counter() - started
        cpu = sum(cpu_seconds(process.pid) for process in processes) - cpu_before

        operations = control.operations_since(system, destination_before)
        fyle_calls = control.request_count("fyle") - fyle_before
        rss = [round(peak_rss_mb(process.pid), 1) for process in processes]
        records, exported_expenses, documents, states = await _outcome(database, tenant)
        return Figures(
            name=f"product, {workers} worker{'s' if workers > 1 else ''}",
            seconds=seconds,
            expenses=records,
            exported_expenses=exported_expenses,
            documents=documents,
            destination_calls=sum(operations.values()),
            destination_operations=dict(operations),
            fyle_calls=fyle_calls,
            phases=_phase_times(run, wall_start),
            worker_peak_rss_mb=rss,
            worker_cpu_seconds=cpu,
            states=states,
        )
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=60)
        await queue.close()
        await database.dispose()


async def measure_baseline(url: str, database_url: str, args: argparse.Namespace) -> Figures:
    control = SandboxControl(url)
    control.generate(args.expenses, args.per_report, args.state)
    settings = product_settings(database_url, url)
    database = Database(settings)
    try:
        tenant = await make_tenant(database, settings, "Baseline")  # only for the mapped account and vendor
    finally:
        await database.dispose()
    tokens, _ = fyle_grant(url)
    intacct_before, fyle_before = control.request_count("intacct"), control.request_count("fyle")
    report = await run_baseline(
        url, database_url, fyle_token=tokens["access_token"], account=tenant.account, vendor=tenant.vendor
    )
    operations = control.operations_since("intacct", intacct_before)
    return Figures(
        name="baseline (no engine)",
        seconds=report.seconds,
        expenses=report.expenses,
        exported_expenses=report.exported_expenses,
        documents=report.documents,
        destination_calls=sum(operations.values()),
        destination_operations=dict(operations),
        fyle_calls=control.request_count("fyle") - fyle_before,
        phases=report.phases,
    )


def print_table(rows: list[Figures], args: argparse.Namespace) -> None:
    base = rows[0]
    print(
        f"\n{args.expenses} generated expenses ({args.state}, {args.per_report} per report) + the seed; "
        f"one bill per report; Intacct batch size {INTACCT_BATCH} (floor {1 / INTACCT_BATCH:.3f} calls per bill)"
    )
    header = (
        f"{'run':24} {'seconds':>8} {'expenses':>8} {'exp/s':>8} {'vs base':>8} {'exported':>8} {'exported/s':>10} "
        f"{'bills':>6} {'intacct calls':>13} {'calls/bill':>10} {'x floor':>8} {'fyle calls':>10} {'peak RSS MB':>12}"
    )
    print(header)
    for row in rows:
        rss = "/".join(f"{value:.0f}" for value in row.worker_peak_rss_mb) or "-"
        print(
            f"{row.name:24} {row.seconds:8.1f} {row.expenses:8d} {row.per_second:8.0f} "
            f"{row.per_second / base.per_second:8.2f} {row.exported_expenses:8d} {row.exported_per_second:10.0f} "
            f"{row.documents:6d} {row.destination_calls:13d} {row.calls_per_document:10.4f} "
            f"{row.calls_per_document * INTACCT_BATCH:8.2f} {row.fyle_calls:10d} {rss:>12}"
        )
    for row in rows:
        print(f"\n{row.name}: intacct operations {row.destination_operations}")
        if row.worker_cpu_seconds is not None:
            per_expense_ms = row.worker_cpu_seconds / row.expenses * 1000
            print(f"  worker CPU: {row.worker_cpu_seconds:.1f} s, {per_expense_ms:.2f} ms per expense")
        if row.phases:
            print(f"  phase ends (s from start): {row.phases}")
        if row.states:
            print(f"  export items by state: {row.states}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--expenses", type=int, default=10_000, help="expenses generated in Fyle per measurement")
    parser.add_argument("--per-report", type=int, default=5, help="expenses per generated report (one bill each)")
    parser.add_argument("--state", default="APPROVED", help="report state of the generated expenses")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="worker counts to measure")
    parser.add_argument("--no-baseline", action="store_true", help="measure the product only")
    parser.add_argument("--keep-database", action="store_true", help="do not drop the throw-away database")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--profile", type=Path, help="run the workers under cProfile, writing .prof files here")
    args = parser.parse_args()
    if args.profile is not None:
        args.profile.mkdir(parents=True, exist_ok=True)

    database_url = create_database()
    rows: list[Figures] = []
    try:
        with tempfile.TemporaryDirectory(prefix="ledgerline-e2e-") as logs_dir:
            logs = Path(logs_dir)
            if not args.no_baseline:
                with served(SANDBOX_APP) as url:
                    rows.append(asyncio.run(measure_baseline(url, database_url, args)))
            for workers in args.workers:
                with served(SANDBOX_APP) as url:
                    try:
                        rows.append(asyncio.run(measure_product(url, database_url, args, workers, logs)))
                    except Exception:
                        for log in sorted(logs.iterdir()):
                            print(f"--- {log.name}\n{log.read_text()[-3000:]}", file=sys.stderr)
                        raise
    finally:
        if not args.keep_database:
            drop_database(database_url)
    print_table(rows, args)
    if args.json:
        payload = [
            asdict(row) | {"per_second": row.per_second, "calls_per_document": row.calls_per_document} for row in rows
        ]
        args.json.write_text(json.dumps({"benchmark": "end_to_end", "results": payload}, indent=2, default=str))


if __name__ == "__main__":
    main()
