"""Creates, reads and updates over the wire, and the business validation QuickBooks answers with real Faults."""

from typing import Any

import httpx
import pytest

from tests.sandbox.quickbooks.conftest import (
    Qbo,
    account_id,
    bill_body,
    expense_line,
    fault_of,
    find,
    vendor_id,
)


def created(api: httpx.Client, entity: str, body: dict[str, Any], **params: str) -> dict[str, Any]:
    response = api.post(f"/{entity.lower()}", json=body, params=params)
    assert response.status_code == 200, response.text
    obj: dict[str, Any] = response.json()[entity]
    return obj


def refused(api: httpx.Client, entity: str, body: dict[str, Any], **params: str) -> dict[str, Any]:
    response = api.post(f"/{entity.lower()}", json=body, params=params)
    assert response.status_code == 400, response.text
    assert response.json()["Fault"]["type"] == "ValidationFault"
    return fault_of(response)


def test_bill_is_stored_with_totals_defaults_and_named_refs(api: httpx.Client) -> None:
    bill = created(api, "Bill", bill_body(api, SalesTermRef={"value": find(api, "Term", "Name = 'Net 30'")["Id"]}))
    assert bill["TotalAmt"] == 130 and bill["Balance"] == 130 and bill["SyncToken"] == "0"
    assert bill["DueDate"] == "2026-12-20" and bill["APAccountRef"]["name"] == "Accounts Payable (A/P)"
    assert bill["VendorRef"]["name"] == "Delta Air Lines" and bill["CurrencyRef"]["value"] == "USD"
    assert [line["Id"] for line in bill["Line"]] == ["1", "2"]
    read = api.get(f"/bill/{bill['Id']}").json()["Bill"]
    assert read == bill


def test_read_of_a_missing_object_is_610(api: httpx.Client) -> None:
    response = api.get("/bill/999999")
    assert response.status_code == 400 and fault_of(response)["code"] == "610"


def test_update_needs_the_current_sync_token_and_sparse_keeps_other_fields(api: httpx.Client) -> None:
    bill = created(api, "Bill", bill_body(api))
    updated = created(api, "Bill", {"Id": bill["Id"], "SyncToken": "0", "sparse": True, "PrivateNote": "edited"})
    assert updated["SyncToken"] == "1" and updated["PrivateNote"] == "edited" and updated["TotalAmt"] == 130
    stale = refused(api, "Bill", {"Id": bill["Id"], "SyncToken": "0", "sparse": True, "PrivateNote": "again"})
    assert stale["code"] == "5010"
    assert refused(api, "Bill", {"Id": bill["Id"], "sparse": True})["code"] == "2020"


def test_required_fields_are_2020(api: httpx.Client) -> None:
    body = bill_body(api)
    del body["VendorRef"]
    assert refused(api, "Bill", body) == {
        "Message": "Required param missing, need to supply the required value for the API",
        "Detail": "Required parameter VendorRef is missing in the request",
        "code": "2020",
        "element": "VendorRef",
    }
    assert refused(api, "Bill", bill_body(api, Line=[]))["code"] == "2020"


def test_unknown_references_are_2500_and_inactive_ones_610(api: httpx.Client) -> None:
    body = bill_body(api)
    body["Line"][0]["AccountBasedExpenseLineDetail"]["ClassRef"] = {"value": "424242"}
    fault = refused(api, "Bill", body)
    assert fault["code"] == "2500" and "424242" in fault["Detail"]
    vendor = find(api, "Vendor", "DisplayName = 'Lyft'")
    created(api, "Vendor", {"Id": vendor["Id"], "SyncToken": vendor["SyncToken"], "sparse": True, "Active": False})
    assert refused(api, "Bill", bill_body(api, VendorRef={"value": vendor["Id"]}))["code"] == "610"


