"""Pushing documents: every kind, several per request, exactly once under lost answers, attachments, entities."""

import dataclasses
from collections.abc import Awaitable, Callable
from datetime import date

import httpx
import pytest

from connectors.intacct import IntacctConnector
from connectors.intacct.attachments import supdoc_id
from connectors.intacct.push import batches
from core.domain import Attachment, Document, DocumentKind, RemoteDocument
from core.errors import (
    DestinationRejected,
    LedgerlineError,
    OutcomeUnknown,
    PeriodClosed,
    Transient,
    ValidationError,
)
from sandbox.intacct.constants import MULTI_ENTITY_COMPANY
from tests.connectors.conformance import inject
from tests.connectors.intacct import factories
from tests.connectors.intacct.conftest import MakeConnector
from tests.sandbox_fixtures import RunningSandbox

DocumentMaker = Callable[[IntacctConnector, str], Awaitable[Document]]


async def created(connector: IntacctConnector, document: Document) -> RemoteDocument:
    [outcome] = await connector.push([document])
    assert isinstance(outcome, RemoteDocument), outcome
    return outcome


async def _bill(connector: IntacctConnector, reference: str) -> Document:
    return factories.bill(reference)


async def _expense_report(connector: IntacctConnector, reference: str) -> Document:
    return factories.expense_report(reference)


async def _journal_entry(connector: IntacctConnector, reference: str) -> Document:
    return factories.journal_entry(reference)


async def _card(connector: IntacctConnector, reference: str) -> Document:
    return factories.charge_card_transaction(reference)


async def _payment(connector: IntacctConnector, reference: str) -> Document:
    paid = await created(connector, factories.bill(f"{reference}-bill"))
    return factories.payment(reference, paid.remote_id)


async def _reimbursement(connector: IntacctConnector, reference: str) -> Document:
    report = await created(connector, factories.expense_report(f"{reference}-report"))
    return factories.reimbursement(reference, report.remote_id)


MAKERS: dict[DocumentKind, DocumentMaker] = {
    DocumentKind.BILL: _bill,
    DocumentKind.EXPENSE_REPORT: _expense_report,
    DocumentKind.JOURNAL_ENTRY: _journal_entry,
    DocumentKind.CHARGE_CARD_TRANSACTION: _card,
    DocumentKind.PAYMENT: _payment,
    DocumentKind.REIMBURSEMENT: _reimbursement,
}


@pytest.mark.parametrize("kind", [document.kind for document in IntacctConnector.spec.documents])
async def test_every_kind_is_created_once_and_found_by_its_reference(
    connector: IntacctConnector, control: httpx.AsyncClient, kind: DocumentKind
) -> None:
    document = await MAKERS[kind](connector, f"ll-{kind.value}-1")

    pushed = await created(connector, document)
    found = await connector.find_by_reference(kind, document.reference)

    assert not pushed.adopted
    assert found is not None and found.remote_id == pushed.remote_id and found.adopted
    [row] = await factories.stored(control, kind, document.reference)
    assert row["RECORDNO"] == pushed.remote_id
    if "RECORD_URL" in row:
        assert pushed.url == row["RECORD_URL"] == found.url
    assert await connector.find_by_reference(kind, "ll-never-pushed") is None


async def test_amounts_and_dimensions_arrive_as_sent(connector: IntacctConnector, control: httpx.AsyncClient) -> None:
    await created(connector, factories.bill("ll-bill-lines"))

    [row] = await factories.stored(control, DocumentKind.BILL, "ll-bill-lines")

    assert row["TOTALENTERED"] == "100.10"
    assert [(line["ACCOUNTNO"], line["TRX_AMOUNT"], line.get("DEPARTMENTID")) for line in row["lines"]] == [
        (factories.ACCOUNT, "60.00", None),
        (factories.ACCOUNT, "40.10", "100"),
    ]
    assert (row["VENDORID"], row["WHENCREATED"], row["WHENDUE"]) == (factories.VENDOR, "03/15/2024", "04/14/2024")


