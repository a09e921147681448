"""Answers QuickBooks can give that a happy path never sees, each against the promise it could break: a batch item
failing inside a 200 (a SystemFault, a throttle, an item with neither a document nor a fault), a lookup answer that
proves nothing, a memo a person annotated, a payment whose answer is unreadable.

The simulator answers batch items only with validation faults, so the other item answers are made by a transport
that passes the real request to the sandbox (or the request without one item, for an item QuickBooks did not apply)
and then rewrites the sandbox's answer.
"""

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from typing import Any

import httpx

from connectors.base import PaymentToRecord, RecordedPayment
from connectors.quickbooks import QuickBooksConnector
from connectors.quickbooks.references import doc_number
from core.domain import Document, DocumentKind, RemoteDocument
from core.errors import EngineAction, LedgerlineError, OutcomeUnknown, RateLimited, Transient
from sandbox.quickbooks.constants import MAIN_REALM
from tests.connectors.quickbooks.conftest import QboWorld, bill_of

Json = dict[str, Any]


def system_fault(bid: str) -> Json:
    error = {
        "Message": "An application error has occurred while processing your request",
        "Detail": "System Failure Error: could not persist the transaction",
        "code": "10000",
    }
    return {"bId": bid, "Fault": {"Error": [error], "type": "SystemFault"}}


def throttled(bid: str) -> Json:
    error = {
        "Message": "message=ThrottleExceeded; errorCode=003001; statusCode=429",
        "Detail": "The request limit was reached.",
        "code": "3001",
    }
    return {"bId": bid, "Fault": {"Error": [error], "type": "SERVICE"}}


class Rewriting(httpx.AsyncBaseTransport):
    """The real sandbox behind it; the first `times` requests that `matches` go out changed by `request` (a JSON body
    edit) and come back changed by `answer` (a JSON answer edit)."""

    def __init__(
        self,
        real: httpx.AsyncBaseTransport,
        *,
        matches: Callable[[httpx.Request], bool],
        answer: Callable[[Json], Json],
        request: Callable[[Json], Json] | None = None,
        times: int = 1,
    ) -> None:
        self.real, self.matches, self.answer, self.request, self.left = real, matches, answer, request, times

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.left <= 0 or not self.matches(request):
            return await self.real.handle_async_request(request)
        self.left -= 1
        sent = request
        if self.request is not None:
            headers = [(key, value) for key, value in request.headers.items() if key.lower() != "content-length"]
            body = self.request(json.loads(request.content))
            sent = httpx.Request(request.method, request.url, headers=headers, json=body)
        response = await self.real.handle_async_request(sent)
        await response.aread()
        return httpx.Response(response.status_code, json=self.answer(response.json()), request=request)


def rewrite(connector: QuickBooksConnector, **rewriting: Any) -> httpx.AsyncBaseTransport:
    real = connector.http._transport
    connector.http._transport = Rewriting(real, **rewriting)
    return real


def is_push(request: httpx.Request) -> bool:
    return request.url.path.endswith("/batch") and "requestid" in request.url.params


def is_lookup(request: httpx.Request) -> bool:
    return request.url.path.endswith("/batch") and "requestid" not in request.url.params


def item_replaced(bid: str, by: Json) -> Callable[[Json], Json]:
    def edit(answer: Json) -> Json:
        items = [item for item in answer["BatchItemResponse"] if item["bId"] != bid]
        return answer | {"BatchItemResponse": [*items, by]}

    return edit


def item_dropped(bid: str) -> Callable[[Json], Json]:
    def edit(body: Json) -> Json:
        return {"BatchItemRequest": [item for item in body["BatchItemRequest"] if item["bId"] != bid]}

    return edit


def without_duplicate_number_check(world: QboWorld) -> None:
    """A company that turned QuickBooks' duplicate-number warning off: nothing but Ledgerline stops a second copy."""
    with world.control() as control:
        preference = {"duplicate_doc_number_check": False}
        control.put(f"/realms/{MAIN_REALM}/preferences", json=preference).raise_for_status()


