"""Exactly once where only an exact wire answer can show it: a PUT that timed out while Xero still works on it,
then resent under its Idempotency-Key and answered 409 (a request under that key is in progress)."""

from dataclasses import replace

import httpx

from core.domain import RemoteDocument
from core.errors import OutcomeUnknown
from tests.connectors.xero.documents import bill
from tests.connectors.xero.fake_xero import FakeXero

IN_PROGRESS = {
    "ErrorNumber": 409,
    "Type": "ConflictException",
    "Message": "A request with this Idempotency-Key is still being processed.",
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