@pytest.mark.parametrize("kind", [document.kind for document in IntacctConnector.spec.documents])
async def test_commit_then_fail_is_adopted_and_never_created_twice(
    connector: IntacctConnector, sandbox: RunningSandbox, control: httpx.AsyncClient, kind: DocumentKind
) -> None:
    """The write commits, its answer is lost (502) twice; every push ends with exactly one document."""
    document = await MAKERS[kind](connector, f"ll-ctf-{kind.value}")
    operation = factories.WRITE_OPERATIONS[kind]
    inject(sandbox, system="intacct", operation=operation, mode="commit_then_fail", status=502, times=2)

    first = (await connector.push([document]))[0]
    again = (await connector.push([document]))[0]
    third = (await connector.push([document]))[0]

    assert isinstance(first, RemoteDocument) and first.adopted, first
    assert isinstance(again, RemoteDocument) and again.adopted and again.remote_id == first.remote_id, again
    assert isinstance(third, RemoteDocument) and third.adopted and third.remote_id == first.remote_id, third
    assert len(await factories.stored(control, kind, document.reference)) == 1


async def test_a_lost_answer_with_no_way_to_look_up_stays_unknown(
    connector: IntacctConnector, sandbox: RunningSandbox, control: httpx.AsyncClient
) -> None:
    """The lookup after the lost answer fails too: the outcome stays unknown, and the identical resend is refused as
    a whole by its control id and adopts."""
    inject(sandbox, system="intacct", operation="create:APBILL", mode="commit_then_fail", status=502, times=1)
    inject(sandbox, system="intacct", operation="query:APBILL", mode="reset", times=1)

    [lost] = await connector.push([factories.bill("ll-lost")])
    [retried] = await connector.push([factories.bill("ll-lost")])

    assert isinstance(lost, OutcomeUnknown), lost
    assert isinstance(retried, RemoteDocument) and retried.adopted
    assert len(await factories.stored(control, DocumentKind.BILL, "ll-lost")) == 1


async def test_a_resent_batch_is_refused_whole_and_adopts_what_its_first_run_made(
    connector: IntacctConnector, control: httpx.AsyncClient
) -> None:
    """The same documents under the same generations make the same request control id: the gateway refuses the
    resend, and each document is looked up — adopted where the first run made it, settled as absent where that run
    refused it (to be sent again under a new generation)."""
    batch = [factories.bill("ll-resend-1"), factories.bill("ll-resend-2", counterparty="V-NOBODY")]
    first = await connector.push(batch)

    outcomes = await connector.push(batch)

    assert isinstance(first[0], RemoteDocument) and isinstance(first[1], DestinationRejected)
    assert isinstance(outcomes[0], RemoteDocument) and outcomes[0].adopted
    assert outcomes[0].remote_id == first[0].remote_id
    assert isinstance(outcomes[1], Transient) and outcomes[1].code == "control_id_spent"
    assert [len(await factories.stored(control, DocumentKind.BILL, f"ll-resend-{n}")) for n in (1, 2)] == [1, 0]
    [again] = await connector.push([dataclasses.replace(factories.bill("ll-resend-2"), generation=1)])
    assert isinstance(again, RemoteDocument) and not again.adopted


