"""Source payments against both simulators: a report reimbursed in Fyle becomes exactly one payment in Intacct."""

import asyncio
from collections.abc import AsyncIterator
from datetime import date
from decimal import Decimal
from functools import partial
from typing import Any

import pytest
from sqlalchemy import func, select, update

from connectors.base import DestinationConnector, PaymentToRecord, RecordedPayment
from connectors.factory import open_connector
from core.crypto import CredentialVault
from core.db import Database
from core.domain import DocumentKind
from core.errors import RateLimited
from core.models import AuditEvent, Connection, ExportItem, SyncRun
from core.settings import Settings
from sync.constants import AUDIT_ITEM_SOURCE_PAYMENT_RECORDED, RECORD_SOURCE_PAYMENTS_SETTING
from sync.payment_engine import sync_payments
from sync.queue import Queue
from sync.run_phases import RunContext, payments_phase
from sync.source_payments import SourcePaymentReport, SourcePaymentSettings, record_source_payments
from tests.sandbox_fixtures import RunningSandbox
from tests.sync.conftest import Books
from tests.sync.payment_books import (
    EXPENSE_REPORT_SETTINGS,
    FyleBooks,
    connect_fyle,
    fyle_and_intacct_settings,
)

BANK = "BOA-01"
"""A checking account of the seeded Intacct company."""
PAYMENT_CREATE = "create:APPYMT"


@pytest.fixture
async def fyle_books(
    database: Database, settings: Settings, sandbox: RunningSandbox, books: Books
) -> AsyncIterator[FyleBooks]:
    async with connect_fyle(database, settings, sandbox, books) as connected:
        yield connected


async def record(
    database: Database,
    world: FyleBooks,
    *,
    connector: DestinationConnector | None = None,
    method: str | None = None,
) -> SourcePaymentReport:
    books = world.books
    return await record_source_payments(
        database,
        connector or books.connector,
        tenant_id=books.tenant.id,
        destination_connection_id=books.destination_id,
        settings=SourcePaymentSettings(BANK, method),
        actor="test:source-payments",
    )


async def reload(database: Database, world: FyleBooks, item: ExportItem) -> ExportItem:
    async with database.tenant_session(world.books.tenant.id) as session:
        found = await session.get(ExportItem, item.id)
        assert found is not None
        return found


async def reimbursed_bill(database: Database, world: FyleBooks) -> tuple[str, ExportItem]:
    """One Fyle report exported as a bill, then reimbursed (PAID) in Fyle."""
    [report_id] = await world.payable_reports(1)
    await world.add_expenses(database, [report_id])
    await world.export_everything(database)
    [bill] = await world.items_of(database, report_id)
    assert bill.state == "succeeded" and bill.paid_at is None
    await world.reimburse(database, report_id)
    return report_id, bill


def bill_of(world: FyleBooks, item: ExportItem) -> dict[str, Any]:
    [bill] = [row for row in world.documents("APBILL") if row["RECORDNO"] == item.remote_id]
    return bill


def payments_of(world: FyleBooks, item: ExportItem, object_name: str = "APPYMT") -> list[dict[str, Any]]:
    return [
        payment
        for payment in world.documents(object_name)
        if any(line.get("RECORDKEY", line.get("key")) == item.remote_id for line in payment["lines"])
    ]


