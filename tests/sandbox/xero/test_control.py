"""The control API: credentials and grants, organisations, documents and duplicate counts, a payment made in
Xero, dimension changes for incremental imports, the demo hooks, and operation names for the fault layer."""

import httpx

from sandbox.xero import XeroSimulator
from sandbox.xero.constants import MAIN_TENANT, SEEDED_REFRESH_TOKEN, UK_TENANT
from tests.sandbox.xero.conftest import Xero, bill, contact_id, ok


def test_credentials_name_both_organisations_and_the_seeded_grant(xero: Xero) -> None:
    body = xero.control.get("/credentials").json()
    assert body["refresh_token"] == SEEDED_REFRESH_TOKEN
    assert {(o["tenant_id"], o["base_currency"]) for o in body["organisations"]} == {
        (MAIN_TENANT, "USD"),
        (UK_TENANT, "GBP"),
    }
    assert body["paths"]["token"] == "/xero/identity/connect/token"


def test_grants_mint_tokens_for_chosen_organisations(xero: Xero) -> None:
    tokens = xero.grant(tenant_ids=[UK_TENANT])
    rows = xero.wire.get("/connections", headers={"Authorization": f"Bearer {tokens['access_token']}"}).json()
    assert [row["tenantId"] for row in rows] == [UK_TENANT]
    refreshed = xero.token_response(grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    assert refreshed.status_code == 200


def test_expire_tokens(api: httpx.Client, xero: Xero) -> None:
    assert api.get("/Organisation").status_code == 200
    xero.control.post("/tokens/expire")
    assert api.get("/Organisation").status_code == 401


def test_documents_and_counts_show_duplicates(api: httpx.Client, xero: Xero) -> None:
    contact = contact_id(api)
    ok(api.put("/Invoices", json={"Invoices": [bill(contact, "DUP")]}))
    ok(api.put("/Invoices", json={"Invoices": [bill(contact, "DUP")]}))
    counts = xero.control.get(f"/organisations/{MAIN_TENANT}/counts").json()
    assert counts["invoice_numbers"] == {"DUP": 2} and counts["creates"]["Invoices"] == 2
    documents = xero.control.get(f"/organisations/{MAIN_TENANT}/documents", params={"invoice_number": "DUP"}).json()
    assert documents["count"] == 2 and len(documents["items"][0]["LineItems"]) == 2


def test_a_payment_made_in_xero_marks_the_bill_paid(api: httpx.Client, xero: Xero) -> None:
    invoice = ok(api.put("/Invoices", json={"Invoices": [bill(contact_id(api))]}))["Invoices"][0]
    paid = xero.control.post(f"/organisations/{MAIN_TENANT}/invoices/{invoice['InvoiceID']}/paid", json={})
    assert paid.status_code == 200, paid.text
    assert ok(api.get(f"/Invoices/{invoice['InvoiceID']}"))["Invoices"][0]["Status"] == "PAID"
    assert len(ok(api.get("/Payments"))["Payments"]) == 1


def test_dimension_changes_for_incremental_imports(api: httpx.Client, xero: Xero) -> None:
    added = xero.control.post(
        f"/organisations/{MAIN_TENANT}/dimensions/Accounts", json={"name": "Meals", "code": "421"}
    )
    assert added.status_code == 201
    account_id = added.json()["AccountID"]
    assert ok(api.get("/Accounts", params={"where": 'Code=="421"'}))["Accounts"][0]["Name"] == "Meals"
    xero.control.patch(f"/organisations/{MAIN_TENANT}/dimensions/Accounts/{account_id}", json={"status": "ARCHIVED"})
    assert ok(api.get(f"/Accounts/{account_id}"))["Accounts"][0]["Status"] == "ARCHIVED"
    category = ok(api.get("/TrackingCategories"))["TrackingCategories"][0]
    option = xero.control.post(
        f"/organisations/{MAIN_TENANT}/tracking/{category['TrackingCategoryID']}/options", json={"name": "Central"}
    )
    assert option.status_code == 201
    renamed = xero.control.patch(
        f"/organisations/{MAIN_TENANT}/tracking/{category['TrackingCategoryID']}/options/"
        f"{option.json()['TrackingOptionID']}",
        json={"name": "Middle", "status": "ARCHIVED"},
    )
    assert renamed.json()["Name"] == "Middle"
    third = xero.control.post(f"/organisations/{MAIN_TENANT}/tracking", json={"name": "Project"})
    assert third.status_code == 400


def test_demo_seed_close_books_and_deactivate(api: httpx.Client, xero: Xero) -> None:
    seed = xero.control.get("/demo").json()
    assert seed["connect"]["refresh_token"] == SEEDED_REFRESH_TOKEN
    assert seed["mapping_choices"]["account"] and seed["mapping_choices"]["contact"]
    assert seed["export_settings"]["card"]["export_type"] == "charge_card_transaction"
    closed = xero.control.post("/demo/close_books", json={"through": "2026-11-20", "dry_run": True}).json()
    assert closed == {"closed_through": "2026-11-20"}
    assert api.put("/Invoices", json={"Invoices": [bill(contact_id(api))]}).status_code == 200
    xero.control.post("/demo/close_books", json={"through": "2026-11-20"})
    assert api.put("/Invoices", json={"Invoices": [bill(contact_id(api))]}).status_code == 400
    contact = seed["mapping_choices"]["contact"][0]
    gone = xero.control.post("/demo/deactivate", json={"attribute_type": "contact", "remote_id": contact})
    assert gone.json()["status"] == "inactive"
    assert (
        xero.control.post("/demo/deactivate", json={"attribute_type": "account", "remote_id": "400"}).status_code == 200
    )
    assert xero.control.post("/demo/deactivate", json={"attribute_type": "x", "remote_id": "1"}).status_code == 404


def test_limits_and_lock_dates_are_listed(xero: Xero) -> None:
    xero.control.put(f"/organisations/{UK_TENANT}/lock_dates", json={"period_lock_date": "2026-06-30"})
    xero.control.put(f"/organisations/{UK_TENANT}/limits", json={"per_day": 100})
    uk = next(o for o in xero.control.get("/organisations").json() if o["tenant_id"] == UK_TENANT)
    assert uk["period_lock_date"] == "2026-06-30" and uk["limits"]["per_day"] == 100


def test_operation_names_for_the_fault_layer(xero: Xero) -> None:
    simulator = xero.sandbox.box.systems["xero"]
    assert isinstance(simulator, XeroSimulator)
    name = simulator.operation_of
    assert name("PUT", "/xero/api.xro/2.0/Invoices", b"") == "PUT Invoices"
    assert name("GET", "/xero/api.xro/2.0/Contacts", b"") == "GET Contacts"
    assert name("GET", "/xero/api.xro/2.0/Invoices/abc", b"") == "GET Invoices/{id}"
    assert name("PUT", "/xero/api.xro/2.0/Invoices/abc/Attachments/r.pdf", b"") == "PUT Invoices/{id}/Attachments"
    assert name("POST", "/xero/identity/connect/token", b"") == "POST /identity/connect/token"


def test_server_faults_answer_xero_bodies(api: httpx.Client, xero: Xero) -> None:
    xero.sandbox.control().post("/faults", json={"system": "xero", "operation": "GET Accounts", "mode": "error"})
    failed = api.get("/Accounts")
    assert failed.status_code == 503 and failed.json()["Type"] == "ServiceUnavailableException"
