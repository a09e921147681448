"""Building Invoices (bills), BankTransactions and ManualJournals from what a client sent, with Xero's checks.

A builder returns the stored document and the list of validation messages; the caller decides (per
`summarizeErrors`) whether one failure sinks the request. Contacts named by `Name` alone are found or, as Xero
does, created; by `ContactID` they must exist. A document dated on or before the organisation's period or
end-of-year lock date is refused with Xero's message."""

import uuid
from datetime import date
from decimal import Decimal
from typing import Any

from sandbox.xero.constants import BANK_TRANSACTION_TYPES, LINE_AMOUNT_TYPES, MONEY_PLACES, RATE_PLACES
from sandbox.xero.lines import account_ref, build_line, money, totals
from sandbox.xero.store import OrgStore
from sandbox.xero.wiredates import parse_date

CREATABLE_INVOICE_STATUSES = ("DRAFT", "SUBMITTED", "AUTHORISED")
RATES_TO_BASE = {
    ("EUR", "USD"): Decimal("0.92"),
    ("USD", "GBP"): Decimal("1.27"),
    ("GBP", "USD"): Decimal("0.79"),
    ("EUR", "GBP"): Decimal("1.17"),
}
"""(foreign, base) → Xero's CurrencyRate, foreign units per one unit of the base currency (Xero's own example: an
NZD invoice in a USD organisation at 1.547150): what Xero's XE feed would supply when a client sends no rate."""
LOCK_FORMAT = "%d-%b-%Y"


def _lock_messages(store: OrgStore, day: date) -> list[str]:
    messages = []
    period = store.organisation.get("PeriodLockDate")
    year_end = store.organisation.get("EndOfYearLockDate")
    if isinstance(period, date) and day <= period:
        messages.append(
            f"The document date cannot be before the period lock date, currently set at {period.strftime(LOCK_FORMAT)}"
        )
    if isinstance(year_end, date) and day <= year_end:
        messages.append(
            "The document date cannot be before the end of year lock date, currently set at "
            f"{year_end.strftime(LOCK_FORMAT)}"
        )
    return messages


def document_date(store: OrgStore, raw: dict[str, Any], errors: list[str], *, today: date) -> date:
    day = parse_date(raw["Date"]) if raw.get("Date") else today
    if day is None:
        errors.append(f"The date '{raw.get('Date')}' is not a valid date.")
        return today
    errors.extend(_lock_messages(store, day))
    return day


def contact_of(store: OrgStore, raw: Any, errors: list[str]) -> dict[str, Any] | None:
    if not isinstance(raw, dict) or not (raw.get("ContactID") or raw.get("Name")):
        errors.append("A Contact must be specified for this type of transaction")
        return None
    if raw.get("ContactID"):
        contact = store.get("Contacts", str(raw["ContactID"]))
        if contact is None:
            errors.append("The contact with the specified ContactID could not be found.")
            return None
    else:
        name = str(raw["Name"]).strip()
        contact = next((c for c in store.all("Contacts") if str(c["Name"]).lower() == name.lower()), None)
        if contact is None:
            contact = {
                "ContactStatus": "ACTIVE",
                "Name": name,
                "IsSupplier": True,
                "IsCustomer": False,
                "HasAttachments": False,
                "Addresses": [],
                "Phones": [],
                "ContactGroups": [],
                "ContactPersons": [],
                "HasValidationErrors": False,
            }
            store.put("Contacts", contact, created=True)
    if contact.get("ContactStatus") == "ARCHIVED":
        errors.append(f"The contact '{contact['Name']}' has been archived and cannot be used on a transaction.")
    return contact


def contact_summary(contact: dict[str, Any] | None, raw: Any) -> dict[str, Any]:
    if contact is None:
        return dict(raw) if isinstance(raw, dict) else {}
    return {
        "ContactID": contact["ContactID"],
        "Name": contact["Name"],
        "ContactStatus": contact["ContactStatus"],
        "HasValidationErrors": False,
    }


def currency(store: OrgStore, raw: dict[str, Any], errors: list[str]) -> tuple[str, Decimal]:
    code = str(raw.get("CurrencyCode") or store.base_currency).upper()
    if store.get("Currencies", code) is None:
        errors.append(f"Organisation is not subscribed to currency {code}")
    if code == store.base_currency:
        return code, Decimal(1)
    given = money(raw.get("CurrencyRate"))
    if given is not None and given <= 0:
        errors.append("The currency rate must be greater than zero.")
    rate = given if given is not None and given > 0 else RATES_TO_BASE.get((code, store.base_currency), Decimal(1))
    return code, rate.quantize(RATE_PLACES)


def _amount_types(raw: dict[str, Any], errors: list[str]) -> str:
    amount_types = str(raw.get("LineAmountTypes") or "Exclusive")
    if amount_types not in LINE_AMOUNT_TYPES:
        errors.append(f"LineAmountTypes '{amount_types}' is not valid. Use Exclusive, Inclusive or NoTax.")
        return "Exclusive"
    return amount_types


def _lines(
    store: OrgStore, raw: Any, amount_types: str, errors: list[str], *, journal: bool = False
) -> list[dict[str, Any]]:
    lines = [build_line(store, line, amount_types, errors, journal=journal) for line in (raw or [])]
    for line in lines:
        line.setdefault("LineItemID", str(uuid.uuid4()))
        if journal:
            line.pop("LineItemID")
    return lines


