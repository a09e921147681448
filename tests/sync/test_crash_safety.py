"""Crash safety: 2,000 expenses exported while worker processes are SIGKILLed at random moments and 5 % of the
destination's writes commit and then fail. Afterwards every expense is in exactly one bill: none missing, none twice.
"""

import asyncio
import random
import signal
import time
from pathlib import Path

from sqlalchemy import func, select

from core.db import Database
from core.models import ExportItem, ExportItemRecord
from core.settings import Settings
from tests.sandbox_fixtures import RunningSandbox
from tests.sync.conftest import Books
from tests.sync.test_worker_export import bills, states, worker_env
from tests.sync.workers import start_worker

EXPENSES = 2000
KILLS = 20
WORKERS = 2
DEADLINE_SECONDS = 240


async def test_killed_workers_and_lost_answers_never_duplicate_or_lose_an_expense(
    database: Database, books: Books, settings: Settings, sandbox: RunningSandbox, tmp_path: Path
) -> None:
    await books.add_reports(database, EXPENSES // 2 - 3)  # the fixture holds 3 reports of 2 expenses
    with sandbox.control() as control:
        control.post(
            "/faults",
            json={"system": "intacct", "operation": "create:APBILL", "mode": "commit_then_fail", "probability": 0.05},
        ).raise_for_status()
    env = {
        **worker_env(settings, sandbox),
        "LEDGERLINE_EXPORT_LEASE_SECONDS": "3",  # killed workers' items come back within seconds
        "LEDGERLINE_EXPORT_RETRY_BASE_SECONDS": "0.5",  # and retries after lost answers too
    }
    logs = [tmp_path / f"worker{index}.log" for index in range(WORKERS)]
    workers = [start_worker(env, log) for log in logs]
    draw = random.Random(20261121)
    kills = 0
    try:
        deadline = time.monotonic() + DEADLINE_SECONDS
        while time.monotonic() < deadline:
            if kills < KILLS:
                await asyncio.sleep(draw.uniform(0.2, 1.2))
                victim = draw.randrange(WORKERS)
                workers[victim].send_signal(signal.SIGKILL)
                workers[victim].wait()
                workers[victim] = start_worker(env, logs[victim])
                kills += 1
                continue
            if await states(database, books) == {"succeeded": EXPENSES // 2}:
                break
            await asyncio.sleep(0.5)
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        for worker in workers:
            worker.wait(timeout=60)
    assert kills == KILLS
    final = await states(database, books)
    if final != {"succeeded": EXPENSES // 2}:
        async with database.tenant_session(books.tenant.id) as session:
            stuck = (
                await session.execute(
                    select(ExportItem.state, ExportItem.error_class, ExportItem.error_code, ExportItem.error_message)
                    .where(ExportItem.state != "succeeded")
                    .limit(5)
                )
            ).all()
        raise AssertionError(f"{final}: {stuck}")
    async with database.tenant_session(books.tenant.id) as session:
        references = set((await session.scalars(select(ExportItem.idempotency_key))).all())
        linked = await session.scalar(
            select(func.count()).select_from(ExportItemRecord).where(ExportItemRecord.released_at.is_(None))
        )
    exported = [reference for reference in bills(sandbox) if reference in references]
    assert len(exported) == len(set(exported)), "a bill was created twice"
    assert set(exported) == references, "a bill is missing"
    assert linked == EXPENSES  # every expense in exactly one live item, and each item in exactly one bill
    with sandbox.control() as control:
        fired = [fault["fired"] for fault in control.get("/faults").json()]
    assert fired and fired[0] > 0, "the commit-then-fail fault never fired"
