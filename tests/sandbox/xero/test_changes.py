"""Changes a connector must see: contacts created and refused by name, payments deleted, a bill paid showing in
If-Modified-Since, documents updated with POST, and the store's change hook telling the webhook dispatcher."""

from datetime import UTC, datetime, timedelta

import httpx

from sandbox.xero.constants import MAIN_TENANT
from sandbox.xero.state import XeroState
from tests.sandbox.xero.conftest import Xero, bill, contact_id, ok, spend


def test_contacts_put_and_duplicate_names_refused(api: httpx.Client) -> None:
    created = ok(api.put("/Contacts", json={"Contacts": [{"Name": "New Supplier", "EmailAddress": "a@b.example"}]}))
    assert created["Contacts"][0]["ContactID"] and created["Contacts"][0]["ContactStatus"] == "ACTIVE"
    duplicate = api.put("/Contacts", json={"Contacts": [{"Name": "new supplier"}]})
    assert duplicate.status_code == 400 and "already assigned to another contact" in duplicate.text


def test_a_bill_naming_an_unknown_contact_by_name_creates_it(api: httpx.Client) -> None:
    named = bill("", Contact={"Name": "Brand New Cafe"})
    ok(api.put("/Invoices", json={"Invoices": [named]}))
    assert contact_id(api, "Brand New Cafe")


def test_a_payment_shows_the_bill_as_modified(api: httpx.Client, xero: Xero) -> None:
    invoice = ok(api.put("/Invoices", json={"Invoices": [bill(contact_id(api))]}))["Invoices"][0]
    since = (datetime.now(UTC) + timedelta(seconds=30)).isoformat()
    xero.sandbox.control().put("/clock", json={"advance_seconds": 60})
    xero.control.post(f"/organisations/{MAIN_TENANT}/invoices/{invoice['InvoiceID']}/paid", json={"amount": "30"})
    changed = ok(api.get("/Invoices", headers={"If-Modified-Since": since}, params={"page": 1}))["Invoices"]
    assert [inv["InvoiceID"] for inv in changed] == [invoice["InvoiceID"]]
    assert changed[0]["AmountPaid"] == 30.0 and changed[0]["Status"] == "AUTHORISED"


def test_deleting_a_payment_reopens_the_bill(api: httpx.Client) -> None:
    invoice = ok(api.put("/Invoices", json={"Invoices": [bill(contact_id(api))]}))["Invoices"][0]
    payment = {
        "Invoice": {"InvoiceID": invoice["InvoiceID"]},
        "Account": {"Code": "090"},
        "Amount": 130.0,
        "Date": "2026-11-25",
    }
    paid = ok(api.put("/Payments", json={"Payments": [payment]}))["Payments"][0]
    assert ok(api.get(f"/Invoices/{invoice['InvoiceID']}"))["Invoices"][0]["Status"] == "PAID"
    ok(api.post(f"/Payments/{paid['PaymentID']}", json={"Status": "DELETED"}))
    reopened = ok(api.get(f"/Invoices/{invoice['InvoiceID']}"))["Invoices"][0]
    assert reopened["Status"] == "AUTHORISED" and reopened["AmountDue"] == 130.0


def test_a_paid_bill_cannot_be_edited(api: httpx.Client) -> None:
    invoice = ok(api.put("/Invoices", json={"Invoices": [bill(contact_id(api))]}))["Invoices"][0]
    payment = {"Invoice": {"InvoiceID": invoice["InvoiceID"]}, "Account": {"Code": "090"}, "Amount": 130.0}
    ok(api.put("/Payments", json={"Payments": [payment]}))
    refused = api.post(f"/Invoices/{invoice['InvoiceID']}", json={"Invoices": [{"Reference": "x"}]})
    assert refused.status_code == 400 and "has a payment or credit note allocated" in refused.text


def test_post_updates_a_spend_money_transaction(api: httpx.Client) -> None:
    contact = contact_id(api)
    created = ok(api.put("/BankTransactions", json={"BankTransactions": [spend(contact)]}))
    transaction = created["BankTransactions"][0]
    update = spend(contact, "LL-C-2", BankTransactionID=transaction["BankTransactionID"])
    updated = ok(api.post("/BankTransactions", json={"BankTransactions": [update]}))["BankTransactions"][0]
    assert updated["Reference"] == "LL-C-2" and updated["Total"] == 18.4
    assert api.put("/BankTransactions", json={"BankTransactions": [update]}).status_code == 400


def test_too_many_documents_in_one_request_is_refused(api: httpx.Client) -> None:
    contact = contact_id(api)
    many = [bill(contact, f"N-{n}") for n in range(201)]
    assert api.put("/Invoices", json={"Invoices": many}).status_code == 400


def test_changes_reach_the_webhook_dispatcher(api: httpx.Client, xero: Xero) -> None:
    state = xero.sandbox.box.systems["xero"].state  # type: ignore[attr-defined]
    assert isinstance(state, XeroState)
    heard: list[tuple[str, str, str, str]] = []
    for store in state.orgs.values():
        store.listener = lambda *event: heard.append(event)
    invoice = ok(api.put("/Invoices", json={"Invoices": [bill(contact_id(api))]}))["Invoices"][0]
    ok(api.post(f"/Invoices/{invoice['InvoiceID']}", json={"Invoices": [{"Reference": "changed"}]}))
    ok(api.put("/Contacts", json={"Contacts": [{"Name": "Heard Supplier"}]}))
    kinds = [(resource, event) for _, resource, event, _ in heard]
    assert kinds == [("INVOICE", "CREATE"), ("INVOICE", "UPDATE"), ("CONTACT", "CREATE")]
    assert all(tenant == MAIN_TENANT for tenant, *_ in heard)
