"""The Xero simulator's outgoing webhooks: Xero's payload batched per organisation, signed with the webhook key,
retried with the same body until answered 2xx, sent only once intent-to-receive passed; and the intent-to-receive
check itself, which passes only for a receiver answering as Xero demands."""

import asyncio
import base64
import hashlib
import hmac
import json
from collections.abc import Awaitable, Callable

import httpx
import pytest
from fastapi import FastAPI

from sandbox.clock import SandboxClock
from sandbox.xero.webhook_control import build_webhook_router
from sandbox.xero.webhooks import XeroWebhookDispatcher

URL = "http://receiver.test/webhooks/xero"
KEY = "xero-key-" + "q" * 40
ORG_A = "c2cc9b6e-9458-4c7d-93cc-f02b81b0594f"
ORG_B = "aef86862-2015-4b6b-88bc-d89032cecc50"

Handler = Callable[[httpx.Request], Awaitable[httpx.Response]]


def _signature_holds(request: httpx.Request, key: str = KEY) -> bool:
    expected = base64.b64encode(hmac.new(key.encode(), request.content, hashlib.sha256).digest()).decode()
    return hmac.compare_digest(request.headers.get("x-xero-signature", ""), expected)


class Receiver:
    """Records what it is sent; answers as `answer` says (by default as Ledgerline does: 200 empty when the signature
    holds, 401 when not)."""

    def __init__(self, answers: list[int] | None = None, *, delay: float = 0.0, body: bytes = b"") -> None:
        self.requests: list[httpx.Request] = []
        self.answers = answers
        self.delay = delay
        self.body = body

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        await asyncio.sleep(self.delay)
        if self.answers:
            return httpx.Response(self.answers.pop(0))
        return httpx.Response(200 if _signature_holds(request) else 401, content=self.body)


def _dispatcher(receiver: Receiver) -> XeroWebhookDispatcher:
    return XeroWebhookDispatcher(clock=SandboxClock(), transport=httpx.MockTransport(receiver))


async def test_changes_are_batched_per_organisation_in_xeros_payload_and_signed_with_the_key() -> None:
    receiver = Receiver()
    dispatcher = _dispatcher(receiver)
    dispatcher.configure(url=URL, key=KEY, verified=True, batch_seconds=60)
    dispatcher.publish(ORG_A, "INVOICE", "UPDATE", "bill-1")
    dispatcher.publish(ORG_B, "CONTACT", "CREATE", "contact-1")
    dispatcher.publish(ORG_A, "CONTACT", "UPDATE", "contact-2")
    dispatcher.publish(ORG_A, "PAYMENT", "CREATE", "not a category this subscription has")
    dispatcher.publish(ORG_A, "CONTACT", "DELETE", "not an event type Xero sends")
    assert dispatcher.pending() == {ORG_A: 2, ORG_B: 1} and receiver.requests == []

    records = await dispatcher.flush()
    assert sorted((record.tenant_id, record.events, record.delivered) for record in records) == sorted(
        [(ORG_A, 2, True), (ORG_B, 1, True)]
    )
    assert all(_signature_holds(request) for request in receiver.requests)
    assert all(request.headers["content-type"] == "application/json" for request in receiver.requests)
    bodies = {
        json.loads(request.content)["events"][0]["tenantId"]: json.loads(request.content)
        for request in receiver.requests
    }
    first = bodies[ORG_A]
    assert {event["tenantId"] for event in first["events"]} == {ORG_A}
    assert [(e["eventCategory"], e["eventType"], e["resourceId"]) for e in first["events"]] == [
        ("INVOICE", "UPDATE", "bill-1"),
        ("CONTACT", "UPDATE", "contact-2"),
    ]
    assert first["events"][0]["resourceUrl"] == "https://api.xero.com/api.xro/2.0/Invoices/bill-1"
    assert first["events"][0]["tenantType"] == "ORGANISATION"
    assert first["lastEventSequence"] - first["firstEventSequence"] == 1
    sequences = sorted((body["firstEventSequence"], body["lastEventSequence"]) for body in bodies.values())
    assert sequences in ([(1, 1), (2, 3)], [(1, 2), (3, 3)])
    assert first["entropy"] != bodies[ORG_B]["entropy"] and len(first["entropy"]) == 20
    assert dispatcher.pending() == {}


async def test_batches_go_out_by_themselves_after_the_batching_wait() -> None:
    receiver = Receiver()
    dispatcher = _dispatcher(receiver)
    dispatcher.configure(url=URL, key=KEY, verified=True, batch_seconds=0.05)
    dispatcher.publish(ORG_A, "CONTACT", "CREATE", "c1")
    dispatcher.publish(ORG_A, "CONTACT", "UPDATE", "c1")
    for _ in range(100):
        if receiver.requests:
            break
        await asyncio.sleep(0.02)
    [request] = receiver.requests
    assert len(json.loads(request.content)["events"]) == 2


