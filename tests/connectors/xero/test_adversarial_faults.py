"""Exactly once under combined faults, against the simulator over real HTTP: a create that committed and then
failed, with its lookups failing, throttled or dropped too; a batch split over two collections; a key refused for
a resend of part of a batch, crashing again under the key derived from it; payments and receipts that committed and
then failed; per-item refusals in the middle of a full batch."""

import hashlib
from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from connectors.base import PaymentToRecord, RecordedPayment
from connectors.constants import RECEIPTS_INCOMPLETE_CODE
from connectors.xero import XeroConnector
from core.domain import Attachment, Document, DocumentKind, DocumentLine, RemoteDocument
from core.errors import LedgerlineError, OutcomeUnknown
from sandbox.xero.constants import MAIN_TENANT
from tests.connectors.conformance import inject
from tests.connectors.xero.conftest import XeroWorld, bill_of
from tests.connectors.xero.test_simulator_flows import RECEIPT, spend_of


def counts(world: XeroWorld) -> dict[str, Any]:
    with world.sandbox.control() as control:
        answer = control.get(f"/xero/organisations/{MAIN_TENANT}/counts")
        answer.raise_for_status()
        body: dict[str, Any] = answer.json()
        return body


def attachments(world: XeroWorld) -> list[dict[str, Any]]:
    with world.sandbox.control() as control:
        answer = control.get(f"/xero/organisations/{MAIN_TENANT}/attachments")
        answer.raise_for_status()
        items: list[dict[str, Any]] = answer.json()["items"]
        return items


def unsettled(documents: list[Document], outcomes: list[RemoteDocument | LedgerlineError], key: str) -> list[Document]:
    """What the engine sends again: the documents whose outcome is unknown, under their first request key."""
    return [
        replace(document, request_key=key)
        for document, outcome in zip(documents, outcomes, strict=True)
        if isinstance(outcome, OutcomeUnknown)
    ]


@pytest.mark.parametrize(
    "lookup_fault",
    [
        {"mode": "error", "status": 503},
        {"mode": "rate_limit", "retry_after": 1},
        {"mode": "reset"},
        {"mode": "malformed"},
    ],
)
async def test_a_committed_batch_whose_lookups_fail_stays_unknown_and_is_created_once(
    connector: XeroConnector, world: XeroWorld, lookup_fault: dict[str, Any]
) -> None:
    documents = [bill_of(world.seeded, f"adv-l-{n}") for n in range(3)]
    [key, *_] = connector.request_keys(documents)
    inject(world.sandbox, system="xero", operation="PUT Invoices", mode="commit_then_fail", status=502, times=1)
    inject(world.sandbox, system="xero", operation="GET Invoices", times=1, **lookup_fault)
    first = await connector.push(documents)
    assert all(isinstance(outcome, OutcomeUnknown) for outcome in first), first
    found = await connector.find_by_references([(document.kind, document.reference) for document in documents])
    assert all(isinstance(item, RemoteDocument) for item in found), found
    again = await connector.push(unsettled(documents, first, key))
    assert all(isinstance(outcome, RemoteDocument) for outcome in again), again
    numbers = counts(world)["invoice_numbers"]
    assert [numbers.get(document.reference) for document in documents] == [1, 1, 1]


async def test_a_batch_over_two_collections_resent_in_part_is_created_once(
    connector: XeroConnector, world: XeroWorld
) -> None:
    documents = [bill_of(world.seeded, "adv-m-1"), spend_of(world, "adv-m-2"), spend_of(world, "adv-m-3")]
    [key, *_] = connector.request_keys(documents)
    inject(world.sandbox, system="xero", operation="PUT BankTransactions", mode="commit_then_fail", times=1)
    inject(world.sandbox, system="xero", operation="GET BankTransactions", mode="error", status=503, times=1)
    first = await connector.push(documents)
    assert isinstance(first[0], RemoteDocument)
    assert isinstance(first[1], OutcomeUnknown) and isinstance(first[2], OutcomeUnknown)
    again = await connector.push(unsettled(documents, first, key)[:1])  # one of them claimed alone
    assert all(isinstance(outcome, RemoteDocument) for outcome in again), again
    rest = await connector.push(unsettled(documents, first, key)[1:])
    assert all(isinstance(outcome, RemoteDocument) for outcome in rest), rest
    tally = counts(world)
    assert tally["invoice_numbers"].get("adv-m-1") == 1
    assert [tally["bank_transaction_references"].get(ref) for ref in ("adv-m-2", "adv-m-3")] == [1, 1]


async def test_a_derived_key_that_crashes_too_creates_nothing_twice(connector: XeroConnector, world: XeroWorld) -> None:
    documents = [bill_of(world.seeded, f"adv-d-{n}") for n in range(3)]
    [key, *_] = connector.request_keys(documents)
    inject(world.sandbox, system="xero", operation="PUT Invoices", mode="error", status=503, times=1)
    first = await connector.push(documents)  # refused before running: Xero keeps no answer for the key
    assert all(isinstance(outcome, OutcomeUnknown) for outcome in first)
    # one of them goes alone under the key, and so the key now belongs to that request
    [alone] = await connector.push([replace(documents[0], request_key=key)])
    assert isinstance(alone, RemoteDocument)
    # the other two: refused for the key, looked up, sent under a derived key that commits and fails, lookups fail
    inject(world.sandbox, system="xero", operation="PUT Invoices", mode="commit_then_fail", times=1)
    inject(world.sandbox, system="xero", operation="GET Invoices", mode="error", status=503, times=10)
    second = await connector.push([replace(document, request_key=key) for document in documents[1:]])
    assert all(isinstance(outcome, OutcomeUnknown) for outcome in second), second
    with world.sandbox.control() as control:
        control.delete("/faults").raise_for_status()
    third = await connector.push([replace(document, request_key=key) for document in documents[1:]])
    assert all(isinstance(outcome, RemoteDocument) for outcome in third), third
    numbers = counts(world)["invoice_numbers"]
    assert [numbers.get(document.reference) for document in documents] == [1, 1, 1]