async def test_a_partly_failed_batch_keeps_every_good_document(
    connector: IntacctConnector, control: httpx.AsyncClient
) -> None:
    unbalanced = factories.journal_entry("ll-mix-4")
    unbalanced = factories.journal_entry("ll-mix-4", lines=(unbalanced.lines[0],))
    batch = [
        factories.bill("ll-mix-1"),
        factories.bill("ll-mix-2", counterparty="V-NOBODY"),
        factories.expense_report("ll-mix-3"),
        unbalanced,
        factories.bill("ll-mix-5", counterparty=None),
        factories.charge_card_transaction("ll-mix-6"),
    ]

    outcomes = await connector.push(batch)

    assert [type(outcome) for outcome in outcomes] == [
        RemoteDocument,
        DestinationRejected,
        RemoteDocument,
        ValidationError,
        ValidationError,
        RemoteDocument,
    ]
    invalid_vendor = outcomes[1]
    assert isinstance(invalid_vendor, DestinationRejected)
    assert invalid_vendor.code == "invalid_reference"
    assert invalid_vendor.provider_code == "BL01001973"
    assert "Invalid Vendor 'V-NOBODY' specified." in invalid_vendor.message
    assert invalid_vendor.request is not None and invalid_vendor.request.body is not None
    assert "ll-mix-2" in invalid_vendor.request.body and "ll-mix-1" not in invalid_vendor.request.body
    assert isinstance(outcomes[3], ValidationError) and "Debits and credits" in outcomes[3].message
    assert isinstance(outcomes[4], ValidationError) and "vendor is missing" in outcomes[4].message
    counts = [len(await factories.stored(control, document.kind, document.reference)) for document in batch]
    assert counts == [1, 0, 1, 0, 0, 1]


async def test_an_inactive_vendor_is_rejected_by_the_destination(connector: IntacctConnector) -> None:
    [outcome] = await connector.push([factories.bill("ll-inactive", counterparty=factories.INACTIVE_VENDOR)])

    assert isinstance(outcome, DestinationRejected) and not outcome.retriable
    assert outcome.code == "inactive_reference"
    assert "The vendor 'V00013' is inactive." in outcome.message
    assert outcome.hint and "re-import" in outcome.hint


async def test_a_closed_period_is_rejected_with_the_open_period_remedy(
    connector: IntacctConnector, control: httpx.AsyncClient
) -> None:
    (await control.put("/periods", json={"open_from": "2024-04-01"})).raise_for_status()

    outcomes = await connector.push([factories.bill("ll-closed"), factories.expense_report("ll-closed-er")])

    for outcome in outcomes:
        assert isinstance(outcome, PeriodClosed), outcome
        assert outcome.code == "period_closed"
        assert outcome.closed_on == date(2024, 3, 15)
        assert outcome.hint is not None and "first day of the open period" in outcome.hint


async def test_a_reference_twice_in_one_batch_is_refused_before_sending(
    connector: IntacctConnector, control: httpx.AsyncClient
) -> None:
    outcomes = await connector.push([factories.bill("ll-twice"), factories.bill("ll-twice")])

    assert isinstance(outcomes[0], RemoteDocument)
    assert isinstance(outcomes[1], ValidationError) and outcomes[1].code == "duplicate_reference"
    assert len(await factories.stored(control, DocumentKind.BILL, "ll-twice")) == 1


async def test_large_pushes_are_cut_into_requests_of_the_spec_batch_size(
    connector: IntacctConnector, sandbox_control: httpx.AsyncClient
) -> None:
    documents = [factories.bill(f"ll-many-{index}") for index in range(connector.spec.batch_size + 10)]

    outcomes = await connector.push(documents)

    assert all(isinstance(outcome, RemoteDocument) for outcome in outcomes)
    assert await factories.requests_for(sandbox_control, "create:APBILL") == 2


async def test_a_bill_with_an_attachment_creates_a_supporting_document(
    connector: IntacctConnector, control: httpx.AsyncClient, sandbox_control: httpx.AsyncClient
) -> None:
    bill = factories.bill("ll-receipt", attachments=(factories.RECEIPT,))

    await created(connector, bill)
    await created(connector, factories.expense_report("ll-receipt-er", attachments=(factories.RECEIPT,)))
    [replayed] = await connector.push([bill])

    attachments = (await control.get("/attachments")).json()
    assert attachments["folders"] == ["Ledgerline"]
    assert [(document["supdocid"], document["attachments"]) for document in attachments["data"]] == [
        (supdoc_id("ll-receipt"), [{"name": "receipt", "kind": "pdf", "size": len(factories.RECEIPT.content)}]),
        (supdoc_id("ll-receipt-er"), [{"name": "receipt", "kind": "pdf", "size": len(factories.RECEIPT.content)}]),
    ]
    [row] = await factories.stored(control, DocumentKind.BILL, "ll-receipt")
    assert row["SUPDOCID"] == supdoc_id("ll-receipt")
    assert isinstance(replayed, RemoteDocument) and replayed.adopted
    assert await factories.requests_for(sandbox_control, "create_supdocfolder") == 1