def test_doc_number_longer_than_21_is_refused(api: httpx.Client) -> None:
    fault = refused(api, "Bill", bill_body(api, doc_number="X" * 22))
    assert fault["code"] == "2050" and fault["element"] == "DocNumber"
    assert created(api, "Bill", bill_body(api, doc_number="X" * 21))["DocNumber"] == "X" * 21


def test_duplicate_doc_number_is_6140_only_while_the_preference_is_on(qbo: Qbo, api: httpx.Client) -> None:
    first = created(api, "Bill", bill_body(api, doc_number="DUP-1"))
    fault = refused(api, "Bill", bill_body(api, doc_number="DUP-1"))
    assert fault["code"] == "6140" and f"TxnId={first['Id']}" in fault["Detail"] and "TxnType=Bill" in fault["Detail"]
    assert created(api, "Bill", bill_body(api, doc_number="DUP-1"), include="allowduplicatedocnum")
    realm = api.base_url.path.rstrip("/").split("/")[-1]
    assert qbo.control.put(f"/realms/{realm}/preferences", json={"duplicate_doc_number_check": False}).is_success
    assert created(api, "Bill", bill_body(api, doc_number="DUP-1"))


def test_closed_books_refuse_postings_on_or_before_the_closing_date_with_6210(qbo: Qbo, api: httpx.Client) -> None:
    realm = api.base_url.path.rstrip("/").split("/")[-1]
    open_bill = created(api, "Bill", bill_body(api, doc_number="OPEN-1", TxnDate="2026-11-01"))
    qbo.control.put(f"/realms/{realm}/closing_date", json={"closing_date": "2026-11-15"})
    assert refused(api, "Bill", bill_body(api, doc_number="C-1", TxnDate="2026-11-15"))["code"] == "6210"
    assert created(api, "Bill", bill_body(api, doc_number="C-2", TxnDate="2026-11-16"))
    edit = {"Id": open_bill["Id"], "SyncToken": "0", "sparse": True, "PrivateNote": "late edit"}
    assert refused(api, "Bill", edit)["code"] == "6210"
    assert api.get("/preferences").json()["Preferences"]["AccountingInfoPrefs"]["BookCloseDate"] == "2026-11-15"


def test_duplicate_names_are_6240_across_vendors_customers_and_employees(api: httpx.Client) -> None:
    assert refused(api, "Vendor", {"DisplayName": "delta air lines"})["code"] == "6240"
    assert refused(api, "Customer", {"DisplayName": "Ada Lovelace"})["code"] == "6240"
    assert refused(api, "Account", {"Name": "Travel", "AccountType": "Expense"})["code"] == "6240"
    assert created(api, "Vendor", {"DisplayName": "New Supplier"})["CurrencyRef"]["value"] == "USD"


def test_journal_entry_must_balance_and_name_a_vendor_on_payables(api: httpx.Client) -> None:
    travel, payable = account_id(api, "Travel"), account_id(api, "Accounts Payable (A/P)")

    def line(side: str, account: str, amount: float, **detail: Any) -> dict[str, Any]:
        return {
            "Amount": amount,
            "DetailType": "JournalEntryLineDetail",
            "JournalEntryLineDetail": {"PostingType": side, "AccountRef": {"value": account}, **detail},
        }

    unbalanced = refused(api, "JournalEntry", {"Line": [line("Debit", travel, 10), line("Credit", payable, 9)]})
    assert unbalanced["code"] == "6000" and unbalanced["Message"].startswith("A business validation error")
    no_vendor = refused(api, "JournalEntry", {"Line": [line("Debit", travel, 10), line("Credit", payable, 10)]})
    assert no_vendor["code"] == "6000" and "vendor" in no_vendor["Detail"]
    vendor = {"Type": "Vendor", "EntityRef": {"value": vendor_id(api)}}
    entry = created(
        api, "JournalEntry", {"Line": [line("Debit", travel, 10), line("Credit", payable, 10, Entity=vendor)]}
    )
    assert entry["TotalAmt"] == 10


