"""Adversarial reproductions against the rewritten export engine (issue 15), over HTTP to the Intacct simulator and on
real PostgreSQL.

Each test plays one path that might still break the promise "every exportable expense lands in exactly one live
destination document, and what Ledgerline records is what the destination holds". Tests that pass guard a path that
holds; a test that fails reproduces a real bug (named in its docstring and in the commit that added it).
"""

import asyncio
import contextlib
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select, update

from core.db import Database
from core.models import Connection, ExportItem
from core.repository import TenantRepository
from mappings.regrouping import regroup
from mappings.settings import ExportSettings, MemoSettings
from mappings.settings_store import save_settings
from sync.export_engine import ExportEngine
from sync.reconciler import return_expired_leases
from tests.sandbox_fixtures import RunningSandbox
from tests.sync.conftest import BILL_SETTINGS, Books
from tests.sync.intacct_bills import bill_shape, bills, clear_faults, fault
from tests.vocabularies import INTACCT

CHANGED_MEMO = "Corrected after the first try {employee_email}"


async def stored_items(database: Database, books: Books) -> list[ExportItem]:
    async with database.tenant_session(books.tenant.id) as session:
        return list((await session.scalars(select(ExportItem).order_by(ExportItem.created_at, ExportItem.id))).all())


async def make_due(database: Database, books: Books) -> None:
    async with database.tenant_session(books.tenant.id) as session:
        await session.execute(
            update(ExportItem).where(ExportItem.state == "pending").values(next_attempt_at=func.now())
        )


async def run(engine: ExportEngine, books: Books, *, limit: int = 50) -> Any:
    return await engine.run_batch(
        books.connector, tenant_id=books.tenant.id, connection_id=books.destination_id, limit=limit
    )


async def settle(database: Database, books: Books, engine: ExportEngine, *, rounds: int = 10) -> None:
    """Run batches until nothing is due (items backing off are made due at once)."""
    for _ in range(rounds):
        await make_due(database, books)
        if (await run(engine, books)).claimed == 0:
            return


async def save_and_regroup(database: Database, books: Books, settings: ExportSettings) -> None:
    async with database.tenant_session(books.tenant.id) as session:
        repository = TenantRepository(session, books.tenant.id, "test")
        destination = await session.get(Connection, books.destination_id)
        assert destination is not None
        await save_settings(repository, destination=destination, settings=settings, vocabulary=INTACCT)
        await regroup(repository, destination=destination, settings=settings)


def changed_memo() -> ExportSettings:
    return BILL_SETTINGS.model_copy(update={"memo": MemoSettings(document=CHANGED_MEMO)})


# --- A settled send leaves its document behind: the next generation is resent as the earlier one -----------------


async def test_a_document_adopted_after_a_settled_first_send_is_stored_as_intacct_holds_it(
    database: Database, books: Books, sandbox: RunningSandbox
) -> None:
    """BUG. The first send is refused by a 429 (proved not applied: settled, attempt given back, the item still
    movable, so a settings save keeps it). The memo settings change; the second send, built afresh under generation
    2, commits and its answer is lost, and the lookup after it fails. The third attempt adopts the bill.

    Intacct holds the second build (the corrected memo), but `export_items.document` -- "the document as first sent,
    every resend sends exactly this" -- is still the first build, the one Intacct refused: `record_sending` keeps
    the earlier document (`COALESCE`) although that send was settled. The item also reports a drift from the
    settings that the destination does not have."""
    fault(sandbox, operation="create:APBILL", mode="rate_limit", retry_after=0, times=1)
    engine = ExportEngine(database, owner="w1")
    await run(engine, books)
    first = await stored_items(database, books)
    assert {(item.state, item.outcome_unknown, item.send_generation) for item in first} == {("pending", False, 1)}
    assert all(item.document is not None for item in first)

    await save_and_regroup(database, books, changed_memo())  # kept: same groups, never sent
    fault(sandbox, operation="create:APBILL", mode="commit_then_fail", then="error", status=503, times=1)
    fault(sandbox, operation="query:*", mode="error", status=503, times=1)
    await make_due(database, books)
    await run(engine, books)
    assert len(bills(sandbox)) == 3
    assert all("Corrected after the first try" in (bill["DESCRIPTION"] or "") for bill in bills(sandbox))
    assert all(item.outcome_unknown for item in await stored_items(database, books))

    clear_faults(sandbox)
    await settle(database, books, engine)
    held = {bill["RECORDID"]: bill for bill in bills(sandbox)}
    assert bill_shape(sandbox) == (3, 3, 6)
    for item in await stored_items(database, books):
        assert item.state == "succeeded"
        assert item.document is not None
        assert item.document["memo"] == held[item.idempotency_key]["DESCRIPTION"], (
            "recorded as sent differs from what Intacct holds"
        )