async def test_a_failed_batch_is_retried_with_the_same_signed_body_until_answered_2xx() -> None:
    receiver = Receiver(answers=[500, 503, 200])
    dispatcher = _dispatcher(receiver)
    dispatcher.configure(url=URL, key=KEY, verified=True, retry_delays_seconds=(0.01, 0.01, 0.01))
    dispatcher.publish(ORG_A, "INVOICE", "UPDATE", "bill-1")
    [first] = await dispatcher.flush()
    assert (first.attempt, first.delivered, first.status_code) == (1, False, 500)
    await dispatcher.drain()
    attempts = [(record.id, record.attempt, record.status_code, record.delivered) for record in dispatcher.deliveries()]
    assert attempts == [(first.id, 1, 500, False), (first.id, 2, 503, False), (first.id, 3, 200, True)]
    assert len({request.content for request in receiver.requests}) == 1
    assert len({request.headers["x-xero-signature"] for request in receiver.requests}) == 1


async def test_a_receiver_slower_than_the_deadline_has_failed_the_attempt() -> None:
    receiver = Receiver(delay=0.3)
    dispatcher = _dispatcher(receiver)
    dispatcher.configure(url=URL, key=KEY, verified=True, retry_delays_seconds=(), timeout_seconds=0.1)
    dispatcher.publish(ORG_A, "INVOICE", "UPDATE", "bill-1")
    [record] = await dispatcher.flush()
    assert not record.delivered and record.status_code is None and record.error


async def test_nothing_is_sent_before_intent_to_receive_passed_then_changes_are() -> None:
    receiver = Receiver()
    dispatcher = _dispatcher(receiver)
    dispatcher.configure(url=URL, key=KEY, batch_seconds=60)
    dispatcher.publish(ORG_A, "INVOICE", "UPDATE", "bill-1")
    assert await dispatcher.flush() == [] and dispatcher.skipped == 1 and receiver.requests == []

    report = await dispatcher.intent_to_receive()
    assert report.passed and dispatcher.config is not None and dispatcher.config.verified
    signed, mis_signed = receiver.requests
    for request in (signed, mis_signed):
        assert json.loads(request.content)["events"] == []
    assert _signature_holds(signed) and not _signature_holds(mis_signed)
    assert [(c.signed_correctly, c.status_code, c.passed) for c in report.checks] == [
        (True, 200, True),
        (False, 401, True),
    ]

    dispatcher.publish(ORG_A, "INVOICE", "UPDATE", "bill-2")
    [record] = await dispatcher.flush()
    assert record.delivered


@pytest.mark.parametrize(
    ("receiver", "failing"),
    [
        (Receiver(answers=[200, 200]), "accepts a forgery"),
        (Receiver(answers=[401, 401]), "refuses Xero"),
        (Receiver(body=b'{"ok":true}'), "answers with a body"),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
async def test_intent_to_receive_fails_a_receiver_that_does_not_answer_as_xero_demands(
    receiver: Receiver, failing: str
) -> None:
    dispatcher = _dispatcher(receiver)
    dispatcher.configure(url=URL, key=KEY)
    report = await dispatcher.intent_to_receive()
    assert not report.passed, failing
    assert dispatcher.config is not None and not dispatcher.config.verified


async def test_intent_to_receive_fails_a_receiver_slower_than_its_deadline() -> None:
    dispatcher = _dispatcher(Receiver(delay=0.3))
    dispatcher.configure(url=URL, key=KEY, timeout_seconds=0.1)
    report = await dispatcher.intent_to_receive()
    assert not report.passed and all(check.status_code is None for check in report.checks)


async def test_the_control_routes_configure_check_flush_and_list() -> None:
    receiver = Receiver()
    dispatcher = _dispatcher(receiver)
    app = FastAPI()
    app.include_router(build_webhook_router(lambda: dispatcher), prefix="/_sandbox/xero")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sandbox") as control:
        assert (await control.post("/_sandbox/xero/webhooks/intent-to-receive")).status_code == 404
        assert (await control.put("/_sandbox/xero/webhooks", json={"url": "ftp://x"})).status_code == 422
        made = await control.put("/_sandbox/xero/webhooks", json={"url": URL, "batch_seconds": 60})
        assert made.status_code == 200 and len(made.json()["key"]) == 88 and made.json()["verified"] is False
        key = made.json()["key"]

        checked = await control.post("/_sandbox/xero/webhooks/intent-to-receive")
        # the receiver knows only KEY, so the simulator's own key fails it: both answers are 401
        assert checked.json()["passed"] is False
        await control.put("/_sandbox/xero/webhooks", json={"url": URL, "key": KEY})
        assert (await control.post("/_sandbox/xero/webhooks/intent-to-receive")).json()["passed"] is True
        assert key != KEY

        dispatcher.publish(ORG_A, "CONTACT", "CREATE", "c1")
        shown = (await control.get("/_sandbox/xero/webhooks")).json()
        assert shown["verified"] is True and shown["pending"] == {ORG_A: 1}
        flushed = (await control.post("/_sandbox/xero/webhooks/flush")).json()
        assert flushed["count"] == 1 and flushed["items"][0]["delivered"] is True
        kinds = [item["kind"] for item in (await control.get("/_sandbox/xero/webhooks/deliveries")).json()["items"]]
        assert kinds.count("intent_to_receive_signed") == 2 and kinds[-1] == "events"

        assert (await control.delete("/_sandbox/xero/webhooks")).status_code == 204
        assert (await control.get("/_sandbox/xero/webhooks")).status_code == 404
