"""Payment sync against both simulators: bills paid in Intacct mark their Fyle reports paid, once, losing nothing."""

from collections.abc import AsyncIterator
from datetime import date

import pytest
from sqlalchemy import func, select, update

from core.db import Database
from core.models import AuditEvent, ExportItem
from core.settings import Settings
from mappings.settings import ExportSettings
from sync.constants import AUDIT_ITEM_PAID
from sync.payment_engine import PaymentReport, sync_payments
from sync.replay import skip_item
from tests.connectors.fyle.conftest import sandbox_writes
from tests.mappings.factories import expense
from tests.mappings.seed import expenses as store_expenses
from tests.sandbox_fixtures import RunningSandbox
from tests.sync.conftest import BILL_SETTINGS, Books
from tests.sync.payment_books import MARK_PAID_OPERATION, FyleBooks, connect_fyle

PER_EXPENSE = ExportSettings.model_validate(
    {**BILL_SETTINGS.model_dump(mode="json"), "reimbursable": {"export_type": "bill", "grouping": {"by": "expense"}}}
)


@pytest.fixture
async def fyle_books(
    database: Database, settings: Settings, sandbox: RunningSandbox, books: Books
) -> AsyncIterator[FyleBooks]:
    async with connect_fyle(database, settings, sandbox, books) as connected:
        yield connected


async def run(database: Database, world: FyleBooks, *, with_source: bool = True) -> PaymentReport:
    books = world.books
    return await sync_payments(
        database,
        books.connector,
        world.source if with_source else None,
        tenant_id=books.tenant.id,
        destination_connection_id=books.destination_id,
        actor="test:payments",
    )


async def reload(database: Database, world: FyleBooks, item: ExportItem) -> ExportItem:
    async with database.tenant_session(world.books.tenant.id) as session:
        found = await session.get(ExportItem, item.id)
        assert found is not None
        return found


async def test_paid_bills_mark_exactly_their_reports_paid(database: Database, fyle_books: FyleBooks) -> None:
    paid_one, paid_two, partly = await fyle_books.payable_reports(3)
    await fyle_books.add_expenses(database, [paid_one, paid_two, partly])
    await fyle_books.export_everything(database)
    [bill_one] = await fyle_books.items_of(database, paid_one)
    [bill_two] = await fyle_books.items_of(database, paid_two)
    [partly_bill] = await fyle_books.items_of(database, partly)
    assert all(item.state == "succeeded" and item.paid_at is None for item in (bill_one, bill_two, partly_bill))
    fyle_books.pay(bill_one)
    fyle_books.pay(bill_two)
    fyle_books.pay(partly_bill, amount="10.00")
    before = await fyle_books.report_states()

    report = await run(database, fyle_books)

    assert report.checked == 6  # three real reports and the three of `books`
    assert (report.newly_paid, report.partially_paid) == (2, 1)
    assert set(report.paid_item_ids) == {bill_one.id, bill_two.id}
    async with database.tenant_session(fyle_books.books.tenant.id) as session:
        paid = set((await session.scalars(select(ExportItem.id).where(ExportItem.paid_at.is_not(None)))).all())
        audited = await session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == AUDIT_ITEM_PAID)
        )
    assert paid == {bill_one.id, bill_two.id}
    assert audited == 2
    assert (report.reports_marked, report.items_written_back, report.write_back_error) == (2, 2, None)
    after = await fyle_books.report_states()
    assert after[paid_one] == after[paid_two] == "PAID"
    assert after[partly] == before[partly] != "PAID"
    assert {entry["id"] for entry in sandbox_writes(fyle_books.sandbox, "reports_mark_paid")} == {paid_one, paid_two}
    assert (await reload(database, fyle_books, bill_one)).paid_written_back_at is not None
    assert (await reload(database, fyle_books, partly_bill)).paid_written_back_at is None


async def test_a_second_run_tells_the_source_nothing_again(database: Database, fyle_books: FyleBooks) -> None:
    [report_id] = await fyle_books.payable_reports(1)
    await fyle_books.add_expenses(database, [report_id])
    await fyle_books.export_everything(database)
    [bill] = await fyle_books.items_of(database, report_id)
    fyle_books.pay(bill)
    first = await run(database, fyle_books)
    assert (first.newly_paid, first.reports_marked, first.mark_paid_calls) == (1, 1, 1)
    calls = fyle_books.mark_paid_requests()
    assert calls == 1

    second = await run(database, fyle_books)

    assert (second.newly_paid, second.reports_marked, second.mark_paid_calls) == (0, 0, 0)
    assert second.checked == 3  # only the unpaid bills of `books` are asked about again
    assert fyle_books.mark_paid_requests() == calls


async def test_a_failing_source_leaves_the_payment_owed_and_a_rerun_completes_it(
    database: Database, fyle_books: FyleBooks, sandbox: RunningSandbox
) -> None:
    [report_id] = await fyle_books.payable_reports(1)
    await fyle_books.add_expenses(database, [report_id])
    await fyle_books.export_everything(database)
    [bill] = await fyle_books.items_of(database, report_id)
    fyle_books.pay(bill)
    with sandbox.control() as control:
        fault = {"system": "fyle", "operation": MARK_PAID_OPERATION, "mode": "error", "status": 503}
        control.post("/faults", json=fault).raise_for_status()

    failed = await run(database, fyle_books)

    assert failed.newly_paid == 1 and failed.write_back_error is not None
    assert (failed.reports_marked, failed.items_written_back) == (0, 0)
    owed = await reload(database, fyle_books, bill)
    assert owed.paid_at is not None and owed.paid_written_back_at is None
    assert (await fyle_books.report_states())[report_id] != "PAID"
    with sandbox.control() as control:
        control.delete("/faults").raise_for_status()

    again = await run(database, fyle_books)

    assert (again.newly_paid, again.reports_marked, again.items_written_back) == (0, 1, 1)
    assert (await fyle_books.report_states())[report_id] == "PAID"
    done = await reload(database, fyle_books, bill)
    assert done.paid_written_back_at is not None and done.paid_at == owed.paid_at


