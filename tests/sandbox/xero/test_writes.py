"""Writes: bills, spend money and manual journals (PUT creates, POST updates), several per request,
summarizeErrors=false partial failures, Idempotency-Key replay and refusal, lookups by InvoiceNumbers/where,
duplicate supplier numbers allowed, lock dates, multi-currency, tracking, payments, attachments."""

import hashlib

import httpx

from sandbox.xero.constants import MAIN_TENANT, UK_TENANT
from tests.sandbox.xero.conftest import Xero, bill, contact_id, journal, ok, spend


def test_put_creates_a_bill_with_totals(api: httpx.Client) -> None:
    created = ok(api.put("/Invoices", json={"Invoices": [bill(contact_id(api))]}))["Invoices"][0]
    assert created["Type"] == "ACCPAY" and created["Status"] == "AUTHORISED"
    assert created["Total"] == 130.0 and created["AmountDue"] == 130.0 and created["AmountPaid"] == 0
    assert created["Date"].startswith("/Date(") and created["DateString"] == "2026-11-20T00:00:00"
    fetched = ok(api.get(f"/Invoices/{created['InvoiceID']}"))["Invoices"][0]
    assert fetched["InvoiceNumber"] == "LL-0001" and len(fetched["LineItems"]) == 2


def test_several_bills_in_one_request_and_lookup_by_invoice_numbers(api: httpx.Client) -> None:
    contact = contact_id(api)
    bills = [bill(contact, f"LL-{n}") for n in range(5)]
    assert len(ok(api.put("/Invoices", json={"Invoices": bills}))["Invoices"]) == 5
    found = ok(api.get("/Invoices", params={"InvoiceNumbers": "LL-1,LL-3"}))["Invoices"]
    assert sorted(inv["InvoiceNumber"] for inv in found) == ["LL-1", "LL-3"]
    where = ok(api.get("/Invoices", params={"where": 'Type=="ACCPAY" AND InvoiceNumber=="LL-4"'}))["Invoices"]
    assert len(where) == 1
    paged = ok(api.get("/Invoices", params={"page": 2, "pageSize": 2, "order": "InvoiceNumber"}))
    assert [inv["InvoiceNumber"] for inv in paged["Invoices"]] == ["LL-2", "LL-3"]
    assert paged["pagination"]["itemCount"] == 5
    statuses = ok(api.get("/Invoices", params={"Statuses": "DRAFT"}))["Invoices"]
    assert statuses == []
    ids = ok(api.get("/Invoices", params={"ContactIDs": contact}))["Invoices"]
    assert len(ids) == 5


def test_supplier_invoice_numbers_are_not_unique(api: httpx.Client) -> None:
    contact = contact_id(api)
    ok(api.put("/Invoices", json={"Invoices": [bill(contact, "SAME")]}))
    ok(api.put("/Invoices", json={"Invoices": [bill(contact, "SAME")]}))
    assert len(ok(api.get("/Invoices", params={"InvoiceNumbers": "SAME"}))["Invoices"]) == 2


def test_summarize_errors_false_saves_the_valid_ones(api: httpx.Client, xero: Xero) -> None:
    contact = contact_id(api)
    bad = bill(contact, "BAD", LineItems=[{"Description": "x", "UnitAmount": 5, "AccountCode": "999"}])
    answer = ok(api.put("/Invoices", params={"summarizeErrors": "false"}, json={"Invoices": [bill(contact), bad]}))
    good, failed = answer["Invoices"]
    assert good["StatusAttributeString"] == "OK" and good["InvoiceID"]
    assert failed["StatusAttributeString"] == "ERROR" and failed["HasErrors"] is True
    assert "not a valid code" in failed["ValidationErrors"][0]["Message"]
    assert xero.control.get(f"/organisations/{MAIN_TENANT}/counts").json()["creates"]["Invoices"] == 1


def test_by_default_one_invalid_document_fails_the_whole_request(api: httpx.Client) -> None:
    contact = contact_id(api)
    bad = bill(contact, "BAD", Contact={"ContactID": "00000000-0000-0000-0000-000000000000"})
    refused = api.put("/Invoices", json={"Invoices": [bill(contact), bad]})
    assert refused.status_code == 400
    body = refused.json()
    assert body["ErrorNumber"] == 10 and body["Type"] == "ValidationException"
    assert body["Message"] == "A validation exception occurred"
    assert body["Elements"][0]["ValidationErrors"]
    assert ok(api.get("/Invoices"))["Invoices"] == []


