"""Creating documents in QuickBooks exactly once: batches under a `requestid`, DocNumber lookups, faults combined."""

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import httpx
import pytest

from connectors.quickbooks import QuickBooksConnector
from connectors.quickbooks.references import doc_number
from core.domain import Attachment, Document, DocumentKind, DocumentLine, RemoteDocument
from core.errors import DestinationRejected, LedgerlineError, OutcomeUnknown, PeriodClosed, Transient, ValidationError
from sandbox.quickbooks.constants import MAIN_REALM
from tests.connectors.conformance import inject
from tests.connectors.quickbooks.conftest import BATCH_OPERATION, QboWorld, Seeded, bill_of

RECEIPT = Attachment(name="receipt.pdf", content_type="application/pdf", content=b"%PDF-1.4 receipt bytes")


def card_purchase(seeded: Seeded, reference: str) -> Document:
    line = DocumentLine(amount=Decimal("42.10"), account=seeded.meals, description="Lunch", source_ids=("tx9",))
    return Document(
        kind=DocumentKind.CHARGE_CARD_TRANSACTION,
        reference=reference,
        transaction_date=date.today(),
        currency="USD",
        lines=(line,),
        account=seeded.card,
        memo="Card lunch",
    )


def journal(seeded: Seeded, reference: str) -> Document:
    expense = DocumentLine(
        amount=Decimal("80.00"),
        account=seeded.travel,
        description="Taxi",
        source_ids=("tx7",),
        dimensions={"vendor": seeded.vendor, "department": seeded.department},
    )
    return Document(
        kind=DocumentKind.JOURNAL_ENTRY,
        reference=reference,
        transaction_date=date.today(),
        currency="USD",
        lines=(expense, replace(expense, account=seeded.payable, debit=False)),
    )


def batch_calls(world: QboWorld) -> int:
    with world.sandbox.control() as control:
        answer = control.get("/requests", params={"system": "quickbooks", "operation": BATCH_OPERATION, "limit": 1})
    count: int = answer.json()["count"]
    return count


def created(outcomes: list[RemoteDocument | LedgerlineError]) -> list[RemoteDocument]:
    assert all(isinstance(outcome, RemoteDocument) for outcome in outcomes), outcomes
    return [outcome for outcome in outcomes if isinstance(outcome, RemoteDocument)]


async def test_a_bill_a_card_purchase_and_a_journal_go_in_one_call_and_arrive_as_sent(
    connector: QuickBooksConnector, world: QboWorld
) -> None:
    seeded = world.seeded
    documents = [
        bill_of(seeded, "ll-kinds-bill"),
        card_purchase(seeded, "ll-kinds-card"),
        journal(seeded, "ll-kinds-je"),
    ]
    before = batch_calls(world)
    bill, purchase, entry = created(await connector.push(documents))
    assert batch_calls(world) == before + 1
    [stored_bill] = world.documents("Bill", "ll-kinds-bill")
    assert stored_bill["Id"] == bill.remote_id and stored_bill["VendorRef"]["value"] == seeded.vendor
    assert [line["Amount"] for line in stored_bill["Line"]] == [120.5, 30.25]
    assert stored_bill["Line"][0]["Description"].startswith("tx1 ")  # the line names its source expense
    assert stored_bill["Line"][1]["AccountBasedExpenseLineDetail"]["ClassRef"]["value"] == seeded.klass
    assert stored_bill["PrivateNote"].startswith("Ledgerline ll-kinds-bill")
    [stored_purchase] = world.documents("Purchase", "ll-kinds-card")
    assert stored_purchase["Id"] == purchase.remote_id
    assert (stored_purchase["PaymentType"], stored_purchase["AccountRef"]["value"]) == ("CreditCard", seeded.card)
    [stored_entry] = world.documents("JournalEntry", "ll-kinds-je")
    assert stored_entry["Id"] == entry.remote_id
    detail = stored_entry["Line"][1]["JournalEntryLineDetail"]
    assert detail["PostingType"] == "Credit" and detail["Entity"]["EntityRef"]["value"] == seeded.vendor
    assert bill.url is not None and bill.remote_id in bill.url


def test_doc_numbers_fit_quickbooks_and_differ_per_reference() -> None:
    numbers = {doc_number(f"ll-{n:032x}") for n in range(2000)}
    assert len(numbers) == 2000
    assert all(len(number) <= 21 for number in numbers)
    assert doc_number("ll-abc") == doc_number("ll-abc")


async def test_commit_then_fail_of_a_whole_batch_adopts_every_document_once(
    connector: QuickBooksConnector, world: QboWorld
) -> None:
    documents = [bill_of(world.seeded, f"ll-ctf-{n}") for n in range(5)]
    inject(world.sandbox, system="quickbooks", operation=BATCH_OPERATION, mode="commit_then_fail", status=502, times=1)
    outcomes = created(await connector.push(documents))
    assert all(outcome.adopted for outcome in outcomes)
    assert [len(world.documents("Bill", f"ll-ctf-{n}")) for n in range(5)] == [1] * 5