async def settle_as_the_engine_would(
    connector: QuickBooksConnector, document: Document, outcome: RemoteDocument | LedgerlineError
) -> None:
    """The engine's next step: an outcome that is neither a document nor unknown settles the send, so the next one is
    built afresh under a new generation, hence a new `requestid` (a person replays a refusal; a retry, a throttle)."""
    if isinstance(outcome, LedgerlineError) and not isinstance(outcome, OutcomeUnknown):
        await connector.push([replace(document, generation=document.generation + 1)])


async def test_a_system_fault_on_a_batch_item_that_was_applied_adopts_the_document_and_never_duplicates_it(
    connector: QuickBooksConnector, world: QboWorld
) -> None:
    """QuickBooks created the bill and answered its item with a SystemFault: that proves nothing was refused, so it is
    no settled refusal (whose replay, under a new request id, would create a second bill)."""
    without_duplicate_number_check(world)
    document = bill_of(world.seeded, "ll-adv-sysfault")
    bid = doc_number(document.reference)
    real = rewrite(connector, matches=is_push, answer=item_replaced(bid, system_fault(bid)))
    [outcome] = await connector.push([document])
    connector.http._transport = real
    await settle_as_the_engine_would(connector, document, outcome)
    assert len(world.documents("Bill", document.reference)) == 1
    [stored] = world.documents("Bill", document.reference)
    assert isinstance(outcome, RemoteDocument) and outcome.adopted and outcome.remote_id == stored["Id"]


async def test_a_system_fault_on_a_batch_item_that_was_not_applied_is_retried_not_refused_for_good(
    connector: QuickBooksConnector, world: QboWorld
) -> None:
    """The item failed inside QuickBooks and the lookup right after the answer finds nothing: the request is over and
    did not apply it, so it retries on its own (a new send) instead of waiting for a person."""
    applied, failed = bill_of(world.seeded, "ll-adv-sysfault-ok"), bill_of(world.seeded, "ll-adv-sysfault-lost")
    bid = doc_number(failed.reference)
    real = rewrite(connector, matches=is_push, request=item_dropped(bid), answer=item_replaced(bid, system_fault(bid)))
    first, second = await connector.push([applied, failed])
    connector.http._transport = real
    assert isinstance(first, RemoteDocument) and not first.adopted
    assert isinstance(second, LedgerlineError) and second.action is EngineAction.RETRY, second
    assert world.documents("Bill", failed.reference) == []
    await settle_as_the_engine_would(connector, failed, second)
    assert len(world.documents("Bill", failed.reference)) == 1


async def test_a_throttled_batch_item_waits_for_the_rate_limit_instead_of_needing_a_person(
    connector: QuickBooksConnector, world: QboWorld
) -> None:
    applied, throttled_one = bill_of(world.seeded, "ll-adv-throttle-ok"), bill_of(world.seeded, "ll-adv-throttle")
    bid = doc_number(throttled_one.reference)
    real = rewrite(connector, matches=is_push, request=item_dropped(bid), answer=item_replaced(bid, throttled(bid)))
    first, second = await connector.push([applied, throttled_one])
    connector.http._transport = real
    assert isinstance(first, RemoteDocument)
    assert isinstance(second, RateLimited), second
    assert second.retry_at is not None and second.action is EngineAction.DEFER_CONNECTION
    assert world.documents("Bill", throttled_one.reference) == []


async def test_an_item_answered_with_neither_its_document_nor_a_fault_is_looked_up_not_refused(
    connector: QuickBooksConnector, world: QboWorld
) -> None:
    without_duplicate_number_check(world)
    document = bill_of(world.seeded, "ll-adv-blank-item")
    bid = doc_number(document.reference)
    real = rewrite(connector, matches=is_push, answer=item_replaced(bid, {"bId": bid, "Bill": {"domain": "QBO"}}))
    [outcome] = await connector.push([document])
    connector.http._transport = real
    await settle_as_the_engine_would(connector, document, outcome)
    assert len(world.documents("Bill", document.reference)) == 1
    assert isinstance(outcome, RemoteDocument) and outcome.adopted