def test_idempotency_key_replays_the_first_answer(api: httpx.Client, xero: Xero) -> None:
    payload = {"Invoices": [bill(contact_id(api))]}
    first = api.put("/Invoices", json=payload, headers={"Idempotency-Key": "batch-1"})
    again = api.put("/Invoices", json=payload, headers={"Idempotency-Key": "batch-1"})
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()
    assert len(ok(api.get("/Invoices"))["Invoices"]) == 1
    counts = xero.control.get(f"/organisations/{MAIN_TENANT}/counts").json()
    assert counts["idempotency_keys"]["batch-1"] == {"runs": 1, "replays": 1, "status": 200}
    assert counts["invoice_numbers"] == {"LL-0001": 1}


def test_idempotency_key_with_a_different_body_is_refused(api: httpx.Client) -> None:
    contact = contact_id(api)
    ok(api.put("/Invoices", json={"Invoices": [bill(contact)]}, headers={"Idempotency-Key": "k"}))
    other = api.put("/Invoices", json={"Invoices": [bill(contact, "OTHER")]}, headers={"Idempotency-Key": "k"})
    assert other.status_code == 400 and "idempotency key" in other.json()["Message"].lower()
    assert (
        api.put("/Invoices", json={"Invoices": [bill(contact)]}, headers={"Idempotency-Key": "k" * 129}).status_code
        == 400
    )


def test_idempotency_keys_are_per_organisation(xero: Xero) -> None:
    with xero.api(MAIN_TENANT) as us, xero.api(UK_TENANT) as uk:
        ok(us.put("/Invoices", json={"Invoices": [bill(contact_id(us))]}, headers={"Idempotency-Key": "shared"}))
        ok(uk.put("/Invoices", json={"Invoices": [bill(contact_id(uk))]}, headers={"Idempotency-Key": "shared"}))
        assert len(ok(uk.get("/Invoices"))["Invoices"]) == 1


def test_commit_then_fail_is_replayed_not_duplicated(api: httpx.Client, xero: Xero) -> None:
    xero.sandbox.control().post(
        "/faults", json={"system": "xero", "operation": "PUT Invoices", "mode": "commit_then_fail", "times": 1}
    )
    payload = {"Invoices": [bill(contact_id(api))]}
    failed = api.put("/Invoices", json=payload, headers={"Idempotency-Key": "ctf"})
    assert failed.status_code == 503
    assert len(ok(api.get("/Invoices", params={"InvoiceNumbers": "LL-0001"}))["Invoices"]) == 1
    replay = ok(api.put("/Invoices", json=payload, headers={"Idempotency-Key": "ctf"}))
    assert replay["Invoices"][0]["InvoiceNumber"] == "LL-0001"
    assert len(ok(api.get("/Invoices"))["Invoices"]) == 1


def test_post_updates_and_deletes_a_draft(api: httpx.Client) -> None:
    created = ok(api.put("/Invoices", json={"Invoices": [bill(contact_id(api), Status="DRAFT")]}))["Invoices"][0]
    updated = ok(api.post(f"/Invoices/{created['InvoiceID']}", json={"Invoices": [{"Reference": "changed"}]}))
    assert updated["Invoices"][0]["Reference"] == "changed" and updated["Invoices"][0]["Total"] == 130.0
    deleted = ok(api.post("/Invoices", json={"Invoices": [{"InvoiceID": created["InvoiceID"], "Status": "DELETED"}]}))
    assert deleted["Invoices"][0]["Status"] == "DELETED"


def test_lock_dates_refuse_documents_on_or_before_them(api: httpx.Client, xero: Xero) -> None:
    xero.control.put(f"/organisations/{MAIN_TENANT}/lock_dates", json={"period_lock_date": "2026-11-20"})
    contact = contact_id(api)
    refused = api.put("/Invoices", json={"Invoices": [bill(contact)]})
    assert refused.status_code == 400
    message = refused.json()["Elements"][0]["ValidationErrors"][0]["Message"]
    assert message == "The document date cannot be before the period lock date, currently set at 20-Nov-2026"
    ok(api.put("/Invoices", json={"Invoices": [bill(contact, Date="2026-11-21")]}))
    xero.control.put(f"/organisations/{MAIN_TENANT}/lock_dates", json={"end_of_year_lock_date": "2026-12-31"})
    year_end = api.put("/BankTransactions", json={"BankTransactions": [spend(contact)]})
    assert "end of year lock date" in year_end.json()["Elements"][0]["ValidationErrors"][0]["Message"]
    org = ok(api.get("/Organisation"))["Organisations"][0]
    assert org["EndOfYearLockDate"].startswith("/Date(")