async def test_a_lost_answer_whose_lookups_also_fail_stays_unknown_and_the_resend_creates_nothing_new(
    connector: QuickBooksConnector, world: QboWorld
) -> None:
    """Faults on the write and on the lookups after it: nothing is proven, so the documents stay unknown; the resend
    under the same request key is answered from the first request, and no second bill appears."""
    documents = [bill_of(world.seeded, f"ll-lost-{n}") for n in range(3)]
    keys = connector.request_keys(documents)
    inject(world.sandbox, system="quickbooks", operation=BATCH_OPERATION, mode="commit_then_fail", status=504, times=1)
    inject(world.sandbox, system="quickbooks", operation=BATCH_OPERATION, mode="error", status=503, times=5)
    outcomes = await connector.push(documents)
    assert all(isinstance(outcome, OutcomeUnknown) for outcome in outcomes), outcomes
    with world.sandbox.control() as control:
        control.delete("/faults").raise_for_status()
    resent = [replace(document, request_key=key) for document, key in zip(documents, keys, strict=True)]
    again = created(await connector.push(resent))
    assert [len(world.documents("Bill", f"ll-lost-{n}")) for n in range(3)] == [1] * 3
    assert [outcome.remote_id for outcome in again] == [
        world.documents("Bill", f"ll-lost-{n}")[0]["Id"] for n in range(3)
    ]


async def test_a_resend_of_part_of_a_batch_under_its_key_is_answered_from_the_first_request(
    connector: QuickBooksConnector, world: QboWorld
) -> None:
    documents = [bill_of(world.seeded, f"ll-part-{n}") for n in range(3)]
    first = created(await connector.push(documents))
    key = connector.request_keys(documents)[0]
    [again] = created(await connector.push([replace(documents[1], request_key=key)]))
    assert again.remote_id == first[1].remote_id
    assert len(world.documents("Bill", "ll-part-1")) == 1


async def test_one_refused_document_leaves_the_others_and_is_refused_for_good(
    connector: QuickBooksConnector, world: QboWorld
) -> None:
    seeded = world.seeded
    outcomes = await connector.push(
        [bill_of(seeded, "ll-mix-1"), bill_of(seeded, "ll-mix-2", counterparty="999999"), bill_of(seeded, "ll-mix-3")]
    )
    assert isinstance(outcomes[0], RemoteDocument) and isinstance(outcomes[2], RemoteDocument)
    refused = outcomes[1]
    assert isinstance(refused, DestinationRejected) and not refused.retriable
    assert refused.provider_code == "2500" and "999999" in refused.message


async def test_a_closed_period_names_the_refused_day_and_the_first_open_one(
    connector: QuickBooksConnector, world: QboWorld
) -> None:
    closing = date.today() - timedelta(days=10)
    with world.control() as control:
        control.put(f"/realms/{MAIN_REALM}/closing_date", json={"closing_date": closing.isoformat()}).raise_for_status()
    old = bill_of(world.seeded, "ll-closed", transaction_date=closing - timedelta(days=3))
    [outcome] = await connector.push([old])
    assert isinstance(outcome, PeriodClosed)
    assert outcome.closed_on == old.transaction_date
    assert outcome.first_open_day == closing + timedelta(days=1)
    assert world.documents("Bill", "ll-closed") == []


async def test_a_duplicate_doc_number_is_the_earlier_send_and_is_adopted(
    connector: QuickBooksConnector, world: QboWorld
) -> None:
    """With the company's duplicate-number check on, a resend under a new request id (a settled earlier send that
    did in fact land) is refused as a duplicate: that document is ours, so it is adopted."""
    with world.control() as control:
        preference = {"duplicate_doc_number_check": True}
        control.put(f"/realms/{MAIN_REALM}/preferences", json=preference).raise_for_status()
    document = bill_of(world.seeded, "ll-dup")
    [first] = created(await connector.push([document]))
    [second] = created(await connector.push([replace(document, generation=1)]))
    assert second.adopted and second.remote_id == first.remote_id
    assert len(world.documents("Bill", "ll-dup")) == 1


async def test_receipts_are_attached_to_their_document_once_however_often_it_is_sent(
    connector: QuickBooksConnector, world: QboWorld
) -> None:
    document = bill_of(world.seeded, "ll-receipt", attachments=(RECEIPT,))
    key = connector.request_keys([document])[0]
    [bill] = created(await connector.push([document]))
    created(await connector.push([replace(document, request_key=key)]))
    linked = [
        attachable
        for attachable in world.documents("Attachable")
        if any(ref["EntityRef"]["value"] == bill.remote_id for ref in attachable.get("AttachableRef", []))
    ]
    assert len(linked) == 1
    assert linked[0]["FileName"] == "receipt.pdf" and linked[0]["AttachableRef"][0]["EntityRef"]["type"] == "Bill"
    with world.control() as control:
        stored = control.get(f"/realms/{MAIN_REALM}/attachments/{linked[0]['Id']}").json()
    assert stored["file"]["size"] == len(RECEIPT.content)