async def test_refusals_in_a_full_batch_land_on_their_own_documents(connector: XeroConnector, world: XeroWorld) -> None:
    bad = {7, 23, 49}
    documents = [
        bill_of(
            world.seeded,
            f"adv-f-{n:02d}",
            lines=(DocumentLine(amount=Decimal("5.00"), account="99999", source_ids=("tx",)),),
        )
        if n in bad
        else bill_of(world.seeded, f"adv-f-{n:02d}")
        for n in range(50)
    ]
    outcomes = await connector.push(documents)
    assert {n for n, outcome in enumerate(outcomes) if not isinstance(outcome, RemoteDocument)} == bad
    rows = world.get("/Invoices", InvoiceNumbers=",".join(document.reference for document in documents))["Invoices"]
    by_number = {row["InvoiceNumber"]: row["InvoiceID"] for row in rows}
    for document, outcome in zip(documents, outcomes, strict=True):
        if isinstance(outcome, RemoteDocument):
            assert by_number[document.reference] == outcome.remote_id


async def test_a_payment_that_committed_then_failed_is_paid_once(connector: XeroConnector, world: XeroWorld) -> None:
    [created] = await connector.push([bill_of(world.seeded, "adv-p-1")])
    assert isinstance(created, RemoteDocument)
    paid = PaymentToRecord(DocumentKind.BILL, created.remote_id, "adv-p-1-paid", date.today(), world.seeded.bank)
    inject(world.sandbox, system="xero", operation="PUT Payments", mode="commit_then_fail", times=1)
    [first] = await connector.record_payments([paid])
    assert isinstance(first, OutcomeUnknown), first
    [second] = await connector.record_payments([paid])
    assert isinstance(second, RecordedPayment) and second.payment is not None, second
    assert counts(world)["payment_references"] == {"adv-p-1-paid": 1}


async def test_a_receipt_that_committed_then_failed_is_attached_once(
    connector: XeroConnector, world: XeroWorld
) -> None:
    document = bill_of(world.seeded, "adv-a-1", attachments=(RECEIPT,))
    inject(world.sandbox, system="xero", operation="PUT Invoices/{id}/Attachments", mode="commit_then_fail", times=1)
    [outcome] = await connector.push([document])
    assert isinstance(outcome, OutcomeUnknown) and outcome.code == RECEIPTS_INCOMPLETE_CODE, outcome
    found = await connector.find_by_reference(document.kind, document.reference)  # the engine's next attempt
    assert found is not None
    assert await connector.attach_to_adopted([(document, found)]) == [None]
    assert [item["file_name"] for item in attachments(world)] == ["receipt.pdf"]


async def test_a_receipt_upload_refused_by_the_rate_limit_is_attached_on_the_next_attempt(
    connector: XeroConnector, world: XeroWorld
) -> None:
    """Under load a receipt meets a 429 after its bill was created: the bill must not be left without it."""
    document = bill_of(world.seeded, "adv-a-3", attachments=(RECEIPT,))
    inject(world.sandbox, system="xero", operation="PUT Invoices/{id}/Attachments", mode="error", status=429, times=2)
    [outcome] = await connector.push([document])
    assert isinstance(outcome, OutcomeUnknown) and outcome.code == RECEIPTS_INCOMPLETE_CODE, outcome
    assert attachments(world) == []
    found = await connector.find_by_reference(document.kind, document.reference)
    assert found is not None
    [again] = await connector.attach_to_adopted([(document, found)])
    assert isinstance(again, OutcomeUnknown), again
    assert await connector.attach_to_adopted([(document, found)]) == [None]
    assert [item["file_name"] for item in attachments(world)] == ["receipt.pdf"]
    assert counts(world)["invoice_numbers"]["adv-a-3"] == 1


async def test_two_receipts_named_alike_are_both_attached(connector: XeroConnector, world: XeroWorld) -> None:
    """Receipts keep the names people gave them, and phones name them alike: one bill of a report may carry two
    `receipt.jpg`. Xero replaces a file uploaded under a name the document already has."""
    taxi = Attachment(name="receipt.jpg", content_type="image/jpeg", content=b"taxi receipt")
    hotel = Attachment(name="receipt.jpg", content_type="image/jpeg", content=b"hotel receipt")
    document = bill_of(world.seeded, "adv-a-2", attachments=(taxi, hotel))
    [created] = await connector.push([document])
    assert isinstance(created, RemoteDocument)
    await connector.attach_to_adopted([(document, replace(created, adopted=True))])  # a later run adopting it
    files = attachments(world)
    assert sorted(item["sha256"] for item in files) == sorted(
        hashlib.sha256(receipt.content).hexdigest() for receipt in (taxi, hotel)
    ), files
