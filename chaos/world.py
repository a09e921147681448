"""One scenario's world, built fresh and thrown away: a simulator process with generated approved expenses, a
migrated throw-away database with one tenant set up as an admin would (`bench.e2e_setup.make_tenant`), real
`ledgerline worker` processes on a queue of their own, and the sync run the fault is injected into."""

import asyncio
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError

from bench.destinations import INTACCT_DESTINATION, SandboxDestination
from bench.e2e_setup import (
    ACTOR,
    BILLS_PER_REPORT,
    BenchTenant,
    create_database,
    drop_database,
    make_tenant,
    product_env,
    product_settings,
)
from bench.sandbox_capacity import served
from chaos.constants import (
    CONTROL_TIMEOUT_SECONDS,
    MEMO_LINE,
    POLL_SECONDS,
    RECOVERY_DEADLINE_SECONDS,
    SANDBOX_APP,
    STOP_SECONDS,
    WORKER_ENV,
    WORKER_START_SECONDS,
)
from connectors.registry import destination_vocabulary
from core.db import Database
from core.models import Connection, ExportItem, RunState, SyncRun
from core.repository import TenantRepository
from core.settings import Settings
from mappings.settings import ExportSettings, MemoSettings
from mappings.settings_store import save_settings
from sandbox.constants import CONTROL_PREFIX
from sync.jobs import live_workers
from sync.queue import Queue
from sync.runs import RunKind, RunTrigger, enqueue_run, request_run

LEDGERLINE_CLI = str(Path(sys.executable).with_name("ledgerline"))
FINISHED_RUN = {RunState.SUCCEEDED.value, RunState.FAILED.value, RunState.CANCELLED.value}
UNFINISHED_ITEM = {"pending", "running"}
CHAOS_SETTINGS: ExportSettings = BILLS_PER_REPORT.model_copy(update={"memo": MemoSettings(line=MEMO_LINE)})


@dataclass(frozen=True)
class Progress:
    items: dict[str, int]
    run_state: str | None

    @property
    def succeeded(self) -> int:
        return self.items.get("succeeded", 0)

    @property
    def total(self) -> int:
        return sum(self.items.values())

    @property
    def unfinished(self) -> int:
        """Items still to be worked: a fault that lands while there are none tests nothing."""
        return sum(self.items.get(state, 0) for state in UNFINISHED_ITEM)

    @property
    def done(self) -> bool:
        return self.run_state in FINISHED_RUN and not UNFINISHED_ITEM & self.items.keys()


@dataclass(frozen=True)
class Recovery:
    resumed_seconds: float | None
    """From the fault's end until the next exported document (None: nothing was left to export)."""
    done_seconds: float | None
    """From the fault's end until the run finished with no item left to work (None: not within the deadline)."""
    progress: Progress