async def test_a_resend_after_an_unknown_second_send_carries_the_second_document(
    database: Database, books: Books, sandbox: RunningSandbox
) -> None:
    """BUG (same root as above). After a settled first send, the corrected second build goes out and Intacct
    answers 503 without running it (outcome unknown, the lookup proves it absent). The resend must carry exactly
    what was sent under that generation -- the corrected build -- but carries the first, refused build, so Intacct
    ends up holding the document the tenant had corrected."""
    fault(sandbox, operation="create:APBILL", mode="rate_limit", retry_after=0, times=1)
    engine = ExportEngine(database, owner="w1")
    await run(engine, books)
    await save_and_regroup(database, books, changed_memo())
    fault(sandbox, operation="create:APBILL", mode="error", status=503, times=1)
    await make_due(database, books)
    await run(engine, books)
    assert bills(sandbox) == []
    unknown = await stored_items(database, books)
    assert all(item.outcome_unknown and item.send_generation == 2 for item in unknown)

    clear_faults(sandbox)
    await settle(database, books, engine)
    assert bill_shape(sandbox) == (3, 3, 6)
    assert all("Corrected after the first try" in (bill["DESCRIPTION"] or "") for bill in bills(sandbox)), [
        bill["DESCRIPTION"] for bill in bills(sandbox)
    ]


# --- A stale claim's request still in flight when a new claim resends in another batch ----------------------------


async def test_a_stale_request_in_flight_and_a_resend_in_a_different_batch_make_one_bill(
    database: Database, books: Books, sandbox: RunningSandbox
) -> None:
    """BUG. A claim sends one item ({X:1}); the request is slow in reaching Intacct (4 s). The claim's renewals fail
    (as in issue 15's path 2: a stalled process, a database outage longer than the lease), the reconciler hands the
    item back as unknown, and a new claim takes it together with two other items. Its lookup proves X absent -- the
    slow request has not run yet -- so it sends {X:1, Y:1, Z:1}: a new request control id, because the membership
    changed. Then the slow request runs under its own, unspent control id and creates X's bill a second time.

    docs/idempotency.md: 'A batch whose membership changes gets a new control id; that is safe only because every
    unknown member was looked up first'. A lookup proves nothing while an earlier request may still be in flight."""
    stale_engine, fresh_engine = ExportEngine(database, owner="w1"), ExportEngine(database, owner="w1")
    fault(sandbox, operation="create:APBILL", mode="latency", latency_ms=4000, times=1)
    stale = asyncio.create_task(run(stale_engine, books, limit=1))
    await asyncio.sleep(1.0)
    async with database.tenant_session(books.tenant.id) as session:  # as if its renewals had failed
        await session.execute(
            update(ExportItem)
            .where(ExportItem.state == "running")
            .values(lease_expires_at=func.now() - timedelta(seconds=1))
        )
    await return_expired_leases(database)  # serves every tenant of the database: counted by tenant below
    assert len([item for item in await stored_items(database, books) if item.outcome_unknown]) == 1
    fresh_report = await run(fresh_engine, books, limit=3)
    assert fresh_report.claimed == 3 and fresh_report.succeeded == 3
    stale_report = await stale
    assert stale_report.lost_lease == 1

    assert bill_shape(sandbox) == (3, 3, 6), [bill["RECORDID"] for bill in bills(sandbox)]


# --- A worker killed while its request is on the way: the request still lands ------------------------------------


async def crash_while_creating(database: Database, books: Books, *, limit: int) -> None:
    """A claim of `limit` items whose create request is slow to reach Intacct; the job is cancelled (the worker
    dies) while the request is on the way, its lease runs out, and the reconciler hands the items back."""
    engine = ExportEngine(database, owner="w1", lease_seconds=1)
    first = asyncio.create_task(run(engine, books, limit=limit))
    await asyncio.sleep(1.0)
    first.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await first
    await asyncio.sleep(1.5)  # the lease (1 s, renewed until the crash) runs out
    await return_expired_leases(database)  # serves every tenant of the database: counted by tenant below
    assert len([item for item in await stored_items(database, books) if item.outcome_unknown]) == limit