async def test_a_reimbursed_bill_is_paid_once_in_intacct(database: Database, fyle_books: FyleBooks) -> None:
    _, bill = await reimbursed_bill(database, fyle_books)
    owed = Decimal(bill_of(fyle_books, bill)["TOTALDUE"])
    assert owed > 0

    first = await record(database, fyle_books)

    assert (first.owed, first.recorded, first.adopted, first.failed, first.amount) == (1, 1, 0, 0, owed)
    [payment] = payments_of(fyle_books, bill)
    paid_bill = bill_of(fyle_books, bill)
    assert (payment["FINANCIALENTITY"], payment["PAYMENTMETHOD"]) == (BANK, "Cash")
    assert (payment["VENDORID"], Decimal(payment["TOTALENTERED"])) == (paid_bill["VENDORID"], owed)
    assert (paid_bill["STATE"], Decimal(paid_bill["TOTALDUE"])) == ("Paid", 0)
    done = await reload(database, fyle_books, bill)
    assert done.paid_at is not None and done.paid_written_back_at is not None
    async with database.tenant_session(fyle_books.books.tenant.id) as session:
        audited = (
            await session.scalars(
                select(AuditEvent.data).where(AuditEvent.action == AUDIT_ITEM_SOURCE_PAYMENT_RECORDED)
            )
        ).all()
    assert [(event["payment_id"], event["amount"]) for event in audited] == [(payment["RECORDNO"], f"{owed:.2f}")]

    second = await record(database, fyle_books)

    assert (second.owed, second.recorded) == (0, 0)
    assert len(payments_of(fyle_books, bill)) == 1
    assert len(fyle_books.documents("APPYMT")) == 1  # the unreimbursed bills of `books` were left alone
    settled = await sync_payments(
        database,
        fyle_books.books.connector,
        fyle_books.source,
        tenant_id=fyle_books.books.tenant.id,
        destination_connection_id=fyle_books.books.destination_id,
        actor="test:payments",
    )
    assert (settled.newly_paid, settled.mark_paid_calls) == (0, 0)  # the source already knows: nothing to tell it


async def test_a_reimbursed_expense_report_gets_one_reimbursement_request(
    database: Database, fyle_books: FyleBooks
) -> None:
    [report_id] = await fyle_books.payable_reports(1)
    await fyle_books.map_for_expense_reports(database)
    await fyle_books.add_expenses(database, [report_id], settings=EXPENSE_REPORT_SETTINGS)
    await fyle_books.export_everything(database)
    [item] = await fyle_books.items_of(database, report_id)
    assert (item.document_type, item.state) == ("expense_report", "succeeded")
    await fyle_books.reimburse(database, report_id, "PAYMENT_PROCESSING")

    first = await record(database, fyle_books, method="EFT")
    again = await record(database, fyle_books, method="EFT")

    assert (first.recorded, first.failed, again.owed) == (1, 0, 0)
    [request] = payments_of(fyle_books, item, "EPPAYMENT")
    [report] = [row for row in fyle_books.documents("EEXPENSES") if row["RECORDNO"] == item.remote_id]
    assert (request["EMPLOYEEID"], request["FINANCIALENTITY"], request["PAYMENTMETHOD"]) == ("1004", BANK, "EFT")
    assert Decimal(request["TOTALENTERED"]) == Decimal(report["TOTALPAID"]) == first.amount > 0
    assert (report["STATE"], Decimal(report["TOTALDUE"])) == ("Paid", 0)
    assert len(fyle_books.documents("EPPAYMENT")) == 1


async def test_an_unreimbursed_report_is_not_paid(database: Database, fyle_books: FyleBooks) -> None:
    [waiting, approved] = await fyle_books.payable_reports(2)
    await fyle_books.add_expenses(database, [waiting, approved])
    await fyle_books.export_everything(database)
    await fyle_books.reimburse(database, waiting, "PAYMENT_PENDING")  # approved for payment, not yet reimbursed

    report = await record(database, fyle_books)

    assert (report.owed, report.recorded) == (0, 0)
    assert fyle_books.documents("APPYMT") == []


async def run_payments_phase(
    database: Database, settings: Settings, sandbox: RunningSandbox, world: FyleBooks
) -> dict[str, Any]:
    """The payments phase of a sync run of `books`' destination, as a worker runs it; the run's counts."""
    books = world.books
    queue = await Queue.connect(settings.redis_url, settings.queue_name)
    context = RunContext(
        database=database,
        queue=queue,
        settings=fyle_and_intacct_settings(settings, sandbox),
        vault=CredentialVault(settings.vault_key_list()),
        run=SyncRun(tenant_id=books.tenant.id, connection_id=books.destination_id),
        actor="test:run",
        counts={},
    )
    try:
        assert await payments_phase(context) is None
    finally:
        await context.aclose()
        await queue.close()
    return context.counts


