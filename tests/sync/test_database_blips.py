"""Database blips: 600 expenses exported by two worker processes while their PostgreSQL backends are terminated
again and again. The workers recover on their own, and every expense ends up in exactly one bill.
"""

import asyncio
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select, text

from core.db import Database
from core.models import ExportItem, ExportItemRecord
from core.settings import Settings
from tests.sandbox_fixtures import RunningSandbox
from tests.sync.conftest import Books
from tests.sync.test_worker_export import bills, states, worker_env
from tests.sync.workers import start_worker, stop_workers

EXPENSES = 600
ITEMS = EXPENSES // 2  # one bill per report of two expenses
WORKERS = 2
BLIPS = 6
BLIP_AIM_SECONDS = 2.0
"""A blip waits this long at most for a worker backend inside a transaction (the hard case), then strikes anyway
(at idle pooled connections, which `pool_pre_ping` must replace)."""
STARTUP_SECONDS = 30
DEADLINE_SECONDS = 40
"""After the last blip. A job killed by a blip leaves its items leased (3 s here) or pending, and the reconciler
(every 15 s) hands them out again: one reconcile period plus the remaining work, with room for a loaded machine."""

WORKER_BACKENDS = " FROM pg_stat_activity WHERE datname = current_database() AND application_name = :name"
IN_TRANSACTION = text("SELECT count(*)" + WORKER_BACKENDS + " AND state IN ('active', 'idle in transaction')")
TERMINATE = text("SELECT state, pg_terminate_backend(pid)" + WORKER_BACKENDS + " AND pid <> pg_backend_pid()")
"""The workers' backends only, told apart by the libpq application name their environment sets (PGAPPNAME): the test
process connects as the same `ledgerline_app` role and must keep its own connections."""


@dataclass
class Blips:
    rounds: int = 0
    terminated: int = 0
    by_state: dict[str, int] = field(default_factory=dict)


async def blip(database: Database, application_name: str, blips: Blips, *, aim_seconds: float) -> None:
    """Terminate every backend of the workers, as soon as one of them is inside a transaction if that happens soon."""
    aim = time.monotonic() + aim_seconds
    while time.monotonic() < aim:
        async with database.owner_session() as session:
            if await session.scalar(IN_TRANSACTION, {"name": application_name}):
                break
        await asyncio.sleep(0.02)
    async with database.owner_session() as session:
        rows = (await session.execute(TERMINATE, {"name": application_name})).all()
    blips.rounds += 1
    for state, terminated in rows:
        if terminated:
            blips.terminated += 1
            blips.by_state[str(state)] = blips.by_state.get(str(state), 0) + 1


async def test_workers_recover_from_terminated_database_connections_without_losing_or_doubling_a_bill(
    database: Database, books: Books, settings: Settings, sandbox: RunningSandbox, tmp_path: Path
) -> None:
    await books.add_reports(database, ITEMS - 3)  # the fixture holds 3 reports of 2 expenses
    application_name = f"ledgerline-blips-{uuid.uuid4().hex[:8]}"
    env = {
        **worker_env(settings, sandbox),
        "PGAPPNAME": application_name,
        "LEDGERLINE_EXPORT_LEASE_SECONDS": "3",  # items of a job killed mid-batch come back within seconds
        "LEDGERLINE_EXPORT_RETRY_BASE_SECONDS": "0.5",
    }
    logs = [tmp_path / f"worker{index}.log" for index in range(WORKERS)]
    workers: list[subprocess.Popen[bytes]] = [start_worker(env, log) for log in logs]
    blips = Blips()
    done_during_blips: list[int] = []
    try:
        started = time.monotonic()
        while blips.rounds < BLIPS:  # the first blip waits for the workers to start and open a transaction
            await blip(
                database,
                application_name,
                blips,
                aim_seconds=STARTUP_SECONDS if blips.rounds == 0 else BLIP_AIM_SECONDS,
            )
            done_during_blips.append((await states(database, books)).get("succeeded", 0))
        deadline = time.monotonic() + DEADLINE_SECONDS
        while time.monotonic() < deadline:
            if await states(database, books) == {"succeeded": ITEMS}:
                break
            await asyncio.sleep(0.25)
        elapsed = time.monotonic() - started
        alive = [worker.poll() is None for worker in workers]
    finally:
        codes = stop_workers(workers)
    outputs = [log.read_text()[-3000:] for log in logs]
    print(f"{ITEMS} bills in {elapsed:.1f} s; {blips}; succeeded when each blip struck: {done_during_blips}")

    interrupted = sum(log.read_text().count("failed, OperationalError") for log in logs)
    print(f"jobs failed on a terminated connection: {interrupted}")
    assert blips.rounds == BLIPS
    mid_transaction = blips.by_state.get("active", 0) + blips.by_state.get("idle in transaction", 0)
    assert mid_transaction >= 1, f"no blip struck a worker inside a transaction: {blips}"
    assert interrupted >= 1, "no job felt a blip"
    assert done_during_blips[-1] < ITEMS, "the work was over before the blips were"
    assert alive == [True] * WORKERS, f"a worker died of a database blip: {outputs}"
    assert codes == [0] * WORKERS, outputs
    final = await states(database, books)
    if final != {"succeeded": ITEMS}:
        async with database.tenant_session(books.tenant.id) as session:
            stuck = (
                await session.execute(
                    select(ExportItem.state, ExportItem.lease_expires_at, ExportItem.error_class, ExportItem.error_code)
                    .where(ExportItem.state != "succeeded")
                    .limit(5)
                )
            ).all()
        raise AssertionError(f"{final} after {elapsed:.1f} s: {stuck}\n{outputs}")
    async with database.tenant_session(books.tenant.id) as session:
        references = set((await session.scalars(select(ExportItem.idempotency_key))).all())
        linked = await session.scalar(
            select(func.count()).select_from(ExportItemRecord).where(ExportItemRecord.released_at.is_(None))
        )
    exported = [reference for reference in bills(sandbox) if reference in references]
    assert len(exported) == len(set(exported)), "a bill was created twice"
    assert set(exported) == references, "a bill is missing"
    assert linked == EXPENSES  # every expense in exactly one live item, and each item in exactly one bill