def build_invoice(store: OrgStore, raw: dict[str, Any], *, today: date) -> tuple[dict[str, Any], list[str]]:
    errors: list[str] = []
    kind = raw.get("Type")
    if kind not in ("ACCPAY", "ACCREC"):
        errors.append("Invoice Type must be specified" if not kind else f"Invoice Type '{kind}' is not valid")
    contact = contact_of(store, raw.get("Contact"), errors)
    day = document_date(store, raw, errors, today=today)
    due = parse_date(raw["DueDate"]) if raw.get("DueDate") else None
    status = str(raw.get("Status") or "DRAFT")
    if status not in CREATABLE_INVOICE_STATUSES:
        errors.append(f"Invoice Status '{status}' is not valid for a new document.")
    if status != "DRAFT" and not raw.get("LineItems"):
        errors.append("At least one line item must be specified")
    code, rate = currency(store, raw, errors)
    amount_types = _amount_types(raw, errors)
    lines = _lines(store, raw.get("LineItems"), amount_types, errors)
    sums = totals(lines, amount_types)
    invoice: dict[str, Any] = {
        "Type": kind,
        "InvoiceID": raw.get("InvoiceID") or None,
        "InvoiceNumber": raw.get("InvoiceNumber") or "",
        "Reference": raw.get("Reference") or "",
        "Contact": contact_summary(contact, raw.get("Contact")),
        "Date": day,
        "DueDate": due,
        "Status": status,
        "LineAmountTypes": amount_types,
        "LineItems": lines,
        **sums,
        "AmountDue": sums["Total"],
        "AmountPaid": Decimal(0),
        "AmountCredited": Decimal(0),
        "CurrencyCode": code,
        "CurrencyRate": rate,
        "IsDiscounted": False,
        "HasAttachments": False,
        "HasErrors": False,
        "Payments": [],
        "Prepayments": [],
        "Overpayments": [],
        "CreditNotes": [],
    }
    if due is None:
        invoice.pop("DueDate")
    if not invoice["InvoiceID"]:
        invoice.pop("InvoiceID")
    return invoice, errors


def build_bank_transaction(store: OrgStore, raw: dict[str, Any], *, today: date) -> tuple[dict[str, Any], list[str]]:
    errors: list[str] = []
    kind = raw.get("Type")
    if kind not in BANK_TRANSACTION_TYPES:
        errors.append(
            "Bank Transaction Type must be specified" if not kind else f"Bank Transaction Type '{kind}' is not valid"
        )
    contact = contact_of(store, raw.get("Contact"), errors)
    bank = account_ref(store, raw.get("BankAccount"))
    if bank is None or bank.get("Type") != "BANK":
        errors.append("The BankAccount must be specified and must be a bank account")
    elif bank.get("Status") != "ACTIVE":
        errors.append("The bank account has been archived and cannot be used")
    day = document_date(store, raw, errors, today=today)
    if not raw.get("LineItems"):
        errors.append("At least one line item must be specified")
    code, rate = currency(store, raw, errors)
    amount_types = _amount_types(raw, errors)
    lines = _lines(store, raw.get("LineItems"), amount_types, errors)
    status = str(raw.get("Status") or "AUTHORISED")
    if status != "AUTHORISED":
        errors.append(f"Bank transaction Status '{status}' is not valid for a new transaction.")
    transaction: dict[str, Any] = {
        "BankTransactionID": raw.get("BankTransactionID") or None,
        "Type": kind,
        "Contact": contact_summary(contact, raw.get("Contact")),
        "BankAccount": {"AccountID": bank["AccountID"], "Code": bank["Code"], "Name": bank["Name"]} if bank else {},
        "Date": day,
        "Reference": raw.get("Reference") or "",
        "Status": status,
        "LineAmountTypes": amount_types,
        "LineItems": lines,
        **totals(lines, amount_types),
        "CurrencyCode": code,
        "CurrencyRate": rate,
        "IsReconciled": bool(raw.get("IsReconciled", False)),
        "HasAttachments": False,
        "Url": raw.get("Url") or "",
    }
    if not transaction["BankTransactionID"]:
        transaction.pop("BankTransactionID")
    return transaction, errors


def build_manual_journal(store: OrgStore, raw: dict[str, Any], *, today: date) -> tuple[dict[str, Any], list[str]]:
    errors: list[str] = []
    if not str(raw.get("Narration") or "").strip():
        errors.append("Narration must be specified")
    day = document_date(store, raw, errors, today=today)
    amount_types = _amount_types(raw | {"LineAmountTypes": raw.get("LineAmountTypes") or "NoTax"}, errors)
    lines = _lines(store, raw.get("JournalLines"), amount_types, errors, journal=True)
    if len(lines) < 2:
        errors.append("At least two journal lines must be specified")
    balance = sum((line["LineAmount"] for line in lines), Decimal(0))
    if balance != 0:
        debits = sum((line["LineAmount"] for line in lines if line["LineAmount"] > 0), Decimal(0))
        errors.append(
            f"The total debits ({debits.quantize(MONEY_PLACES)}) must equal total credits "
            f"({(debits - balance).quantize(MONEY_PLACES)})"
        )
    status = str(raw.get("Status") or "DRAFT")
    if status not in ("DRAFT", "POSTED"):
        errors.append(f"Manual journal Status '{status}' is not valid for a new journal.")
    journal: dict[str, Any] = {
        "ManualJournalID": raw.get("ManualJournalID") or None,
        "Narration": raw.get("Narration") or "",
        "Date": day,
        "Status": status,
        "LineAmountTypes": amount_types,
        "JournalLines": lines,
        "ShowOnCashBasisReports": bool(raw.get("ShowOnCashBasisReports", True)),
        "HasAttachments": False,
        "Url": raw.get("Url") or "",
    }
    if not journal["ManualJournalID"]:
        journal.pop("ManualJournalID")
    return journal, errors
