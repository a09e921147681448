"""Ledgerline's documents as QuickBooks objects: a Bill, a credit-card Purchase, a JournalEntry, a BillPayment.

Amounts go out as JSON numbers written from their `Decimal` (`amount_of` refuses any that a float would not carry
exactly). A foreign document states its currency and the rate that makes QuickBooks' home total equal what the
source booked (`exchange_rate_of`). Departments are a whole bill's or purchase's in QuickBooks (a journal line's
own): a bill whose lines name different departments cannot be built, and says so.
"""

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from connectors.quickbooks.constants import (
    BILL_PAYMENT_BY_CHECK,
    DEPARTMENT,
    LINE_REFS,
    MAX_DESCRIPTION_LENGTH,
    MAX_PRIVATE_NOTE_LENGTH,
    PARTY_TYPES,
    PURCHASE_PAYMENT_TYPES,
    TAX_CALCULATION_EXCLUDED,
)
from connectors.quickbooks.errors import DISPLAY_NAME
from connectors.quickbooks.references import doc_number, private_note
from core.domain import Document, DocumentKind, DocumentLine
from core.errors import ValidationError
from core.traces import traced

Json = dict[str, Any]
RATE_PLACES = Decimal("0.000001")
"""QuickBooks keeps exchange rates to six places."""


def amount_of(value: Decimal) -> float:
    """A JSON number for an amount, exactly: money has at most 15 significant digits, which a float's shortest
    representation keeps; anything else is refused rather than rounded."""
    number = float(value)
    if Decimal(repr(number)) != value:
        raise ValidationError(f"The amount {value} cannot be sent to {DISPLAY_NAME} exactly.", code="invalid_amount")
    return number


def _ref(value: str) -> Json:
    return {"value": value}


def _invalid(document: Document, problem: str) -> ValidationError:
    return ValidationError(
        f"document {document.reference}: {problem}",
        code="invalid_document",
        hint="Change the export settings or the grouping that build this document, then replay it.",
    )


def exchange_rate_of(document: Document) -> Decimal | None:
    """The rate to send: the one making the home total what the source booked (the lines' base amounts), else the
    source's own; None for a document in the company's home currency."""
    if not document.is_foreign:
        return None
    lines = [line for line in document.lines if line.debit]
    total = sum((line.amount for line in lines), Decimal(0))
    bases = [line.base_amount for line in lines]
    if total and all(base is not None for base in bases):
        base_total = sum((base for base in bases if base is not None), Decimal(0))
        return (base_total / total).quantize(RATE_PLACES, rounding=ROUND_HALF_UP)
    return document.exchange_rate


def _header(document: Document) -> Json:
    header: Json = {
        "TxnDate": document.transaction_date.isoformat(),
        "DocNumber": doc_number(document.reference),
        "PrivateNote": private_note(document.reference, document.memo, max_length=MAX_PRIVATE_NOTE_LENGTH),
        "CurrencyRef": _ref(document.currency),
    }
    rate = exchange_rate_of(document)
    if rate is not None:
        header["ExchangeRate"] = float(rate)
    return header


def _department(document: Document) -> Json:
    """A bill's or purchase's one department, from its lines."""
    departments = {line.dimensions[DEPARTMENT] for line in document.lines if DEPARTMENT in line.dimensions}
    if len(departments) > 1:
        raise _invalid(
            document,
            f"its lines name {len(departments)} departments, and {DISPLAY_NAME} keeps one per document. Group "
            "expenses so that each document has one department, or map them to classes instead.",
        )
    return {"DepartmentRef": _ref(departments.pop())} if departments else {}


def _description(line: DocumentLine) -> Json:
    """The line's memo, led by the ids of its source expenses (`core.traces`): how the books check finds them."""
    text = traced(line.description, line.source_ids)
    return {"Description": text[:MAX_DESCRIPTION_LENGTH]} if text else {}


def _expense_line(document: Document, line: DocumentLine) -> Json:
    if line.account is None:
        raise _invalid(document, "a line books to no account.")
    detail: Json = {"AccountRef": _ref(line.account)}
    for dimension, field in LINE_REFS.items():
        if dimension in line.dimensions:
            detail[field] = _ref(line.dimensions[dimension])
    if line.tax_code is not None:
        detail["TaxCodeRef"] = _ref(line.tax_code)
    return {
        "Amount": amount_of(line.amount),
        "DetailType": "AccountBasedExpenseLineDetail",
        **_description(line),
        "AccountBasedExpenseLineDetail": detail,
    }


