"""Receipts travel with the bills: the Fyle and Intacct simulators over HTTP, our database for real.

`ReceiptFetcher` fills each built document's attachments with the bytes Fyle holds, the Intacct connector sends them
as a supporting document, and a receipt that cannot be had either makes its item retry (the source is failing) or is
left out and noted (the source says it is gone), never dropped silently."""

import uuid
from dataclasses import replace

import httpx
import pytest
from sqlalchemy import update

from connectors.intacct.attachments import supdoc_id
from core.db import Database
from core.domain import Document, RemoteDocument
from core.errors import LedgerlineError, RateLimited, Transient
from core.models import Connection
from core.settings import Settings
from mappings.constants import MEMO_MAX_LENGTH
from sync.constants import AUDIT_RECEIPTS_MISSING, CODE_RECEIPT_SOURCE_AUTH, RECEIPT_MAX_BYTES
from sync.receipts import MissingReceipt, _noted
from tests.connectors.conformance import inject
from tests.sandbox_fixtures import RunningSandbox
from tests.sync.receipt_books import ReceiptBooks, receipt_books

FILE_URLS = "POST /platform/v1/admin/files/generate_urls/bulk"


@pytest.fixture
async def books(database: Database, settings: Settings, sandbox: RunningSandbox) -> ReceiptBooks:
    return await receipt_books(database, settings, sandbox)


def documents(answers: list[Document | LedgerlineError]) -> list[Document]:
    assert all(isinstance(answer, Document) for answer in answers), answers
    return [answer for answer in answers if isinstance(answer, Document)]


async def test_attach_fills_each_document_with_the_bytes_fyle_holds(books: ReceiptBooks) -> None:
    built = await books.with_receipts(4)
    async with books.fetcher() as fetcher:
        attached = documents(await fetcher.attach(built))
        assert fetcher.opened == {books.source.connection_id}
    for (_, document), filled in zip(built, attached, strict=True):
        assert len(filled.attachments) == len(document.attachment_ids)
        for file_id, attachment in zip(document.attachment_ids, filled.attachments, strict=True):
            stored = books.file(file_id)
            assert stored.content, "the seed stores every receipt's bytes"
            assert attachment.content == stored.content
            assert (attachment.name, attachment.content_type) == (stored.name, stored.content_type)
        assert filled.memo == document.memo, "nothing was missing, so nothing is noted"
        assert replace(filled, attachments=()) == document
    assert await books.audit_events(AUDIT_RECEIPTS_MISSING) == []


async def test_a_pushed_bill_carries_its_receipts_as_a_supporting_document(books: ReceiptBooks) -> None:
    built = await books.with_receipts(2)
    async with books.fetcher() as fetcher:
        attached = documents(await fetcher.attach(built))
    async with await books.destination() as destination:
        outcomes = await destination.push(attached)
    assert all(isinstance(outcome, RemoteDocument) for outcome in outcomes), outcomes

    with books.sandbox.control() as control:
        supdocs = {entry["supdocid"]: entry for entry in control.get("/intacct/attachments").json()["data"]}
        for document in attached:
            [bill] = control.get("/intacct/documents", params={"record_id": document.reference}).json()["data"]
            assert bill["SUPDOCID"] == supdoc_id(document.reference)
            supdoc = supdocs[bill["SUPDOCID"]]
            sent = [(attachment.name.rsplit(".", 1)[0], len(attachment.content)) for attachment in document.attachments]
            assert [(entry["name"], entry["size"]) for entry in supdoc["attachments"]] == sent
            assert all(size > 0 for _, size in sent)


async def test_a_failing_download_makes_only_its_item_retry(books: ReceiptBooks) -> None:
    built = await books.with_receipts(3)
    _, failing = built[1]
    inject(
        books.sandbox, system="fyle", operation=f"GET /storage/{failing.attachment_ids[0]}", mode="error", status=503
    )
    async with books.fetcher() as fetcher:
        answers = await fetcher.attach(built)
    first, error, third = answers
    assert isinstance(error, Transient) and error.retriable, error
    assert isinstance(first, Document) and first.attachments
    assert isinstance(third, Document) and third.attachments
    assert await books.audit_events(AUDIT_RECEIPTS_MISSING) == [], "a failure to retry is not a missing receipt"


async def test_documents_without_receipts_open_no_source_and_call_nothing(books: ReceiptBooks) -> None:
    built = [(item_id, replace(document, attachment_ids=())) for item_id, document in await books.with_receipts(3)]
    before = books.fyle_requests()
    async with books.fetcher() as fetcher:
        answers = await fetcher.attach(built)
        assert fetcher.opened == frozenset()
    assert answers == [document for _, document in built]
    assert books.fyle_requests() == before