async def test_a_report_split_over_two_bills_is_paid_only_when_both_are(
    database: Database, fyle_books: FyleBooks
) -> None:
    [report_id] = await fyle_books.payable_reports(1)
    await fyle_books.add_expenses(database, [report_id], settings=PER_EXPENSE)
    await fyle_books.export_everything(database)
    first_bill, second_bill = await fyle_books.items_of(database, report_id)
    assert first_bill.remote_id != second_bill.remote_id
    fyle_books.pay(first_bill)

    half = await run(database, fyle_books)

    assert (half.newly_paid, half.waiting_reports, half.mark_paid_calls) == (1, 1, 0)
    assert (await fyle_books.report_states())[report_id] != "PAID"
    assert (await reload(database, fyle_books, first_bill)).paid_written_back_at is None
    fyle_books.pay(second_bill)

    whole = await run(database, fyle_books)

    assert (whole.newly_paid, whole.reports_marked, whole.items_written_back) == (1, 1, 2)
    assert (await fyle_books.report_states())[report_id] == "PAID"
    assert [entry["id"] for entry in sandbox_writes(fyle_books.sandbox, "reports_mark_paid")] == [report_id]


async def test_a_report_the_source_refuses_does_not_hold_back_the_others(
    database: Database, fyle_books: FyleBooks
) -> None:
    [good] = await fyle_books.payable_reports(1)
    [draft] = (await fyle_books.reports_in("DRAFT"))[:1]
    await fyle_books.add_expenses(database, [good, draft])
    await fyle_books.export_everything(database)
    [good_bill] = await fyle_books.items_of(database, good)
    [draft_bill] = await fyle_books.items_of(database, draft)
    fyle_books.pay(good_bill)
    fyle_books.pay(draft_bill)

    report = await run(database, fyle_books)

    assert report.newly_paid == 2 and report.write_back_error is not None
    assert report.reports_marked == 1 and report.mark_paid_calls == 3  # together, then each alone
    states = await fyle_books.report_states()
    assert (states[good], states[draft]) == ("PAID", "DRAFT")
    assert (await reload(database, fyle_books, good_bill)).paid_written_back_at is not None
    assert (await reload(database, fyle_books, draft_bill)).paid_written_back_at is None


async def test_without_a_source_payments_are_recorded_and_stay_owed(database: Database, fyle_books: FyleBooks) -> None:
    [report_id] = await fyle_books.payable_reports(1)
    await fyle_books.add_expenses(database, [report_id])
    await fyle_books.export_everything(database)
    [bill] = await fyle_books.items_of(database, report_id)
    fyle_books.pay(bill)

    report = await run(database, fyle_books, with_source=False)

    assert (report.newly_paid, report.mark_paid_calls) == (1, 0)
    assert fyle_books.mark_paid_requests() == 0
    recorded = await reload(database, fyle_books, bill)
    assert recorded.paid_at is not None and recorded.paid_written_back_at is None
    assert (await run(database, fyle_books)).items_written_back == 1


async def test_a_report_with_an_expense_never_exported_is_not_marked_paid(
    database: Database, fyle_books: FyleBooks
) -> None:
    """Issue 17, point 2: a paid bill holds two of the report's expenses; a third, exportable, is in no document yet.
    The report waits, and says why."""
    [report_id] = await fyle_books.payable_reports(1)
    await fyle_books.add_expenses(database, [report_id])
    await fyle_books.export_everything(database)
    async with database.tenant_session(fyle_books.books.tenant.id) as session:
        await store_expenses(
            session,
            fyle_books.books.tenant.id,
            fyle_books.books.source_id,
            [expense(id=f"tx-{report_id}-late", report_id=report_id, spent_on=date(2024, 3, 9))],
        )
    [bill] = await fyle_books.items_of(database, report_id)
    fyle_books.pay(bill)

    report = await run(database, fyle_books)

    assert (report.newly_paid, report.reports_marked, report.waiting_reports) == (1, 0, 1)
    assert report.waiting[report_id] == "1 expense in no document yet."
    assert (await fyle_books.report_states())[report_id] != "PAID"


async def test_a_report_whose_other_item_a_person_skipped_is_marked_paid_once_the_rest_is(
    database: Database, fyle_books: FyleBooks
) -> None:
    """Issue 17, point 2: an expense a person skipped is settled; it must not hold its report back for ever."""
    [report_id] = await fyle_books.payable_reports(1)
    await fyle_books.add_expenses(database, [report_id], settings=PER_EXPENSE)
    first, second = await fyle_books.items_of(database, report_id)
    async with database.tenant_session(fyle_books.books.tenant.id) as session:
        await session.execute(update(ExportItem).where(ExportItem.id == second.id).values(state="needs_action"))
        await skip_item(
            session, tenant_id=fyle_books.books.tenant.id, item_id=second.id, actor="support", reason="a duplicate"
        )
    await fyle_books.export_everything(database)
    fyle_books.pay(await reload(database, fyle_books, first))

    report = await run(database, fyle_books)

    assert (report.newly_paid, report.reports_marked, report.waiting_reports) == (1, 1, 0)
    assert (await fyle_books.report_states())[report_id] == "PAID"