async def test_a_crash_with_the_request_in_flight_then_a_resend_of_the_same_batch_makes_no_duplicate(
    database: Database, books: Books, sandbox: RunningSandbox
) -> None:
    """Guard: the resend carries the same members and generations, so the same request control id; whichever of
    the two requests runs second is refused and the documents are adopted."""
    fault(sandbox, operation="create:APBILL", mode="latency", latency_ms=5000, times=1)
    await crash_while_creating(database, books, limit=3)
    report = await run(ExportEngine(database, owner="w2"), books, limit=3)
    assert report.succeeded == 3
    await asyncio.sleep(3.5)  # the dead worker's request has run (and been refused) by now
    assert bill_shape(sandbox) == (3, 3, 6)


async def test_a_crash_with_the_request_in_flight_then_a_resend_in_a_bigger_batch_makes_one_bill(
    database: Database, books: Books, sandbox: RunningSandbox
) -> None:
    """BUG (same root as the stale-claim test, without any failed renewal): the worker dies while its request
    {X:1} is on the way; after the lease the reconciler hands X back as unknown, the next claim takes X with Y
    and Z, the lookup proves X absent (the request has not run yet), and {X:1, Y:1, Z:1} goes under a new control
    id. The dead worker's request then runs too: two bills for X's expenses."""
    fault(sandbox, operation="create:APBILL", mode="latency", latency_ms=5000, times=1)
    await crash_while_creating(database, books, limit=1)
    report = await run(ExportEngine(database, owner="w2"), books, limit=3)
    assert report.succeeded == 3
    await asyncio.sleep(3.5)
    assert bill_shape(sandbox) == (3, 3, 6), [bill["RECORDID"] for bill in bills(sandbox)]


async def test_a_crash_after_the_bills_were_created_and_before_the_finish_adopts_them(
    database: Database, books: Books, sandbox: RunningSandbox
) -> None:
    """Guard: the create answered, the worker dies while reading the record URLs (before the finish). The
    reconciler hands the items back unknown; the next claim finds and adopts every bill."""
    fault(sandbox, operation="read*", mode="latency", latency_ms=3000, times=1)
    engine = ExportEngine(database, owner="w1", lease_seconds=1)
    batch = asyncio.create_task(run(engine, books))
    for _ in range(40):
        await asyncio.sleep(0.1)
        if len(bills(sandbox)) == 3:
            break
    batch.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await batch
    await asyncio.sleep(1.5)
    await return_expired_leases(database)  # serves every tenant of the database: counted by tenant below
    assert len([item for item in await stored_items(database, books) if item.outcome_unknown]) == 3
    report = await run(ExportEngine(database, owner="w2"), books)
    assert report.adopted == 3
    assert bill_shape(sandbox) == (3, 3, 6)
    assert {(item.state, item.outcome_unknown) for item in await stored_items(database, books)} == {
        ("succeeded", False)
    }


# --- Rate-limit deferral of the lookup in a batch mixing unknown and fresh items ----------------------------------


async def test_a_rate_limited_lookup_sends_nothing_and_leaves_the_unknown_items_unknown(
    database: Database, books: Books, sandbox: RunningSandbox
) -> None:
    """Guard: three bills commit and their answer is lost (lookup failed too); a new report arrives; the next
    batch's lookup is answered 429. Nothing goes out (not even the fresh item), the unknown items stay unknown,
    and once the limit lifts every expense is in exactly one bill."""
    fault(sandbox, operation="create:APBILL", mode="commit_then_fail", then="error", status=503, times=1)
    fault(sandbox, operation="query:*", mode="error", status=503, times=1)
    engine = ExportEngine(database, owner="w1")
    await run(engine, books)
    await books.add_reports(database, 1)
    fault(sandbox, operation="query:*", mode="rate_limit", retry_after=0, times=1)
    await make_due(database, books)
    report = await run(engine, books)
    assert report.claimed == 4 and report.succeeded == 0
    assert len(bills(sandbox)) == 3
    stored = await stored_items(database, books)
    assert sorted(item.outcome_unknown for item in stored) == [False, True, True, True]

    clear_faults(sandbox)
    await settle(database, books, engine)
    found = bills(sandbox)
    assert (len(found), len({bill["RECORDID"] for bill in found}), sum(len(bill["lines"]) for bill in found)) == (
        4,
        4,
        8,
    )
