"""Exactly once where only an exact wire answer can show it: a PUT that timed out while Xero still works on it,
then resent under its Idempotency-Key and answered 409 (a request under that key is in progress); a document
adopted when a resend of part of its batch is refused for the key, whose receipts had not gone."""

from dataclasses import replace

import httpx

from core.domain import RemoteDocument
from core.errors import OutcomeUnknown
from tests.connectors.xero.documents import RECEIPT, bill
from tests.connectors.xero.fake_xero import FakeXero

IN_PROGRESS = {
    "ErrorNumber": 409,
    "Type": "ConflictException",
    "Message": "A request with this Idempotency-Key is still being processed.",
}
REUSED = {
    "ErrorNumber": 10,
    "Type": "ValidationException",
    "Message": "The idempotency key has already been used for a different request.",
}


async def test_a_put_still_in_flight_is_not_sent_again_under_another_key() -> None:
    """The first PUT timed out on our side while Xero kept working on it; a lookup then finds nothing yet. Sent
    again under its key, Xero answers 409 while the first runs: nothing is proved absent, so nothing may go under a
    key of its own (the first request then commits, and the documents would exist twice)."""
    fake = FakeXero()
    in_flight: list[httpx.Request] = []

    def slow_xero(request: httpx.Request) -> httpx.Response | None:
        if request.method != "PUT":
            return None
        key = request.headers["Idempotency-Key"]
        if not in_flight:
            in_flight.append(request)
            raise httpx.ReadTimeout("timed out", request=request)
        if any(running.headers["Idempotency-Key"] == key for running in in_flight):
            return httpx.Response(409, json=IN_PROGRESS)
        return None

    fake.hooks.append(slow_xero)
    async with fake.connector() as connector:
        documents = [bill("i1"), bill("i2")]
        key = connector.request_keys(documents)[0]
        first = await connector.push(documents)
        assert all(isinstance(outcome, OutcomeUnknown) for outcome in first), first
        again = await connector.push([replace(document, request_key=key) for document in documents])
    fake.hooks.clear()
    fake._put(in_flight[0], "Invoices")  # Xero finishes the first request
    assert all(isinstance(outcome, OutcomeUnknown) for outcome in again), again
    assert len(fake.documents["Invoices"]) == 2, [row["InvoiceNumber"] for row in fake.documents["Invoices"]]
    assert {request.headers["Idempotency-Key"] for request in fake.sent("PUT", "/Invoices")} == {
        in_flight[0].headers["Idempotency-Key"]
    }


async def test_a_resent_put_finished_meanwhile_is_adopted() -> None:
    """Once the first request finished, the same PUT under the same key is answered with its outcome."""
    fake = FakeXero()
    in_flight: list[httpx.Request] = []

    def slow_once(request: httpx.Request) -> httpx.Response | None:
        if request.method == "PUT" and not in_flight:
            in_flight.append(request)
            raise httpx.ReadTimeout("timed out", request=request)
        return None

    fake.hooks.append(slow_once)
    async with fake.connector() as connector:
        documents = [bill("j1")]
        key = connector.request_keys(documents)[0]
        [first] = await connector.push(documents)
        assert isinstance(first, OutcomeUnknown)
        fake._put(in_flight[0], "Invoices")
        [again] = await connector.push([replace(documents[0], request_key=key)])
    assert isinstance(again, RemoteDocument)
    assert len(fake.documents["Invoices"]) == 1


async def test_a_document_adopted_when_its_key_is_refused_gets_its_receipts() -> None:
    """The first PUT created both bills but its answer was lost, and so were the lookups after it: the receipts never
    went. One bill is sent again alone under the key, which Xero refuses (another body); the lookup finds it, and
    its receipt follows it as it would a document the answer named."""
    fake = FakeXero()
    first_bodies: dict[str, bytes] = {}
    lost: list[bool] = []

    def xero(request: httpx.Request) -> httpx.Response | None:
        key = request.headers.get("Idempotency-Key", "")
        if request.method == "PUT" and "/Attachments/" not in request.url.path:
            if key in first_bodies and first_bodies[key] != request.content:
                return httpx.Response(400, json=REUSED)
            first_bodies.setdefault(key, request.content)
            if not lost:
                lost.append(True)
                fake._put(request, "Invoices")
                raise httpx.ReadTimeout("timed out", request=request)
        if request.method == "GET" and len(lost) == 1:
            lost.append(True)
            return httpx.Response(503)
        return None

    fake.hooks.append(xero)
    async with fake.connector() as connector:
        documents = [bill("q1", attachments=(RECEIPT,)), bill("q2")]
        key = connector.request_keys(documents)[0]
        first = await connector.push(documents)
        assert all(isinstance(outcome, OutcomeUnknown) for outcome in first), first
        assert not fake.sent("PUT", "/receipt.pdf")
        [again] = await connector.push([replace(documents[0], request_key=key)])
    assert isinstance(again, RemoteDocument) and again.adopted, again
    assert len(fake.documents["Invoices"]) == 2
    assert len(fake.sent("PUT", "/receipt.pdf")) == 1
