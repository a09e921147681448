"""The Xero connector against the simulator over real HTTP, beyond the conformance suite: a batch of every kind
found again and read back, payments checked and recorded once, a resend answered from the Idempotency-Key, receipts
attached once, imports (archived values inactive, tracking categories per organisation, since a cursor), and an
organisation the grant does not cover."""

import uuid
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import httpx
import pytest

from connectors.base import PaymentToRecord, RecordedPayment
from connectors.xero import XeroConnector
from core.domain import Attachment, Document, DocumentKind, DocumentLine, PaymentState, RemoteDocument
from core.errors import AuthError
from sandbox.xero.constants import MAIN_TENANT
from tests.connectors.xero.conftest import XeroWorld, bill_of

RECEIPT = Attachment(name="receipt.pdf", content_type="application/pdf", content=b"%PDF-1.4 a receipt")


def spend_of(world: XeroWorld, reference: str) -> Document:
    line = DocumentLine(
        amount=Decimal("42.00"), account=world.seeded.entertainment, description="Lunch", source_ids=("tx9",)
    )
    return Document(
        kind=DocumentKind.CHARGE_CARD_TRANSACTION,
        reference=reference,
        transaction_date=date.today(),
        currency="USD",
        base_currency="USD",
        lines=(line,),
        counterparty="Corner Coffee",
        account=world.seeded.card,
    )


def journal_of(world: XeroWorld, reference: str) -> Document:
    lines = (
        DocumentLine(amount=Decimal("10.00"), account=world.seeded.travel, source_ids=("tx5",)),
        DocumentLine(amount=Decimal("10.00"), account="800", debit=False, source_ids=("tx5",)),
    )
    return Document(
        kind=DocumentKind.JOURNAL_ENTRY,
        reference=reference,
        transaction_date=date.today(),
        currency="USD",
        base_currency="USD",
        lines=lines,
    )


async def test_every_kind_is_created_found_and_read_back(connector: XeroConnector, world: XeroWorld) -> None:
    documents = [bill_of(world.seeded, "sim-k-1"), spend_of(world, "sim-k-2"), journal_of(world, "sim-k-3")]
    created = await connector.push(documents)
    assert all(isinstance(outcome, RemoteDocument) for outcome in created), created
    found = await connector.find_by_references([(document.kind, document.reference) for document in documents])
    assert [item.remote_id for item in found if isinstance(item, RemoteDocument)] == [
        item.remote_id for item in created if isinstance(item, RemoteDocument)
    ]
    since = date.today() - timedelta(days=1)
    bills = [document async for document in connector.booked_documents(DocumentKind.BILL, since=since)]
    [booked] = [document for document in bills if document.reference == "sim-k-1"]
    assert sum(line.amount for line in booked.lines) == Decimal("150.75")
    assert booked.lines[0].trace.startswith("tx1")
    spent = [
        document async for document in connector.booked_documents(DocumentKind.CHARGE_CARD_TRANSACTION, since=since)
    ]
    assert [document.reference for document in spent] == ["sim-k-2"]
    journals = [document async for document in connector.booked_documents(DocumentKind.JOURNAL_ENTRY, since=since)]
    assert [[line.amount for line in document.lines] for document in journals] == [[Decimal("10.00")]]


async def test_a_resent_batch_is_answered_from_its_key_not_created_again(
    connector: XeroConnector, world: XeroWorld
) -> None:
    documents = [bill_of(world.seeded, "sim-r-1"), bill_of(world.seeded, "sim-r-2")]
    [key, _] = connector.request_keys(documents)
    first = await connector.push(documents)
    again = await connector.push([replace(document, request_key=key) for document in documents])
    assert [outcome.remote_id for outcome in again if isinstance(outcome, RemoteDocument)] == [
        outcome.remote_id for outcome in first if isinstance(outcome, RemoteDocument)
    ]
    rows = world.get("/Invoices", InvoiceNumbers="sim-r-1,sim-r-2")["Invoices"]
    assert len(rows) == 2


async def test_payments_are_read_and_recorded_once(connector: XeroConnector, world: XeroWorld) -> None:
    [created] = await connector.push([bill_of(world.seeded, "sim-p-1")])
    assert isinstance(created, RemoteDocument)
    [before] = await connector.payment_status(DocumentKind.BILL, [created.remote_id])
    assert before.state is PaymentState.UNPAID
    paid = PaymentToRecord(DocumentKind.BILL, created.remote_id, "sim-p-1-paid", date.today(), world.seeded.bank)
    [first] = await connector.record_payments([paid])
    [second] = await connector.record_payments([paid])
    assert isinstance(first, RecordedPayment) and first.amount == Decimal("150.75"), first
    assert isinstance(second, RecordedPayment) and second.amount == 0
    assert second.payment is not None and first.payment is not None
    assert second.payment.remote_id == first.payment.remote_id
    [after] = await connector.payment_status(DocumentKind.BILL, [created.remote_id])
    assert after.state is PaymentState.PAID and after.paid_amount == Decimal("150.75")