@pytest.mark.parametrize(
    ("payment_type", "account", "ok"),
    [
        ("CreditCard", "Corporate Visa", True),
        ("Check", "Checking", True),
        ("Cash", "Checking", True),
        ("CreditCard", "Checking", False),
        ("Check", "Corporate Visa", False),
    ],
)
def test_purchase_payment_types_need_matching_accounts(
    api: httpx.Client, payment_type: str, account: str, ok: bool
) -> None:
    body = {
        "PaymentType": payment_type,
        "AccountRef": {"value": account_id(api, account)},
        "EntityRef": {"value": find(api, "Employee", "DisplayName = 'Ada Lovelace'")["Id"], "type": "Employee"},
        "Line": [expense_line(account_id(api, "Lodging"), 210.0)],
    }
    if ok:
        purchase = created(api, "Purchase", body)
        assert purchase["TotalAmt"] == 210 and purchase["EntityRef"]["name"] == "Ada Lovelace"
    else:
        assert refused(api, "Purchase", body)["code"] == "6000"
    assert refused(api, "Purchase", body | {"PaymentType": "Wire"})["code"] == "2170"


def test_foreign_currency_bill_takes_the_realm_rate_or_the_one_sent(api: httpx.Client) -> None:
    lufthansa = vendor_id(api, "Lufthansa")
    travel = account_id(api, "Airfare")
    body = {"VendorRef": {"value": lufthansa}, "CurrencyRef": {"value": "EUR"}, "Line": [expense_line(travel, 100.0)]}
    bill = created(api, "Bill", body)
    assert bill["ExchangeRate"] == 1.0823 and bill["HomeTotalAmt"] == 108.23
    sent = created(api, "Bill", body | {"ExchangeRate": 1.1})
    assert sent["ExchangeRate"] == 1.1 and sent["HomeTotalAmt"] == 110
    mismatch = refused(api, "Bill", body | {"CurrencyRef": {"value": "GBP"}})
    assert mismatch["code"] == "6000" and "currency" in mismatch["Detail"]


def test_a_single_currency_company_refuses_foreign_documents(uk_api: httpx.Client) -> None:
    body = bill_body(uk_api, CurrencyRef={"value": "EUR"})
    fault = refused(uk_api, "Bill", body)
    assert fault["code"] == "6000" and "Multicurrency" in fault["Detail"]
    assert created(uk_api, "Bill", bill_body(uk_api))["CurrencyRef"]["value"] == "GBP"


def test_delete_of_a_transaction_and_tax_codes_are_read_only(api: httpx.Client) -> None:
    bill = created(api, "Bill", bill_body(api))
    deleted = api.post("/bill", params={"operation": "delete"}, json={"Id": bill["Id"], "SyncToken": "0"})
    assert deleted.json()["Bill"] == {"domain": "QBO", "status": "Deleted", "Id": bill["Id"]}
    assert api.get(f"/bill/{bill['Id']}").status_code == 400
    assert refused(api, "TaxCode", {"Name": "NEW"})["code"] == "500"


def test_bill_payment_reduces_the_bill_balance_and_cannot_overpay(api: httpx.Client) -> None:
    bill = created(api, "Bill", bill_body(api))
    payment = {
        "VendorRef": bill["VendorRef"],
        "PayType": "Check",
        "CheckPayment": {"BankAccountRef": {"value": account_id(api, "Checking")}},
        "TotalAmt": 100,
        "Line": [{"Amount": 100, "LinkedTxn": [{"TxnId": bill["Id"], "TxnType": "Bill"}]}],
    }
    created(api, "BillPayment", payment)
    paid = api.get(f"/bill/{bill['Id']}").json()["Bill"]
    assert paid["Balance"] == 30 and paid["SyncToken"] == "1" and paid["LinkedTxn"][0]["TxnType"] == "BillPayment"
    assert refused(api, "BillPayment", payment)["code"] == "6000"