async def test_a_receipt_fyle_no_longer_has_is_left_out_and_noted_in_the_books(books: ReceiptBooks) -> None:
    built = await books.with_receipts(2)
    (item_id, gone_from), (_, intact) = built
    gone = gone_from.attachment_ids[0]
    books.file(gone).content = None  # the storage object is gone: Fyle's storage answers 404 NoSuchKey
    async with books.fetcher() as fetcher:
        without, whole = documents(await fetcher.attach(built))
    assert len(without.attachments) == len(gone_from.attachment_ids) - 1
    assert without.memo is not None and gone in without.memo and "not available from Fyle" in without.memo
    assert (gone_from.memo or "") in without.memo
    assert len(whole.attachments) == len(intact.attachment_ids) and whole.memo == intact.memo
    [event] = await books.audit_events(AUDIT_RECEIPTS_MISSING)
    assert event.entity_id == str(item_id)
    assert [entry["file_id"] for entry in event.data["files"]] == [gone]

    async with await books.destination() as destination:
        outcomes = await destination.push([without])
    assert isinstance(outcomes[0], RemoteDocument), outcomes
    with books.sandbox.control() as control:
        [bill] = control.get("/intacct/documents", params={"record_id": without.reference}).json()["data"]
    assert gone in bill["DESCRIPTION"], "the bill says which receipt it goes without"


async def test_a_throttling_source_defers_every_item_needing_it_and_is_asked_once(books: ReceiptBooks) -> None:
    built = await books.with_receipts(3)
    inject(books.sandbox, system="fyle", operation=FILE_URLS, mode="rate_limit", retry_after=30, times=1)
    before = books.fyle_requests(FILE_URLS)
    async with books.fetcher(concurrency=1) as fetcher:
        answers = await fetcher.attach(built)
    assert all(isinstance(answer, RateLimited) and answer.retry_at is not None for answer in answers), answers
    assert books.fyle_requests(FILE_URLS) == before + 1


async def test_a_source_awaiting_reauthorization_makes_items_retry_without_calling_it(books: ReceiptBooks) -> None:
    built = await books.with_receipts(2)
    async with books.database.tenant_session(books.tenant_id) as session:
        await session.execute(
            update(Connection).where(Connection.id == books.source.connection_id).values(status="needs_reauth")
        )
    before = books.fyle_requests()
    async with books.fetcher() as fetcher:
        answers = await fetcher.attach(built)
        assert fetcher.opened == frozenset()
    for answer in answers:
        assert isinstance(answer, Transient) and answer.code == CODE_RECEIPT_SOURCE_AUTH, answer
        assert answer.hint is not None and "Re-connect Fyle" in answer.hint
    assert books.fyle_requests() == before


async def test_a_receipt_over_the_size_limit_is_left_out_and_noted(books: ReceiptBooks) -> None:
    [(item_id, document)] = await books.with_receipts(1)
    big = document.attachment_ids[0]
    books.file(big).content = b"%PDF-" + b"0" * RECEIPT_MAX_BYTES
    async with books.fetcher() as fetcher:
        [filled] = documents(await fetcher.attach([(item_id, document)]))
    assert len(filled.attachments) == len(document.attachment_ids) - 1
    assert filled.memo is not None and "over the 10 MB limit" in filled.memo


def test_the_note_of_missing_receipts_keeps_the_memo_within_its_length() -> None:
    missing = [MissingReceipt(f"fi{n:04d}", f"fi{n:04d} (not available from Fyle)") for n in range(3)]
    assert _noted(None, missing) == (
        "Receipts not attached: fi0000 (not available from Fyle), fi0001 (not available from Fyle), "
        "fi0002 (not available from Fyle)."
    )
    long_memo = "x" * MEMO_MAX_LENGTH
    noted = _noted(long_memo, missing)
    assert noted is not None and len(noted) == MEMO_MAX_LENGTH and noted.endswith("fi0002 (not available from Fyle).")
    many = [MissingReceipt(str(uuid.uuid4()), "y" * 100) for _ in range(20)]
    assert len(_noted("memo", many) or "") == MEMO_MAX_LENGTH
    assert _noted("memo", []) == "memo"


def test_the_sandbox_storage_route_is_what_faults_target(sandbox: RunningSandbox) -> None:
    """Guards the fault operation above: a signed download is `GET /storage/{file_id}` on the Fyle simulator."""
    with httpx.Client(base_url=sandbox.url) as client:
        assert client.get("/fyle/storage/fi-none").status_code == 403
    with sandbox.control() as control:
        [last] = control.get("/requests", params={"system": "fyle", "limit": 1}).json()["data"]
    assert last["operation"] == "GET /storage/fi-none"
