"""Payments against bills: the invoice by `InvoiceID` or `InvoiceNumber`, the paying account by `AccountID` or
`Code`; only AUTHORISED documents take payments and never more than is outstanding (Xero's messages). A payment
lowers `AmountDue`, raises `AmountPaid`, and a bill paid in full becomes PAID with `FullyPaidOnDate`."""

from datetime import date
from decimal import Decimal
from typing import Any

from sandbox.xero.constants import MONEY_PLACES
from sandbox.xero.documents import _lock_messages
from sandbox.xero.lines import account_ref, money
from sandbox.xero.store import OrgStore
from sandbox.xero.wiredates import parse_date

PAYMENT_TYPES = {"ACCPAY": "ACCPAYPAYMENT", "ACCREC": "ACCRECPAYMENT"}


def invoice_ref(store: OrgStore, ref: Any) -> dict[str, Any] | None:
    if not isinstance(ref, dict):
        return None
    if ref.get("InvoiceID"):
        return store.get("Invoices", str(ref["InvoiceID"]))
    if ref.get("InvoiceNumber"):
        number = str(ref["InvoiceNumber"])
        live = [
            inv
            for inv in store.all("Invoices")
            if inv.get("InvoiceNumber") == number and inv["Status"] not in ("DELETED", "VOIDED")
        ]
        return live[0] if live else None
    return None


def build_payment(store: OrgStore, raw: dict[str, Any], *, today: date) -> tuple[dict[str, Any], list[str]]:
    errors: list[str] = []
    invoice = invoice_ref(store, raw.get("Invoice"))
    if invoice is None:
        errors.append("Invoice could not be found" if raw.get("Invoice") else "Invoice must be specified")
    account = account_ref(store, raw.get("Account"))
    if account is None:
        errors.append("Account could not be found" if raw.get("Account") else "Account must be specified")
    elif account.get("Type") != "BANK" and not account.get("EnablePaymentsToAccount"):
        errors.append("Payments cannot be made to this account. Enable payments to this account in Xero first.")
    day = parse_date(raw["Date"]) if raw.get("Date") else today
    if day is None:
        errors.append(f"The date '{raw.get('Date')}' is not a valid date.")
        day = today
    errors.extend(_lock_messages(store, day))
    amount = money(raw.get("Amount"))
    if amount is None or amount <= 0:
        errors.append("Payment amount must be greater than zero")
        amount = Decimal(0)
    if invoice is not None:
        if invoice["Status"] != "AUTHORISED":
            errors.append("Payments can only be made against Authorised documents")
        elif amount > invoice["AmountDue"]:
            errors.append("Payment amount exceeds the amount outstanding on this document")
    payment: dict[str, Any] = {
        "Date": day,
        "Amount": amount.quantize(MONEY_PLACES),
        "BankAmount": amount.quantize(MONEY_PLACES),
        "CurrencyRate": money(raw.get("CurrencyRate"), (invoice or {}).get("CurrencyRate", Decimal(1))),
        "Reference": raw.get("Reference") or "",
        "IsReconciled": bool(raw.get("IsReconciled", False)),
        "Status": "AUTHORISED",
        "PaymentType": PAYMENT_TYPES.get(str((invoice or {}).get("Type")), "ACCPAYPAYMENT"),
        "HasAccount": account is not None,
        "HasValidationErrors": False,
    }
    if invoice is not None:
        payment["Invoice"] = {
            "InvoiceID": invoice["InvoiceID"],
            "InvoiceNumber": invoice.get("InvoiceNumber", ""),
            "Type": invoice["Type"],
            "Contact": invoice["Contact"],
            "CurrencyCode": invoice["CurrencyCode"],
            "HasErrors": False,
        }
    if account is not None:
        payment["Account"] = {"AccountID": account["AccountID"], "Code": account["Code"]}
    return payment, errors


def apply_payment(store: OrgStore, payment: dict[str, Any]) -> None:
    """Record a saved payment on its bill."""
    invoice = store.get("Invoices", payment["Invoice"]["InvoiceID"])
    if invoice is None:
        return
    invoice["AmountPaid"] += payment["Amount"]
    invoice["AmountDue"] = invoice["Total"] - invoice["AmountPaid"] - invoice.get("AmountCredited", Decimal(0))
    invoice["Payments"].append(
        {
            "PaymentID": payment["PaymentID"],
            "Date": payment["Date"],
            "Amount": payment["Amount"],
            "Reference": payment["Reference"],
            "CurrencyRate": payment["CurrencyRate"],
            "HasAccount": True,
            "HasValidationErrors": False,
        }
    )
    if invoice["AmountDue"] <= 0:
        invoice["Status"] = "PAID"
        invoice["FullyPaidOnDate"] = payment["Date"]
    store.touch("Invoices", invoice)