def _taxes(document: Document) -> Json:
    taxes = [line.tax_amount for line in document.lines if line.tax_amount is not None]
    if not taxes:
        return {}
    return {
        "GlobalTaxCalculation": TAX_CALCULATION_EXCLUDED,
        "TxnTaxDetail": {"TotalTax": amount_of(sum(taxes, Decimal(0)))},
    }


def bill(document: Document) -> Json:
    if document.counterparty is None:
        raise _invalid(document, "a bill needs a vendor.")
    body = {
        **_header(document),
        "VendorRef": _ref(document.counterparty),
        **_department(document),
        **_taxes(document),
        "Line": [_expense_line(document, line) for line in document.lines],
    }
    if document.due_date is not None:
        body["DueDate"] = document.due_date.isoformat()
    return body


def purchase(document: Document) -> Json:
    """A card expense (a Purchase paid by credit card from the card's account) or a check (paid by check to the
    employee from a bank account). A card's merchant is free text in Ledgerline's documents, so it stays in the
    memo rather than the payee, which names a QuickBooks object."""
    if document.account is None:
        raise _invalid(document, f"a {document.kind.value} needs the account it is paid from.")
    body = {
        **_header(document),
        "PaymentType": PURCHASE_PAYMENT_TYPES[document.kind],
        "AccountRef": _ref(document.account),
        **_department(document),
        **_taxes(document),
        "Line": [_expense_line(document, line) for line in document.lines],
    }
    if document.kind is DocumentKind.CHECK:
        if document.counterparty is None:
            raise _invalid(document, "a check needs a payee.")
        body["EntityRef"] = _ref(document.counterparty)
    return body


def _journal_line(document: Document, line: DocumentLine) -> Json:
    if line.account is None:
        raise _invalid(document, "a journal line books to no account.")
    detail: Json = {"PostingType": "Debit" if line.debit else "Credit", "AccountRef": _ref(line.account)}
    if "class" in line.dimensions:
        detail["ClassRef"] = _ref(line.dimensions["class"])
    if DEPARTMENT in line.dimensions:
        detail["DepartmentRef"] = _ref(line.dimensions[DEPARTMENT])
    parties = [(kind, line.dimensions[name]) for name, kind in PARTY_TYPES.items() if name in line.dimensions]
    if parties:
        kind, party = parties[0]
        detail["Entity"] = {"Type": kind, "EntityRef": _ref(party)}
    return {
        "Amount": amount_of(line.amount),
        "DetailType": "JournalEntryLineDetail",
        **_description(line),
        "JournalEntryLineDetail": detail,
    }


def journal_entry(document: Document) -> Json:
    return {**_header(document), "Line": [_journal_line(document, line) for line in document.lines]}


def bill_payment(
    *, reference: str, vendor: str, bill_id: str, amount: Decimal, paid_on: str, bank_account: str, currency: str
) -> Json:
    """A payment by check from `bank_account` of `amount` against one bill."""
    return {
        "TxnDate": paid_on,
        "DocNumber": doc_number(reference),
        "PrivateNote": private_note(reference, None, max_length=MAX_PRIVATE_NOTE_LENGTH),
        "VendorRef": _ref(vendor),
        "CurrencyRef": _ref(currency),
        "PayType": BILL_PAYMENT_BY_CHECK,
        "CheckPayment": {"BankAccountRef": _ref(bank_account)},
        "TotalAmt": amount_of(amount),
        "Line": [{"Amount": amount_of(amount), "LinkedTxn": [{"TxnId": bill_id, "TxnType": "Bill"}]}],
    }


BUILDERS = {
    DocumentKind.BILL: bill,
    DocumentKind.CHARGE_CARD_TRANSACTION: purchase,
    DocumentKind.CHECK: purchase,
    DocumentKind.JOURNAL_ENTRY: journal_entry,
}


def document_body(document: Document, objects: Sequence[tuple[DocumentKind, str]]) -> tuple[str, Json]:
    """(QuickBooks object name, its JSON) for a document; `ValidationError` for one that cannot be built."""
    builder = BUILDERS.get(document.kind)
    names = dict(objects)
    if builder is None or document.kind not in names:
        raise _invalid(document, f"{DISPLAY_NAME} does not create {document.kind.value} documents.")
    return names[document.kind], builder(document)