async def test_a_run_records_source_payments_only_when_the_connection_opts_in(
    database: Database, settings: Settings, sandbox: RunningSandbox, fyle_books: FyleBooks
) -> None:
    _, bill = await reimbursed_bill(database, fyle_books)

    without = await run_payments_phase(database, settings, sandbox, fyle_books)

    assert "source_payments" not in without
    assert fyle_books.documents("APPYMT") == []
    assert (await reload(database, fyle_books, bill)).paid_at is None
    async with database.tenant_session(fyle_books.books.tenant.id) as session:
        await session.execute(
            update(Connection)
            .where(Connection.id == fyle_books.books.destination_id)
            .values(settings={RECORD_SOURCE_PAYMENTS_SETTING: {"account": BANK}})
        )

    opted_in = await run_payments_phase(database, settings, sandbox, fyle_books)

    assert (opted_in["source_payments"]["recorded"], opted_in["source_payments"]["failed"]) == (1, 0)
    assert len(payments_of(fyle_books, bill)) == 1
    assert (await reload(database, fyle_books, bill)).paid_written_back_at is not None


async def test_a_refused_payment_stays_owed_with_its_reason_and_a_later_run_pays_it(
    database: Database, fyle_books: FyleBooks, sandbox: RunningSandbox
) -> None:
    _, bill = await reimbursed_bill(database, fyle_books)
    with sandbox.control() as control:  # today's payment date falls in a closed period
        control.put("/intacct/periods", json={"open_from": "2999-01-01"}).raise_for_status()

    refused = await record(database, fyle_books)

    assert (refused.owed, refused.recorded, refused.failed) == (1, 0, 1)
    [(reason, count)] = refused.errors.items()
    assert "been closed" in reason and count == 1
    assert fyle_books.documents("APPYMT") == []
    assert (await reload(database, fyle_books, bill)).paid_at is None
    with sandbox.control() as control:
        control.put("/intacct/periods", json={"open_from": "2000-01-01"}).raise_for_status()

    later = await record(database, fyle_books)

    assert (later.recorded, later.failed) == (1, 0)
    assert len(payments_of(fyle_books, bill)) == 1


async def test_a_lost_answer_is_adopted_not_paid_twice(
    database: Database, fyle_books: FyleBooks, sandbox: RunningSandbox
) -> None:
    _, bill = await reimbursed_bill(database, fyle_books)
    with sandbox.control() as control:  # Intacct records the payment, then the answer is lost
        fault = {"system": "intacct", "operation": PAYMENT_CREATE, "mode": "commit_then_fail", "times": 1}
        control.post("/faults", json=fault).raise_for_status()

    report = await record(database, fyle_books)

    assert (report.recorded, report.adopted, report.failed) == (0, 1, 0)
    assert len(payments_of(fyle_books, bill)) == 1
    assert (await reload(database, fyle_books, bill)).paid_at is not None


async def test_a_rate_limited_payment_call_makes_the_run_wait_instead_of_leaving_the_payment_to_a_later_run(
    database: Database, fyle_books: FyleBooks, sandbox: RunningSandbox
) -> None:
    """Under a busy allowance (Xero's 60 a minute) the payments phase meets a rate limit: the run must wait and repeat
    the phase, not finish with the reimbursed report owed until some later run that may never be asked for."""
    _, bill = await reimbursed_bill(database, fyle_books)
    with sandbox.control() as control:
        fault = {"system": "intacct", "operation": PAYMENT_CREATE, "mode": "rate_limit", "retry_after": 1, "times": 1}
        control.post("/faults", json=fault).raise_for_status()

    with pytest.raises(RateLimited):
        await record(database, fyle_books)
    assert (await reload(database, fyle_books, bill)).paid_at is None

    repeated = await record(database, fyle_books)  # the phase again, once the allowance is back
    assert (repeated.recorded, repeated.failed) == (1, 0)
    assert len(payments_of(fyle_books, bill)) == 1


