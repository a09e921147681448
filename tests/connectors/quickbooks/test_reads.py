"""Reading QuickBooks back: dimensions (full and incremental), payment status, payments recorded once, the books."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import httpx

from connectors.base import PaymentToRecord, RecordedPayment
from connectors.quickbooks import QuickBooksConnector
from core.domain import DocumentKind, PaymentState, RemoteDocument
from core.errors import LedgerlineError, ValidationError
from sandbox.quickbooks.constants import MAIN_REALM
from tests.connectors.quickbooks.conftest import QboWorld, bill_of

MINOR = {"minorversion": "75"}


async def api(world: QboWorld, connector: QuickBooksConnector) -> httpx.Client:
    token = (await world.stored_tokens())["access_token"]
    return httpx.Client(
        base_url=f"{world.sandbox.url}/quickbooks/v3/company/{MAIN_REALM}",
        headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
        params=MINOR,
        timeout=10,
    )


async def test_every_dimension_type_imports_with_inactive_values_and_emails(
    connector: QuickBooksConnector, world: QboWorld
) -> None:
    with world.control() as control:
        counts = control.get(f"/realms/{MAIN_REALM}/counts").json()
    for attribute_type, entity in (("vendor", "Vendor"), ("employee", "Employee"), ("tax_code", "TaxCode")):
        values = [value async for value in connector.import_dimensions(attribute_type, since=None)]
        assert len(values) == counts[entity]
    employees = [value async for value in connector.import_dimensions("employee", since=None)]
    assert all(value.detail.get("email", "").count("@") == 1 for value in employees)
    accounts = [value async for value in connector.import_dimensions("account", since=None)]
    travel = next(value for value in accounts if value.remote_id == world.seeded.travel)
    assert (travel.name, travel.code, travel.detail["account_type"]) == ("Travel", "6400", "Expense")


async def test_an_incremental_import_reads_only_what_changed_including_deactivation(
    connector: QuickBooksConnector, world: QboWorld
) -> None:
    since = datetime.now(UTC) - timedelta(minutes=1)
    with await api(world, connector) as client:
        created = client.post("/vendor", json={"DisplayName": "New Cab Co"}).json()["Vendor"]
        vendor = client.get(f"/vendor/{world.seeded.vendor}").json()["Vendor"]
        client.post(
            "/vendor", json={"Id": vendor["Id"], "SyncToken": vendor["SyncToken"], "sparse": True, "Active": False}
        )
    changed = {value.remote_id: value async for value in connector.import_dimensions("vendor", since=since)}
    assert set(changed) == {created["Id"], world.seeded.vendor}
    assert changed[world.seeded.vendor].active is False and changed[created["Id"]].name == "New Cab Co"


async def test_an_old_cursor_is_read_by_query_not_change_data_capture(
    connector: QuickBooksConnector, world: QboWorld
) -> None:
    """`cdc` answers only 30 days back: an older cursor still imports (everything changed since, here all)."""
    since = datetime.now(UTC) - timedelta(days=200)
    values = [value async for value in connector.import_dimensions("class", since=since)]
    with world.control() as control:
        assert len(values) == control.get(f"/realms/{MAIN_REALM}/counts").json()["Class"]


async def test_an_unknown_dimension_type_is_refused_by_name(connector: QuickBooksConnector) -> None:
    try:
        [value async for value in connector.import_dimensions("expense_type", since=None)]
    except ValidationError as refused:
        assert "expense_type" in refused.message
    else:
        raise AssertionError("QuickBooks has no expense types")


async def test_payment_status_follows_payments_made_in_quickbooks(
    connector: QuickBooksConnector, world: QboWorld
) -> None:
    outcomes = await connector.push([bill_of(world.seeded, f"ll-pay-{n}") for n in range(3)])
    ids = [outcome.remote_id for outcome in outcomes if isinstance(outcome, RemoteDocument)]
    paid_on = date.today() - timedelta(days=1)
    with world.control() as control:
        control.post(
            f"/realms/{MAIN_REALM}/bills/{ids[0]}/paid", json={"paid_on": paid_on.isoformat()}
        ).raise_for_status()
        control.post(f"/realms/{MAIN_REALM}/bills/{ids[1]}/paid", json={"amount": "50.00"}).raise_for_status()
    statuses = {status.remote_id: status for status in await connector.payment_status(DocumentKind.BILL, ids)}
    assert statuses[ids[0]].state is PaymentState.PAID and statuses[ids[0]].paid_on == paid_on
    assert statuses[ids[0]].paid_amount == Decimal("150.75")
    assert statuses[ids[1]].state is PaymentState.PARTIALLY_PAID and statuses[ids[1]].paid_amount == Decimal("50.00")
    assert statuses[ids[2]].state is PaymentState.UNPAID and statuses[ids[2]].paid_on is None


async def test_a_payment_made_in_the_source_is_recorded_once_for_what_is_still_owed(
    connector: QuickBooksConnector, world: QboWorld
) -> None:
    [bill] = await connector.push([bill_of(world.seeded, "ll-reimbursed")])
    assert isinstance(bill, RemoteDocument)
    payment = PaymentToRecord(
        kind=DocumentKind.BILL,
        remote_id=bill.remote_id,
        reference="ll-reimbursed-paid",
        paid_on=date.today(),
        account=world.seeded.checking,
    )
    [first] = await connector.record_payments([payment])
    [again] = await connector.record_payments([payment])
    assert isinstance(first, RecordedPayment) and first.amount == Decimal("150.75") and first.payment is not None
    assert isinstance(again, RecordedPayment) and again.amount == 0
    assert again.payment is not None and again.payment.adopted and again.payment.remote_id == first.payment.remote_id
    assert len(world.documents("BillPayment", "ll-reimbursed-paid")) == 1
    [stored] = world.documents("Bill", "ll-reimbursed")
    assert stored["Balance"] == 0


async def test_a_payment_against_a_bill_quickbooks_lacks_fails_alone(
    connector: QuickBooksConnector, world: QboWorld
) -> None:
    [bill] = await connector.push([bill_of(world.seeded, "ll-one-of-two")])
    assert isinstance(bill, RemoteDocument)
    payments = [
        PaymentToRecord(DocumentKind.BILL, "987654", "ll-ghost-paid", date.today(), world.seeded.checking),
        PaymentToRecord(DocumentKind.BILL, bill.remote_id, "ll-one-of-two-paid", date.today(), world.seeded.checking),
    ]
    missing, paid = await connector.record_payments(payments)
    assert isinstance(missing, LedgerlineError) and "987654" in missing.message
    assert isinstance(paid, RecordedPayment) and paid.amount == Decimal("150.75")


async def test_bills_and_card_purchases_read_back_with_their_lines_and_references(
    connector: QuickBooksConnector, world: QboWorld
) -> None:
    since = date.today() - timedelta(days=1)
    await connector.push([bill_of(world.seeded, "ll-book-1"), bill_of(world.seeded, "ll-book-2")])
    booked = {
        document.reference: document async for document in connector.booked_documents(DocumentKind.BILL, since=since)
    }
    assert {"ll-book-1", "ll-book-2"} <= set(booked)
    lines = booked["ll-book-1"].lines
    assert [line.amount for line in lines] == [Decimal("120.5"), Decimal("30.25")]
    assert lines[0].trace.split()[0] == "tx1" and booked["ll-book-1"].currency == "USD"
    try:
        [document async for document in connector.booked_documents(DocumentKind.JOURNAL_ENTRY, since=since)]
    except ValidationError as refused:
        assert "journal_entry" in refused.message
    else:
        raise AssertionError("journals are not read back")
