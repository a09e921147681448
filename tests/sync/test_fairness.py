"""Fairness: tenant A's backlog (up to 100,000 bills) does not starve tenant B. While two worker processes chew through
A's pending bills, B's ten new items are all exported within a bound derived from the design, and A still has most
of its backlog waiting: B did not queue behind A.
"""

import asyncio
import subprocess
import time
from pathlib import Path

from sqlalchemy import select, text, update

from core.db import Database
from core.models import ExportItem
from core.settings import Settings
from sync.constants import BATCHES_PER_EXPORT_JOB, CLAIM_BATCH, RECONCILE_EVERY_SECONDS
from tests.sandbox_fixtures import RunningSandbox
from tests.sync.bill_books import add_bill_tenant
from tests.sync.conftest import Books
from tests.sync.test_worker_export import bills, states, worker_env
from tests.sync.workers import (
    add_backlog,
    item_states,
    remove_tenant_work,
    start_worker,
    stop_workers,
)

BACKLOG = 100_000
BACKLOG_BUDGET_SECONDS = 20.0
"""The bulk insert (`add_backlog`) makes all 100,000 bills in 13–21 s when this test runs alone on this machine kind.
Late in the whole suite it makes far fewer in the same time (about 550 a second; the cause is not found yet), so the
insert stops at this budget to keep `make test` within its ten minutes; the bound below holds whatever the size."""
BACKLOG_MINIMUM = 5_000
"""Far more than the workers can export within the bound below, so B finishing first cannot be A running dry."""
WORKERS = 2
B_ITEMS = 10
STARTUP_SECONDS = 30

BATCH_SECONDS = 2.5
"""Generous time for one batch of CLAIM_BATCH items (build, one Intacct call, finish) on a loaded test machine."""
B_BOUND_SECONDS = RECONCILE_EVERY_SECONDS + (BATCHES_PER_EXPORT_JOB + 1) * BATCH_SECONDS
"""From the moment B's items are due until all ten have succeeded, at most 27.5 s:
- discovery: the reconciler (an arq cron in every worker) runs every RECONCILE_EVERY_SECONDS and enqueues one export
  job per connection with due items, B's included: at most RECONCILE_EVERY_SECONDS;
- queueing: the jobs ahead of B's are A's. An A job runs BATCHES_PER_EXPORT_JOB batches and then hands over, its
  continuation going to the back of the queue, behind B's job; A never has more chains of jobs than Intacct's
  concurrency (2, `sync.export_chains`) while each worker runs up to 20 jobs at once, so at worst B's job waits
  for one A job to finish: BATCHES_PER_EXPORT_JOB × BATCH_SECONDS;
- B's own job: ten items are one batch (B_ITEMS ≤ CLAIM_BATCH): BATCH_SECONDS.
Without fairness, B would wait for A's whole backlog: BACKLOG_MINIMUM / CLAIM_BATCH batches or more, over 4 minutes at
BATCH_SECONDS each."""
assert B_ITEMS <= CLAIM_BATCH


async def test_a_tenants_huge_backlog_does_not_starve_another_tenants_ten_items(
    database: Database, books: Books, settings: Settings, sandbox: RunningSandbox, tmp_path: Path
) -> None:
    # B is `books`; its three fixture items wait (not due) until B's turn to arrive comes.
    async with database.tenant_session(books.tenant.id) as session:
        await session.execute(update(ExportItem).values(next_attempt_at=text("now() + interval '1 day'")))
    backlog_tenant = await add_bill_tenant(database, settings, "Backlog")
    workers: list[subprocess.Popen[bytes]] = []
    try:
        inserting = time.monotonic()
        backlog = await add_backlog(database, backlog_tenant, BACKLOG, budget_seconds=BACKLOG_BUDGET_SECONDS)
        inserted_in = time.monotonic() - inserting
        assert backlog >= BACKLOG_MINIMUM, f"only {backlog} backlog items in {inserted_in:.1f} s"

        logs = [tmp_path / f"worker{index}.log" for index in range(WORKERS)]
        workers = [start_worker(worker_env(settings, sandbox), log) for log in logs]
        started = time.monotonic()
        while (await item_states(database, backlog_tenant.tenant.id)).get("succeeded", 0) == 0:
            assert time.monotonic() < started + STARTUP_SECONDS, "the workers never started on A's backlog"
            await asyncio.sleep(0.2)

        # A is in full swing: B's ten items arrive (seven new reports, and the three fixture items fall due).
        arrived = time.monotonic()
        await books.add_reports(database, B_ITEMS - 3)
        async with database.tenant_session(books.tenant.id) as session:
            await session.execute(update(ExportItem).values(next_attempt_at=text("now()")))
        waited = 0.0
        while time.monotonic() < arrived + B_BOUND_SECONDS + 30:  # watch past the bound, to report how late B was
            if await states(database, books) == {"succeeded": B_ITEMS}:
                waited = time.monotonic() - arrived
                break
            await asyncio.sleep(0.2)
        a_now = await item_states(database, backlog_tenant.tenant.id)
        b_now = await states(database, books)
        alive = [worker.poll() is None for worker in workers]
    finally:
        codes = stop_workers(workers)
        await remove_tenant_work(database, backlog_tenant)
    print(
        f"backlog {backlog} in {inserted_in:.1f} s; B's {B_ITEMS} items done {waited:.1f} s after arriving"
        f" (bound {B_BOUND_SECONDS} s); A then: {a_now}"
    )

    tails = "\n".join(log.read_text()[-4000:] for log in logs)
    assert b_now == {"succeeded": B_ITEMS}, f"B after {B_BOUND_SECONDS + 30} s: {b_now}; A: {a_now}\n{tails}"
    assert waited <= B_BOUND_SECONDS, f"B waited {waited:.1f} s, over the bound of {B_BOUND_SECONDS} s"
    assert a_now.get("succeeded", 0) > 0, "A made no progress: the workers were not busy with A"
    assert a_now.get("pending", 0) > backlog // 2, f"A's backlog ran down before B was served: {a_now}"
    assert alive == [True] * WORKERS
    assert codes == [0] * WORKERS
    async with database.tenant_session(books.tenant.id) as session:
        references = set((await session.scalars(select(ExportItem.idempotency_key))).all())
    exported = [reference for reference in bills(sandbox) if reference in references]
    assert sorted(exported) == sorted(references), "each of B's items is exactly one bill"
