"""Report webhooks: Standard Webhooks signatures, Fyle's payload, background delivery with retries."""

import base64
from typing import Any

import httpx
import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from tests.sandbox.fyle.conftest import Fyle, Receiver, wait_for

FAST_RETRIES = {"webhook_retry_delays_seconds": [0.05, 0.05]}


def _subscribe(fyle: Fyle, receiver: Receiver, secret: str | None = None) -> dict[str, Any]:
    answer = fyle.control.post("/fyle/webhooks", json={"url": receiver.url} | ({"secret": secret} if secret else {}))
    assert answer.status_code == 201, answer.text
    subscription: dict[str, Any] = answer.json()
    return subscription


def _report(api: httpx.Client, state: str) -> dict[str, Any]:
    report: dict[str, Any] = api.get("/reports", params={"state": f"eq.{state}", "limit": 1}).json()["data"][0]
    return report


def _deliveries(fyle: Fyle) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = fyle.control.get("/fyle/webhooks/deliveries").json()["data"]
    return data


def test_a_report_state_change_sends_a_signed_fyle_payload(fyle: Fyle, api: httpx.Client, receiver: Receiver) -> None:
    subscription = _subscribe(fyle, receiver)
    report = _report(api, "APPROVER_PENDING")

    moved = fyle.control.post(f"/fyle/reports/{report['id']}/state", json={"state": "APPROVED"})

    assert moved.status_code == 200 and moved.json()["state"] == "APPROVED"
    [(body, headers)] = wait_for(lambda: receiver.received)
    payload = Webhook(subscription["secret"]).verify(body, headers)
    assert payload["resource"] == "REPORT" and payload["action"] == "ADMIN_APPROVED"
    assert payload["reason"] == "Admin approved the report."
    assert payload["data"]["id"] == report["id"] and payload["data"]["state"] == "APPROVED"
    assert payload["data"]["last_approved_at"] is not None
    assert set(payload["data"]["updated_by_user"]) == {"id", "email", "full_name"}
    assert headers["webhook-id"].startswith("msg_")
    [delivery] = wait_for(lambda: _deliveries(fyle))
    assert delivery["delivered"] and delivery["attempt"] == 1 and delivery["status_code"] == 204
    assert delivery["action"] == "ADMIN_APPROVED" and delivery["resource_id"] == report["id"]


def test_a_failed_delivery_is_retried_with_the_same_message_id(
    fyle: Fyle, api: httpx.Client, receiver: Receiver
) -> None:
    fyle.control.put("/fyle/settings", json=FAST_RETRIES)
    subscription = _subscribe(fyle, receiver)
    receiver.failures_left = 1
    report = _report(api, "PAYMENT_PROCESSING")

    api.post("/reports/mark_paid/bulk", json={"data": [{"id": report["id"]}]})

    first, second = wait_for(lambda: receiver.received if len(receiver.received) >= 2 else None)
    assert first[1]["webhook-id"] == second[1]["webhook-id"]
    assert Webhook(subscription["secret"]).verify(second[0], second[1])["action"] == "MARK_PAID"
    attempts = wait_for(lambda: _deliveries(fyle) if len(_deliveries(fyle)) >= 2 else None)
    assert [(d["attempt"], d["delivered"], d["status_code"], d["retry_in_seconds"]) for d in attempts] == [
        (1, False, 503, 0.05),
        (2, True, 204, None),
    ]


def test_an_unreachable_endpoint_is_given_up_after_the_last_retry(fyle: Fyle, api: httpx.Client) -> None:
    fyle.control.put("/fyle/settings", json=FAST_RETRIES | {"webhook_timeout_seconds": 1})
    fyle.control.post("/fyle/webhooks", json={"url": "http://127.0.0.1:9/nothing-listens-here"})
    report = _report(api, "DRAFT")

    fyle.control.post(f"/fyle/reports/{report['id']}/state", json={"state": "APPROVER_PENDING"})

    attempts = wait_for(lambda: _deliveries(fyle) if len(_deliveries(fyle)) >= 3 else None)
    assert [attempt["attempt"] for attempt in attempts] == [1, 2, 3]
    assert not any(attempt["delivered"] for attempt in attempts)
    assert attempts[0]["error"] and attempts[-1]["retry_in_seconds"] is None
    assert attempts[0]["action"] == "STATE_CHANGE_APPROVER_PENDING"


def test_a_chosen_secret_signs_and_the_sandbox_clock_stamps_the_delivery(
    fyle: Fyle, api: httpx.Client, receiver: Receiver
) -> None:
    secret = "whsec_" + base64.b64encode(b"ledgerline-test-secret-0123456789").decode()
    _subscribe(fyle, receiver, secret)
    fyle.control.put("/clock", json={"advance_seconds": 600})

    api.post("/reports/accounting_export_summary/bulk", json={"data": [{"id": _report(api, "APPROVED")["id"]}]})

    [(body, headers)] = wait_for(lambda: receiver.received)
    with pytest.raises(WebhookVerificationError, match="too new"):
        Webhook(secret).verify(body, headers)
    assert b'"action":"ACCOUNTING_EXPORT_INITIATED"' in body


def test_unsubscribing_stops_deliveries(fyle: Fyle, api: httpx.Client, receiver: Receiver) -> None:
    subscription = _subscribe(fyle, receiver)
    listed = fyle.control.get("/fyle/webhooks").json()

    removed = fyle.control.delete(f"/fyle/webhooks/{subscription['id']}")
    fyle.control.post(f"/fyle/reports/{_report(api, 'DRAFT')['id']}/state", json={"state": "APPROVER_PENDING"})

    assert listed["count"] == 1 and removed.status_code == 204
    assert fyle.control.get("/fyle/webhooks/deliveries").json()["count"] == 0
    assert receiver.received == []


def test_subscriptions_need_an_http_url_and_a_whsec_secret(fyle: Fyle) -> None:
    bad_url = fyle.control.post("/fyle/webhooks", json={"url": "ftp://example.com/hook"})
    bad_secret = fyle.control.post("/fyle/webhooks", json={"url": "http://127.0.0.1/hook", "secret": "plain"})

    assert bad_url.status_code == bad_secret.status_code == 422