def test_archived_account_and_contact_are_refused(api: httpx.Client, xero: Xero) -> None:
    contact = contact_id(api)
    archived = bill(contact, LineItems=[{"Description": "x", "UnitAmount": 5, "AccountCode": "477"}])
    message = api.put("/Invoices", json={"Invoices": [archived]}).json()["Elements"][0]["ValidationErrors"][0]
    assert "has been archived" in message["Message"]
    xero.control.post("/demo/deactivate", json={"attribute_type": "contact", "remote_id": contact})
    assert api.put("/Invoices", json={"Invoices": [bill(contact)]}).status_code == 400


def test_multi_currency_bill_carries_its_rate(xero: Xero) -> None:
    with xero.api(UK_TENANT) as uk:
        contact = contact_id(uk)
        created = ok(uk.put("/Invoices", json={"Invoices": [bill(contact, CurrencyCode="USD", CurrencyRate=0.8)]}))
        invoice = created["Invoices"][0]
        assert invoice["CurrencyCode"] == "USD" and invoice["CurrencyRate"] == 0.8
        default_rate = ok(uk.put("/Invoices", json={"Invoices": [bill(contact, CurrencyCode="USD")]}))
        assert default_rate["Invoices"][0]["CurrencyRate"] == 1.27  # USD per GBP
        refused = uk.put("/Invoices", json={"Invoices": [bill(contact, CurrencyCode="JPY")]})
        assert "Organisation is not subscribed to currency JPY" in refused.text
        ok(uk.put("/Currencies", json={"Code": "JPY", "Description": "Yen"}))
        ok(uk.put("/Invoices", json={"Invoices": [bill(contact, CurrencyCode="JPY", CurrencyRate=0.005)]}))


def test_tracking_on_lines_and_the_two_active_categories_limit(api: httpx.Client) -> None:
    line = {
        "Description": "x",
        "UnitAmount": 5,
        "AccountCode": "493",
        "Tracking": [{"Name": "Region", "Option": "North"}, {"Name": "Department", "Option": "Sales"}],
    }
    created = ok(api.put("/Invoices", json={"Invoices": [bill(contact_id(api), LineItems=[line])]}))["Invoices"][0]
    assert {t["Option"] for t in created["LineItems"][0]["Tracking"]} == {"North", "Sales"}
    bad = line | {"Tracking": [{"Name": "Region", "Option": "Mars"}]}
    assert api.put("/Invoices", json={"Invoices": [bill(contact_id(api), LineItems=[bad])]}).status_code == 400
    third = api.put("/TrackingCategories", json={"Name": "Project"})
    assert third.status_code == 400
    assert "2 active tracking categories" in third.json()["Elements"][0]["ValidationErrors"][0]["Message"]
    region = next(c for c in ok(api.get("/TrackingCategories"))["TrackingCategories"] if c["Name"] == "Region")
    ok(api.post(f"/TrackingCategories/{region['TrackingCategoryID']}", json={"Status": "ARCHIVED"}))
    ok(api.put("/TrackingCategories", json={"Name": "Project"}))
    assert len(ok(api.get("/TrackingCategories"))["TrackingCategories"]) == 2
    assert len(ok(api.get("/TrackingCategories", params={"includeArchived": "true"}))["TrackingCategories"]) == 3


def test_spend_money_and_manual_journals(api: httpx.Client) -> None:
    contact = contact_id(api)
    created = ok(api.put("/BankTransactions", json={"BankTransactions": [spend(contact)]}))["BankTransactions"][0]
    assert created["Type"] == "SPEND" and created["BankAccount"]["Code"] == "091" and created["Total"] == 18.4
    found = ok(api.get("/BankTransactions", params={"where": 'Reference=="LL-C-1"'}))["BankTransactions"]
    assert len(found) == 1
    not_bank = spend(contact, BankAccount={"Code": "493"})
    assert api.put("/BankTransactions", json={"BankTransactions": [not_bank]}).status_code == 400
    posted = ok(api.put("/ManualJournals", json={"ManualJournals": [journal()]}))["ManualJournals"][0]
    assert posted["Status"] == "POSTED" and len(posted["JournalLines"]) == 2
    lines = [{"LineAmount": 55.0, "AccountCode": "493"}, {"LineAmount": -50.0, "AccountCode": "800"}]
    unbalanced = api.put("/ManualJournals", json={"ManualJournals": [journal(JournalLines=lines)]})
    assert unbalanced.status_code == 400 and "must equal total credits" in unbalanced.text