async def test_a_foreign_bill_keeps_the_home_total_the_source_booked(
    connector: QuickBooksConnector, world: QboWorld
) -> None:
    with world.control() as control:
        vendors = control.get(f"/realms/{MAIN_REALM}/documents", params={"entity": "Vendor"}).json()["data"]
    lufthansa = next(vendor["Id"] for vendor in vendors if vendor["DisplayName"] == "Lufthansa")
    lines = (
        DocumentLine(
            amount=Decimal("100.00"), account=world.seeded.travel, source_ids=("e1",), base_amount=Decimal("108.23")
        ),
        DocumentLine(
            amount=Decimal("55.55"), account=world.seeded.travel, source_ids=("e2",), base_amount=Decimal("60.12")
        ),
    )
    document = bill_of(
        world.seeded,
        "ll-eur",
        currency="EUR",
        base_currency="USD",
        exchange_rate=Decimal("1.0823"),
        counterparty=lufthansa,
        lines=lines,
    )
    created(await connector.push([document]))
    [stored] = world.documents("Bill", "ll-eur")
    assert stored["CurrencyRef"]["value"] == "EUR" and stored["TotalAmt"] == 155.55
    assert Decimal(str(stored["HomeTotalAmt"])) == Decimal("168.35")


async def test_a_bill_whose_lines_name_two_departments_is_refused_before_any_call(
    connector: QuickBooksConnector, world: QboWorld
) -> None:
    seeded = world.seeded
    document = bill_of(seeded, "ll-two-departments")
    lines = (
        replace(document.lines[0], dimensions={"department": seeded.department}),
        replace(document.lines[1], dimensions={"department": "999"}),
    )
    before = batch_calls(world)
    [outcome] = await connector.push([replace(document, lines=lines)])
    assert isinstance(outcome, ValidationError) and "departments" in outcome.message
    assert batch_calls(world) == before


async def test_lookups_that_fail_are_transient_never_absent(connector: QuickBooksConnector, world: QboWorld) -> None:
    created(await connector.push([bill_of(world.seeded, "ll-look")]))
    inject(world.sandbox, system="quickbooks", operation=BATCH_OPERATION, mode="error", status=503, times=1)
    with pytest.raises(Transient) as raised:
        await connector.find_by_references([(DocumentKind.BILL, "ll-look"), (DocumentKind.BILL, "ll-none")])
    assert not isinstance(raised.value, OutcomeUnknown)
    found = await connector.find_by_references([(DocumentKind.BILL, "ll-look"), (DocumentKind.BILL, "ll-none")])
    assert isinstance(found[0], RemoteDocument) and found[0].adopted and found[1] is None


async def test_large_pushes_go_in_requests_of_the_spec_batch_size(
    connector: QuickBooksConnector, world: QboWorld
) -> None:
    documents = [bill_of(world.seeded, f"ll-many-{n}") for n in range(connector.spec.batch_size + 5)]
    before = batch_calls(world)
    created(await connector.push(documents))
    assert batch_calls(world) == before + 2
    assert len({key for key in connector.request_keys(documents)}) == 2


async def test_an_unreadable_answer_to_a_batch_is_unknown_then_adopted(
    world: QboWorld, connector: QuickBooksConnector
) -> None:
    """A 200 whose body is not a batch answer may hide a commit: the documents are looked up at once."""
    document = bill_of(world.seeded, "ll-garbled")
    real = connector.http._transport

    class Garbling(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            response = await real.handle_async_request(request)
            if "requestid" in str(request.url):
                await response.aread()
                return httpx.Response(200, content=b"<html>proxy says hi</html>", request=request)
            return response

    connector.http._transport = Garbling()
    [outcome] = await connector.push([document])
    assert isinstance(outcome, RemoteDocument) and outcome.adopted
    assert len(world.documents("Bill", "ll-garbled")) == 1


async def test_a_check_is_a_purchase_paid_by_check_to_the_employee_and_reads_back_apart_from_card_purchases(
    connector: QuickBooksConnector, world: QboWorld
) -> None:
    seeded = world.seeded
    check = replace(
        bill_of(seeded, "ll-check"), kind=DocumentKind.CHECK, counterparty=seeded.employee, account=seeded.checking
    )
    created(await connector.push([check, card_purchase(seeded, "ll-check-card")]))
    [stored] = world.documents("Purchase", "ll-check")
    assert (stored["PaymentType"], stored["AccountRef"]["value"]) == ("Check", seeded.checking)
    assert (stored["EntityRef"]["value"], stored["EntityRef"]["type"]) == (seeded.employee, "Employee")
    since = date.today() - timedelta(days=1)
    checks = [document.reference async for document in connector.booked_documents(DocumentKind.CHECK, since=since)]
    cards = [
        document.reference
        async for document in connector.booked_documents(DocumentKind.CHARGE_CARD_TRANSACTION, since=since)
    ]
    assert "ll-check" in checks and "ll-check" not in cards and "ll-check-card" in cards