async def test_receipts_are_attached_once(connector: XeroConnector, world: XeroWorld) -> None:
    document = bill_of(world.seeded, "sim-a-1", attachments=(RECEIPT,))
    [created] = await connector.push([document])
    assert isinstance(created, RemoteDocument)
    await connector.attach_to_adopted([(document, replace(created, adopted=True))])
    listed = world.get(f"/Invoices/{created.remote_id}/Attachments")["Attachments"]
    assert [row["FileName"] for row in listed] == ["receipt.pdf"]


async def test_imports_mark_archived_values_and_name_tracking_categories(connector: XeroConnector) -> None:
    accounts = [value async for value in connector.import_dimensions("account", since=None)]
    contacts = [value async for value in connector.import_dimensions("contact", since=None)]
    assert any(not value.active for value in accounts) and any(value.active for value in accounts)
    assert {"Old Vendor Ltd", "Closed Cafe"} <= {value.name for value in contacts if not value.active}
    types = await connector.attribute_types()
    assert {"tracking:Region", "tracking:Department"} <= set(types)
    regions = [value async for value in connector.import_dimensions("tracking:Region", since=None)]
    assert {value.name for value in regions} >= {"North", "South", "East", "West"}
    later = [value async for value in connector.import_dimensions("contact", since=datetime.now(UTC) + timedelta(1))]
    assert len(later) < len(contacts)


async def test_an_organisation_the_grant_does_not_cover_is_an_auth_error(world: XeroWorld) -> None:
    connector = await world.open()
    stranger = XeroConnector(replace(connector.context, settings={"tenant_id": str(uuid.uuid4())}))
    async with connector, stranger:
        with pytest.raises(AuthError):
            await stranger.check()


async def test_an_import_since_a_cursor_reads_only_what_changed(connector: XeroConnector, world: XeroWorld) -> None:
    everyone = [value async for value in connector.import_dimensions("contact", since=None)]
    cursor = max(value.updated_at for value in everyone if value.updated_at is not None) + timedelta(seconds=1)
    with world.sandbox.control() as clock:  # the changes come after the cursor, whose header counts whole seconds
        clock.put("/clock", json={"advance_seconds": 5}).raise_for_status()
    async with httpx.AsyncClient(base_url=f"{world.sandbox.url}/_sandbox/xero", timeout=10) as control:
        added = await control.post(f"/organisations/{MAIN_TENANT}/dimensions/Contacts", json={"name": "New Supplier"})
        added.raise_for_status()
        archived = await control.patch(
            f"/organisations/{MAIN_TENANT}/dimensions/Contacts/{world.seeded.supplier}", json={"status": "ARCHIVED"}
        )
        archived.raise_for_status()
    changed = [value async for value in connector.import_dimensions("contact", since=cursor)]
    assert {(value.name, value.active) for value in changed} >= {("New Supplier", True)}
    assert (world.seeded.supplier, False) in {(value.remote_id, value.active) for value in changed}
    assert len(changed) < len(everyone)


async def test_a_line_names_its_tracking_option_and_a_foreign_bill_its_rate(
    connector: XeroConnector, world: XeroWorld
) -> None:
    regions = [value async for value in connector.import_dimensions("tracking:Region", since=None)]
    north = next(value for value in regions if value.name == "North")
    line = DocumentLine(
        amount=Decimal("100.00"),
        account=world.seeded.travel,
        dimensions={"tracking:Region": north.remote_id},
        source_ids=("tx3",),
        base_amount=Decimal("110.00"),
    )
    document = bill_of(world.seeded, "sim-t-1", currency="EUR", lines=(line,))
    [created] = await connector.push([document])
    assert isinstance(created, RemoteDocument), created
    [stored] = world.get(f"/Invoices/{created.remote_id}")["Invoices"]
    assert stored["CurrencyCode"] == "EUR" and Decimal(str(stored["CurrencyRate"])) == Decimal("0.909091")
    assert stored["LineItems"][0]["Tracking"][0]["Option"] == "North"