async def test_an_attachment_folder_made_by_someone_else_is_used(
    make_connector: MakeConnector, control: httpx.AsyncClient
) -> None:
    await created(make_connector(), factories.bill("ll-folder-1", attachments=(factories.RECEIPT,)))

    second = make_connector()
    pushed = await created(second, factories.bill("ll-folder-2", attachments=(factories.RECEIPT,)))

    assert pushed.remote_id
    assert (await control.get("/attachments")).json()["count"] == 2


async def test_payments_are_applied_to_the_bill(connector: IntacctConnector, control: httpx.AsyncClient) -> None:
    document = await _payment(connector, "ll-pay")

    await created(connector, document)

    [bill] = await factories.stored(control, DocumentKind.BILL, "ll-pay-bill")
    assert (bill["STATE"], bill["TOTALPAID"], bill["TOTALDUE"]) == ("Paid", "100.10", "0.00")


async def test_documents_land_in_the_entity_of_the_connection(
    make_connector: MakeConnector, control: httpx.AsyncClient
) -> None:
    e100 = make_connector(company_id=MULTI_ENTITY_COMPANY, entity_id="E100")
    e200 = make_connector(company_id=MULTI_ENTITY_COMPANY, entity_id="E200")
    account = [value async for value in e100.import_dimensions("account", since=None) if value.active][-1]
    document = factories.bill("ll-e100", lines=(factories.line("10.00", account=account.remote_id),))

    pushed = await created(e100, document)

    [row] = await factories.stored(control, DocumentKind.BILL, "ll-e100", company=MULTI_ENTITY_COMPANY)
    assert (row["RECORDNO"], row["MEGAENTITYID"]) == (pushed.remote_id, "E100")
    assert await e200.find_by_reference(DocumentKind.BILL, "ll-e100") is None
    found = await e100.find_by_reference(DocumentKind.BILL, "ll-e100")
    assert found is not None and found.remote_id == pushed.remote_id


def _errors_only(outcomes: list[RemoteDocument | LedgerlineError]) -> list[LedgerlineError]:
    return [outcome for outcome in outcomes if isinstance(outcome, LedgerlineError)]


async def test_an_outage_answer_to_a_push_leaves_every_document_unknown(
    connector: IntacctConnector, sandbox: RunningSandbox, control: httpx.AsyncClient
) -> None:
    """A 503 does not prove the write was not applied: every document stays unknown until a lookup settles it."""
    inject(sandbox, system="intacct", operation="create:APBILL", mode="error", status=503, times=1)

    outcomes = await connector.push([factories.bill("ll-down-1"), factories.bill("ll-down-2")])

    errors = _errors_only(outcomes)
    assert len(errors) == 2 and all(isinstance(error, OutcomeUnknown) for error in errors)
    assert (await control.get("/documents")).json()["count"] == 0


def test_requests_are_filled_to_the_batch_size_and_keep_room_for_attachments_only_when_needed() -> None:
    plain = [factories.bill(f"ref-{n}") for n in range(100)]
    assert [len(batch) for batch in batches(plain, 50)] == [50, 50]
    receipt = Attachment(name="r.pdf", content_type="application/pdf", content=b"%PDF")
    with_receipts = [factories.bill(f"att-{n}", attachments=(receipt,)) for n in range(3)]
    # One folder function, then two per document with attachments: 1 + 2 + 2 = 5 ≤ 6; the third needs a new request.
    assert [len(batch) for batch in batches(with_receipts, 6)] == [2, 1]
    assert [len(batch) for batch in batches([*plain[:4], *with_receipts[:1]], 6)] == [4, 1]