async def test_a_payment_made_before_a_crash_is_not_made_again(database: Database, fyle_books: FyleBooks) -> None:
    """The payment reached Intacct but the worker died before recording it: the next run adopts, never pays."""
    _, bill = await reimbursed_bill(database, fyle_books)
    assert bill.remote_id is not None
    [made] = await fyle_books.books.connector.record_payments(
        [PaymentToRecord(DocumentKind.BILL, bill.remote_id, f"{bill.idempotency_key}-paid", date.today(), BANK)]
    )
    assert isinstance(made, RecordedPayment) and made.amount > 0

    report = await record(database, fyle_books)

    assert (report.owed, report.recorded, report.nothing_due, report.failed) == (1, 0, 1, 0)
    assert len(payments_of(fyle_books, bill)) == 1
    done = await reload(database, fyle_books, bill)
    assert done.paid_at is not None and done.paid_written_back_at is not None


async def test_a_replayed_reference_is_refused_and_adopted(
    database: Database, settings: Settings, sandbox: RunningSandbox, fyle_books: FyleBooks
) -> None:
    """Two workers read the bill as owed; the second payment's control id is refused as used, and adopted."""
    _, bill = await reimbursed_bill(database, fyle_books)
    with sandbox.control() as control:  # both read the amount due before either payment lands
        fault = {"system": "intacct", "operation": PAYMENT_CREATE, "mode": "latency", "latency_ms": 1000}
        control.post("/faults", json=fault).raise_for_status()
    other = await open_connector(
        database=database,
        vault=CredentialVault(settings.vault_key_list()),
        settings=fyle_and_intacct_settings(settings, sandbox),
        tenant_id=fyle_books.books.tenant.id,
        connection_id=fyle_books.books.destination_id,
    )
    assert isinstance(other, DestinationConnector)
    async with other:
        reports = await asyncio.gather(record(database, fyle_books), record(database, fyle_books, connector=other))

    assert len(payments_of(fyle_books, bill)) == 1
    assert [report.failed for report in reports] == [0, 0]
    assert sum(report.recorded for report in reports) + sum(report.adopted for report in reports) == 1
    with sandbox.control() as control:
        log = control.get("/intacct/control_ids", params={"limit": 1000}).json()["data"]
    payments = [entry for entry in log if any(f["operation"] == PAYMENT_CREATE for f in entry["functions"])]
    refused = [entry for entry in log if entry["outcome"] == "duplicate_refused"]
    # The second worker's request carried the first one's control id (both derive it from the payment's reference),
    # and was refused as a whole.
    assert len(payments) == len(refused) == 1 and refused[0]["control_id"] == payments[0]["control_id"]
    async with database.tenant_session(fyle_books.books.tenant.id) as session:
        audited = await session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == AUDIT_ITEM_SOURCE_PAYMENT_RECORDED)
        )
    assert audited == 1


async def test_a_destination_that_cannot_record_payments_is_noted_not_crashed(
    database: Database, fyle_books: FyleBooks, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, bill = await reimbursed_bill(database, fyle_books)
    connector = fyle_books.books.connector  # as a connector without the hook answers: the base class's default
    monkeypatch.setattr(connector, "record_payments", partial(DestinationConnector.record_payments, connector))

    report = await record(database, fyle_books)

    assert report.unsupported is not None and "cannot record payments" in report.unsupported
    assert (report.recorded, report.failed) == (0, 0)
    assert fyle_books.documents("APPYMT") == []
    assert (await reload(database, fyle_books, bill)).paid_at is None


def test_the_setting_is_read_strictly() -> None:
    assert SourcePaymentSettings.of({}) is None
    assert SourcePaymentSettings.of({RECORD_SOURCE_PAYMENTS_SETTING: {"account": " BOA-01 "}}) == SourcePaymentSettings(
        "BOA-01"
    )
    for wrong in ("BOA-01", {"account": ""}, {"account": "BOA-01", "method": "EFT"}, {"payment_method": "EFT"}):
        with pytest.raises(ValueError, match=RECORD_SOURCE_PAYMENTS_SETTING):
            SourcePaymentSettings.of({RECORD_SOURCE_PAYMENTS_SETTING: wrong})