async def test_a_lookup_item_answered_without_a_query_response_proves_nothing(
    connector: QuickBooksConnector, world: QboWorld
) -> None:
    [bill] = await connector.push([bill_of(world.seeded, "ll-adv-no-rows")])
    assert isinstance(bill, RemoteDocument)
    real = rewrite(connector, matches=is_lookup, answer=item_replaced("q0", {"bId": "q0"}))
    [found] = await connector.find_by_references([(DocumentKind.BILL, "ll-adv-no-rows")])
    connector.http._transport = real
    assert isinstance(found, Transient), found


async def sparse_update(world: QboWorld, entity: str, remote_id: str, **changes: Any) -> None:
    token = (await world.stored_tokens())["access_token"]
    base = f"{world.sandbox.url}/quickbooks/v3/company/{MAIN_REALM}"
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    async with httpx.AsyncClient(base_url=base, headers=headers, params={"minorversion": "75"}, timeout=10) as client:
        current = (await client.get(f"/{entity.lower()}/{remote_id}")).json()[entity]
        body = {"Id": remote_id, "SyncToken": current["SyncToken"], "sparse": True, **changes}
        (await client.post(f"/{entity.lower()}", json=body)).raise_for_status()


async def test_a_person_annotating_the_memo_after_the_reference_does_not_hide_the_document(
    connector: QuickBooksConnector, world: QboWorld
) -> None:
    """A lookup that misses a document a person merely annotated would let the item be sent again: a second bill."""
    [bill] = await connector.push([bill_of(world.seeded, "ll-adv-memo")])
    assert isinstance(bill, RemoteDocument)
    await sparse_update(world, "Bill", bill.remote_id, PrivateNote="Ledgerline ll-adv-memo (checked, Ana)\nReport rp1")
    [found] = await connector.find_by_references([(DocumentKind.BILL, "ll-adv-memo")])
    assert isinstance(found, RemoteDocument) and found.remote_id == bill.remote_id

    # A note naming another reference still says the document is not this one.
    await sparse_update(world, "Bill", bill.remote_id, PrivateNote="Ledgerline ll-adv-other\nReport rp1")
    assert await connector.find_by_references([(DocumentKind.BILL, "ll-adv-memo")]) == [None]


async def test_an_unreadable_answer_to_a_payment_is_unknown_and_the_next_run_adopts_it(
    connector: QuickBooksConnector, world: QboWorld
) -> None:
    """The BillPayment was created and its answer came back garbled: an outcome to settle by lookup, never an
    exception that loses the other payments' outcomes, nor a payment recorded with no id."""
    [bill] = await connector.push([bill_of(world.seeded, "ll-adv-pay")])
    [other_bill] = await connector.push([bill_of(world.seeded, "ll-adv-pay-other")])
    assert isinstance(bill, RemoteDocument) and isinstance(other_bill, RemoteDocument)
    payments = [
        PaymentToRecord(DocumentKind.BILL, bill.remote_id, "ll-adv-pay-paid", date.today(), world.seeded.checking),
        PaymentToRecord(
            DocumentKind.BILL, other_bill.remote_id, "ll-adv-pay-other-paid", date.today(), world.seeded.checking
        ),
    ]
    real = connector.http._transport

    class Garbling(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            response = await real.handle_async_request(request)
            if request.url.path.endswith("/billpayment") and "ll-adv-pay-paid" in request.content.decode():
                await response.aread()
                return httpx.Response(200, content=b"<html>gateway</html>", request=request)
            return response

    connector.http._transport = Garbling()
    try:
        garbled, recorded = await connector.record_payments(payments)
    finally:
        connector.http._transport = real
    assert isinstance(garbled, OutcomeUnknown), garbled
    assert isinstance(recorded, RecordedPayment) and recorded.payment is not None
    [again] = await connector.record_payments(payments[:1])
    assert isinstance(again, RecordedPayment) and again.payment is not None and again.payment.adopted
    assert len(world.documents("BillPayment", "ll-adv-pay-paid")) == 1