@dataclass
class World:
    name: str
    sandbox_url: str
    settings: Settings
    database: Database
    queue: Queue
    tenant: BenchTenant
    env: dict[str, str]
    logs: Path
    destination: SandboxDestination
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    spawned_at: list[float] = field(default_factory=list)
    """When each worker process was (re)started, on the monotonic clock."""
    run_id: uuid.UUID | None = None

    def control(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=f"{self.sandbox_url}{CONTROL_PREFIX}", timeout=CONTROL_TIMEOUT_SECONDS)

    def _spawn(self, index: int) -> subprocess.Popen[bytes]:
        log = (self.logs / f"{self.name}-worker{index}.log").open("ab")
        if index < len(self.spawned_at):
            self.spawned_at[index] = time.monotonic()
        else:
            self.spawned_at.append(time.monotonic())
        return subprocess.Popen([LEDGERLINE_CLI, "worker"], env=self.env, stdout=log, stderr=log)

    async def start_workers(self, count: int) -> None:
        self.spawned_at = []
        self.workers = [self._spawn(index) for index in range(count)]
        deadline = time.monotonic() + WORKER_START_SECONDS
        while len(await live_workers(self.queue)) < count:
            if time.monotonic() > deadline or any(worker.poll() is not None for worker in self.workers):
                raise RuntimeError(f"{self.name}: the workers did not start")
            await asyncio.sleep(POLL_SECONDS)

    def kill_and_restart(self, index: int) -> None:
        """SIGKILL: no shutdown hook runs, leases stay taken, a job may die between the remote write and its record."""
        self.workers[index].kill()
        self.workers[index].wait()
        self.workers[index] = self._spawn(index)

    def up_for(self, index: int) -> float:
        """Seconds since worker `index` was (re)started."""
        return time.monotonic() - self.spawned_at[index]

    def stop_workers(self) -> list[int]:
        for worker in self.workers:
            if worker.poll() is None:
                worker.terminate()
        return [worker.wait(timeout=STOP_SECONDS) for worker in self.workers]

    async def start_run(self, kind: RunKind = RunKind.REALTIME) -> None:
        """What `ledgerline sync run` does: request a run of the destination and ring the queue."""
        async with self.database.tenant_session(self.tenant.tenant_id) as session:
            connection = await session.get(Connection, self.tenant.destination_id)
            assert connection is not None
            run, _ = await request_run(
                session, connection=connection, kind=kind, trigger=RunTrigger.MANUAL, requested_by=ACTOR
            )
        await enqueue_run(self.queue, run, job_id=f"run:{run.id}:requested")
        self.run_id = run.id

    async def wait_for_export(self) -> int:
        """Until the first document is exported (a fault should strike the export, not the start-up); how many."""
        deadline = time.monotonic() + RECOVERY_DEADLINE_SECONDS
        while True:
            succeeded = (await self.progress()).succeeded
            if succeeded or time.monotonic() > deadline:
                return succeeded
            await asyncio.sleep(POLL_SECONDS)

    async def progress(self) -> Progress:
        async with self.database.tenant_session(self.tenant.tenant_id) as session:
            rows = await session.execute(select(ExportItem.state, func.count()).group_by(ExportItem.state))
            items = {state: count for state, count in rows.all()}
            if self.run_id is None:  # a webhook started the work: the newest run speaks for it
                run_state = await session.scalar(select(SyncRun.state).order_by(SyncRun.created_at.desc()).limit(1))
            else:
                run_state = await session.scalar(select(SyncRun.state).where(SyncRun.id == self.run_id))
        return Progress(items, run_state)

    async def safe_progress(self) -> Progress | None:
        """Progress, or None while the database is unreachable (PostgreSQL restarting)."""
        try:
            return await self.progress()
        except (DBAPIError, OSError):
            return None

    async def recover(self, fault_end: float, deadline_seconds: float = RECOVERY_DEADLINE_SECONDS) -> Recovery:
        """Follow the work from the fault's end until it is done or `deadline_seconds` pass."""
        start = await self.safe_progress()
        resumed: float | None = None
        while True:
            current = await self.safe_progress()
            elapsed = time.monotonic() - fault_end
            if current is not None:
                if resumed is None and (start is None or current.succeeded > start.succeeded):
                    resumed = elapsed
                if current.done:
                    if start is not None and start.done:
                        resumed = None  # the work was over before the fault was
                    return Recovery(resumed, elapsed, current)
            if elapsed > deadline_seconds:
                return Recovery(resumed, None, current or Progress({}, None))
            await asyncio.sleep(POLL_SECONDS)

    def log_tail(self, characters: int = 2000) -> str:
        return "\n".join(
            f"--- {log.name}\n{log.read_text(errors='replace')[-characters:]}"
            for log in sorted(self.logs.glob(f"{self.name}-*.log"))
        )


async def configure_destination(
    world: World, *, export: ExportSettings = CHAOS_SETTINGS, **connection_settings: Any
) -> None:
    """Bills per report whose lines carry their expense id (or `export`); plus connection settings (`rate_limit`, …)."""
    async with world.database.tenant_session(world.tenant.tenant_id) as session:
        destination = await session.get(Connection, world.tenant.destination_id)
        assert destination is not None
        await save_settings(
            TenantRepository(session, world.tenant.tenant_id, ACTOR),
            destination=destination,
            settings=world.destination.export_settings(export, world.sandbox_url),
            vocabulary=destination_vocabulary(destination.provider),
        )
        if connection_settings:
            destination.settings = {**destination.settings, **connection_settings}


@asynccontextmanager
async def built(
    name: str,
    *,
    expenses: int,
    per_report: int,
    logs: Path,
    env: dict[str, str] | None = None,
    destination: SandboxDestination = INTACCT_DESTINATION,
) -> AsyncIterator[World]:
    """A fresh world for one scenario; workers stopped, database dropped and simulators ended on the way out."""
    with served(SANDBOX_APP) as sandbox_url:
        async with httpx.AsyncClient(base_url=f"{sandbox_url}{CONTROL_PREFIX}", timeout=CONTROL_TIMEOUT_SECONDS) as c:
            generated = await c.post(
                "/fyle/generate", json={"expenses": expenses, "state": "APPROVED", "per_report": per_report}
            )
            generated.raise_for_status()
        database_url = create_database()
        settings = product_settings(database_url, sandbox_url)
        database = Database(settings)
        queue = await Queue.connect(settings.redis_url, settings.queue_name)
        world: World | None = None
        try:
            tenant = await make_tenant(database, settings, f"Chaos {name}", destination)
            world = World(
                name=name,
                sandbox_url=sandbox_url,
                settings=settings,
                database=database,
                queue=queue,
                tenant=tenant,
                env=product_env(settings) | WORKER_ENV | (env or {}),
                logs=logs,
                destination=destination,
            )
            yield world
        finally:
            if world is not None:
                world.stop_workers()
            await queue.close()
            await database.dispose()
            drop_database(database_url)