def test_payments_mark_the_bill_paid(api: httpx.Client) -> None:
    invoice = ok(api.put("/Invoices", json={"Invoices": [bill(contact_id(api))]}))["Invoices"][0]
    payment = {
        "Invoice": {"InvoiceID": invoice["InvoiceID"]},
        "Account": {"Code": "090"},
        "Date": "2026-11-25",
        "Amount": 100.0,
        "Reference": "LL-P-1",
    }
    ok(api.put("/Payments", json={"Payments": [payment]}))
    partly = ok(api.get(f"/Invoices/{invoice['InvoiceID']}"))["Invoices"][0]
    assert partly["Status"] == "AUTHORISED" and partly["AmountDue"] == 30.0 and partly["AmountPaid"] == 100.0
    over = api.put("/Payments", json={"Payments": [payment | {"Amount": 31.0}]})
    assert over.status_code == 400
    assert "Payment amount exceeds the amount outstanding on this document" in over.text
    ok(api.put("/Payments", json={"Payments": [payment | {"Amount": 30.0, "Reference": "LL-P-2"}]}))
    paid = ok(api.get(f"/Invoices/{invoice['InvoiceID']}"))["Invoices"][0]
    assert paid["Status"] == "PAID" and paid["AmountDue"] == 0
    assert len(ok(api.get("/Payments", params={"where": 'Reference=="LL-P-2"'}))["Payments"]) == 1
    draft = ok(api.put("/Invoices", json={"Invoices": [bill(contact_id(api), Status="DRAFT")]}))["Invoices"][0]
    refused = api.put("/Payments", json={"Payments": [payment | {"Invoice": {"InvoiceID": draft["InvoiceID"]}}]})
    assert "Payments can only be made against Authorised documents" in refused.text


def test_attachments_by_file_name(api: httpx.Client, xero: Xero) -> None:
    invoice = ok(api.put("/Invoices", json={"Invoices": [bill(contact_id(api))]}))["Invoices"][0]
    content = b"%PDF-1.4 receipt"
    path = f"/Invoices/{invoice['InvoiceID']}/Attachments/receipt 1.pdf"
    uploaded = ok(api.put(path, content=content, headers={"Content-Type": "application/pdf"}))["Attachments"][0]
    assert uploaded["FileName"] == "receipt 1.pdf" and uploaded["ContentLength"] == len(content)
    assert api.get(path).content == content
    listed = ok(api.get(f"/Invoices/{invoice['InvoiceID']}/Attachments"))["Attachments"]
    assert len(listed) == 1
    assert ok(api.get(f"/Invoices/{invoice['InvoiceID']}"))["Invoices"][0]["HasAttachments"] is True
    for n in range(9):
        ok(
            api.put(
                f"/Invoices/{invoice['InvoiceID']}/Attachments/r{n}.png",
                content=b"png",
                headers={"Content-Type": "image/png"},
            )
        )
    eleventh = api.put(
        f"/Invoices/{invoice['InvoiceID']}/Attachments/r11.png", content=b"png", headers={"Content-Type": "image/png"}
    )
    assert eleventh.status_code == 400
    stored = xero.control.get(f"/organisations/{MAIN_TENANT}/attachments").json()["items"]
    assert hashlib.sha256(content).hexdigest() in {item["sha256"] for item in stored}
    spent = ok(api.put("/BankTransactions", json={"BankTransactions": [spend(contact_id(api))]}))
    transaction = spent["BankTransactions"][0]["BankTransactionID"]
    ok(
        api.post(
            f"/BankTransactions/{transaction}/Attachments/r.jpg", content=b"jpg", headers={"Content-Type": "image/jpeg"}
        )
    )
    assert api.put("/Invoices/00000000-0000-0000-0000-000000000000/Attachments/x.pdf", content=b"x").status_code == 404
