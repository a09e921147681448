"""The control API (realms, documents, paying bills) and outgoing webhooks in both formats."""

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta

import httpx

from sandbox.quickbooks.constants import MAIN_REALM, UK_REALM
from tests.sandbox.fyle.conftest import Receiver, receiver, receiver_server, wait_for
from tests.sandbox.quickbooks.conftest import Qbo, bill_body

__all__ = ["receiver", "receiver_server"]


def test_credentials_and_realms_describe_the_seeded_companies(qbo: Qbo) -> None:
    credentials = qbo.control.get("/credentials").json()
    assert credentials["discovery_url"].endswith("/quickbooks/.well-known/openid_sandbox_configuration")
    realms = {realm["realm_id"]: realm for realm in credentials["realms"]}
    assert realms[MAIN_REALM]["multicurrency"] and realms[MAIN_REALM]["home_currency"] == "USD"
    assert not realms[UK_REALM]["multicurrency"] and realms[UK_REALM]["home_currency"] == "GBP"
    counts = qbo.control.get(f"/realms/{MAIN_REALM}/counts").json()
    assert counts["Account"] >= 30 and counts["Vendor"] >= 12 and counts["Employee"] == 6
    assert {"Customer", "Class", "Department", "Item", "TaxCode", "Term"} <= set(counts)


def test_mark_paid_records_a_bill_payment_and_cdc_reports_the_bill(qbo: Qbo, api: httpx.Client) -> None:
    bill = api.post("/bill", json=bill_body(api, doc_number="PAY-1")).json()["Bill"]
    since = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
    paid = qbo.control.post(f"/realms/{MAIN_REALM}/bills/{bill['Id']}/paid", json={"amount": "30"}).json()
    assert paid["Bill"]["Balance"] == 100 and paid["BillPayment"]["TotalAmt"] == 30
    rest = qbo.control.post(f"/realms/{MAIN_REALM}/bills/{bill['Id']}/paid", json={}).json()
    assert rest["Bill"]["Balance"] == 0
    assert qbo.control.post(f"/realms/{MAIN_REALM}/bills/{bill['Id']}/paid", json={}).status_code == 409
    cdc = api.get("/cdc", params={"entities": "BillPayment", "changedSince": since}).json()
    assert len(cdc["CDCResponse"][0]["QueryResponse"][0]["BillPayment"]) == 2
    found = qbo.control.get(f"/realms/{MAIN_REALM}/documents", params={"entity": "Bill", "doc_number": "PAY-1"}).json()
    assert found["count"] == 1 and found["data"][0]["Balance"] == 0


def _signed(body: bytes, token: str) -> str:
    return base64.b64encode(hmac.new(token.encode(), body, hashlib.sha256).digest()).decode()


def test_webhooks_in_both_formats_are_signed_with_intuit_signature(
    qbo: Qbo, api: httpx.Client, receiver: Receiver
) -> None:
    qbo.control.post("/webhooks", json={"url": receiver.url, "verifier_token": "vt-classic", "format": "classic"})
    qbo.control.post("/webhooks", json={"url": receiver.url, "verifier_token": "vt-cloud", "format": "cloudevents"})
    bill = api.post("/bill", json=bill_body(api)).json()["Bill"]
    wait_for(lambda: len(receiver.received) == 2)
    bodies = {}
    for body, headers in receiver.received:
        parsed = json.loads(body)
        token = "vt-cloud" if isinstance(parsed, list) else "vt-classic"
        assert headers["intuit-signature"] == _signed(body, token)
        bodies[token] = parsed
    entity = bodies["vt-classic"]["eventNotifications"][0]
    assert entity["realmId"] == MAIN_REALM
    assert entity["dataChangeEvent"]["entities"][0] | {"lastUpdated": ""} == {
        "name": "Bill",
        "id": bill["Id"],
        "operation": "Create",
        "lastUpdated": "",
    }
    event = bodies["vt-cloud"][0]
    assert event["type"] == "qbo.bill.created.v1" and event["intuitentityid"] == bill["Id"]
    assert event["intuitaccountid"] == MAIN_REALM and event["specversion"] == "1.0"
    # The simulator writes a delivery down once the receiver has answered: after the body has arrived.
    wait_for(lambda: _delivered(qbo) == 2)


def _delivered(qbo: Qbo) -> int:
    deliveries = qbo.control.get("/webhooks/deliveries").json()["data"]
    return sum(1 for delivery in deliveries if delivery["delivered"])
