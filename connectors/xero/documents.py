"""Ledgerline's documents as Xero objects: an ACCPAY Invoice (a bill), a SPEND BankTransaction (spend money), a
ManualJournal, a Payment.

Lines are net of tax with the tax beside them (`DocumentLine.tax_amount`), so a document with any tax says
`LineAmountTypes: Exclusive` and each line its TaxType and TaxAmount; one without says `NoTax`. Every document
states its CurrencyCode; a foreign one its CurrencyRate (`currency_rate_of`). Xero's manual journals are in the
organisation's base currency only, so a foreign journal posts its lines' base amounts. A line's Description leads
with the ids of its source expenses (`core.traces`), which the books check reads back.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from connectors.xero.constants import (
    AUTHORISED,
    BILL_TYPE,
    CARD_CONTACT_FALLBACK,
    CODE_INVALID_DOCUMENT,
    DISPLAY_NAME,
    LINE_AMOUNTS_EXCLUSIVE,
    LINE_AMOUNTS_NO_TAX,
    MAX_DESCRIPTION_LENGTH,
    POSTED,
    SPEND_TYPE,
    TRACKING_PREFIX,
)
from connectors.xero.references import stored_reference
from connectors.xero.wire import amount_of, is_guid
from core.domain import Document, DocumentKind, DocumentLine
from core.errors import ValidationError
from core.traces import traced

Json = dict[str, Any]
RATE_PLACES = Decimal("0.000001")
ITEM = "item"


@dataclass(frozen=True, slots=True)
class TrackingOption:
    """One option of a tracking category, as a line names it (Xero wants the category's and option's names)."""

    category_id: str
    category: str
    option_id: str
    option: str


Tracking = Mapping[str, TrackingOption]
"""Options by their id."""


def _invalid(document: Document, problem: str) -> ValidationError:
    return ValidationError(
        f"document {document.reference}: {problem}",
        code=CODE_INVALID_DOCUMENT,
        hint="Change the export settings or the grouping that build this document, then replay it.",
    )


def account_ref(value: str) -> Json:
    """An account by its id (what Ledgerline imports) or, for a value typed by a person, its code."""
    return {"AccountID": value} if is_guid(value) else {"Code": value}


def contact_ref(value: str) -> Json:
    """A contact by its id; a card's merchant (free text) by name, which Xero matches to a contact or creates."""
    return {"ContactID": value} if is_guid(value) else {"Name": value}


def currency_rate_of(document: Document) -> Decimal | None:
    """Xero's CurrencyRate is foreign units per one unit of the base currency (its own examples: an NZD invoice in a
    USD organisation at 1.547150), so Xero's base total is the total divided by it. The rate that makes that base
    total what the source booked (the lines' base amounts), else the inverse of the source's own; None at home."""
    if not document.is_foreign:
        return None
    lines = [line for line in document.lines if line.debit]
    total = sum((line.amount + (line.tax_amount or 0) for line in lines), Decimal(0))
    bases = [line.base_amount for line in lines]
    if total and all(base is not None for base in bases):
        base_total = sum((base for base in bases if base is not None), Decimal(0))
        if base_total:
            return (total / base_total).quantize(RATE_PLACES, rounding=ROUND_HALF_UP)
    if document.exchange_rate:
        return (1 / document.exchange_rate).quantize(RATE_PLACES, rounding=ROUND_HALF_UP)
    return None


def _taxed(document: Document) -> bool:
    return any(line.tax_code is not None or line.tax_amount is not None for line in document.lines)


def _tracking(document: Document, line: DocumentLine, tracking: Tracking) -> list[Json]:
    found: list[Json] = []
    for dimension, value in line.dimensions.items():
        if not dimension.startswith(TRACKING_PREFIX):
            continue
        option = tracking.get(value)
        if option is None:
            raise _invalid(document, f"{DISPLAY_NAME} has no tracking option {value} (of {dimension}); re-import it.")
        found.append(
            {
                "TrackingCategoryID": option.category_id,
                "TrackingOptionID": option.option_id,
                "Name": option.category,
                "Option": option.option,
            }
        )
    return found


def _line(document: Document, line: DocumentLine, tracking: Tracking, *, amount_field: str) -> Json:
    if line.account is None:
        raise _invalid(document, "a line books to no account.")
    body: Json = {
        "AccountID" if is_guid(line.account) else "AccountCode": line.account,
    }
    text = traced(line.description, line.source_ids)
    if text:
        body["Description"] = text[:MAX_DESCRIPTION_LENGTH]
    if amount_field == "UnitAmount":
        body["Quantity"] = 1
    body[amount_field] = amount_of(line.amount)
    if line.tax_code is not None:
        body["TaxType"] = line.tax_code
    if line.tax_amount is not None:
        body["TaxAmount"] = amount_of(line.tax_amount)
    if ITEM in line.dimensions:
        body["ItemCode"] = line.dimensions[ITEM]
    lines_tracking = _tracking(document, line, tracking)
    if lines_tracking:
        body["Tracking"] = lines_tracking
    return body


def _money(document: Document) -> Json:
    money: Json = {
        "CurrencyCode": document.currency,
        "LineAmountTypes": LINE_AMOUNTS_EXCLUSIVE if _taxed(document) else LINE_AMOUNTS_NO_TAX,
    }
    rate = currency_rate_of(document)
    if rate is not None:
        money["CurrencyRate"] = float(rate)
    return money


def bill(document: Document, tracking: Tracking) -> Json:
    if document.counterparty is None:
        raise _invalid(document, "a bill is made out to a contact, and none is mapped.")
    body: Json = {
        "Type": BILL_TYPE,
        "Status": AUTHORISED,
        "Contact": contact_ref(document.counterparty),
        "Date": document.transaction_date.isoformat(),
        "InvoiceNumber": stored_reference(document.reference),
        **_money(document),
        "LineItems": [_line(document, line, tracking, amount_field="UnitAmount") for line in document.lines],
    }
    body["DueDate"] = (document.due_date or document.transaction_date).isoformat()
    return body


def spend_money(document: Document, tracking: Tracking) -> Json:
    """A card expense paid from the card's bank account. Xero requires a contact: the merchant when the document
    names one, else a fixed one (`CARD_CONTACT_FALLBACK`)."""
    if document.account is None:
        raise _invalid(document, "a spend money transaction needs the bank account it is paid from.")
    return {
        "Type": SPEND_TYPE,
        "Status": AUTHORISED,
        "Contact": contact_ref(document.counterparty or CARD_CONTACT_FALLBACK),
        "BankAccount": account_ref(document.account),
        "Date": document.transaction_date.isoformat(),
        "Reference": stored_reference(document.reference),
        **_money(document),
        "LineItems": [_line(document, line, tracking, amount_field="UnitAmount") for line in document.lines],
    }


def manual_journal(document: Document, tracking: Tracking) -> Json:
    """Debits positive, credits negative, in the base currency, without tax (`NoTax`: the builders' journals balance
    net of tax); the Narration holds the reference alone, so that a lookup filters on equality."""
    lines = []
    for line in document.lines:
        amount = line.amount
        if document.is_foreign:
            if line.base_amount is None:
                raise _invalid(
                    document,
                    f"{DISPLAY_NAME}'s manual journals are in the base currency, and a line has no base amount.",
                )
            amount = line.base_amount
        signed = DocumentLine(
            amount=amount if line.debit else -amount,
            account=line.account,
            description=line.description,
            dimensions=line.dimensions,
            source_ids=line.source_ids,
        )
        lines.append(_line(document, signed, tracking, amount_field="LineAmount"))
    return {
        "Narration": stored_reference(document.reference),
        "Date": document.transaction_date.isoformat(),
        "Status": POSTED,
        "LineAmountTypes": LINE_AMOUNTS_NO_TAX,
        "JournalLines": lines,
    }


def payment(*, invoice_id: str, account: str, paid_on: str, amount: Decimal, reference: str) -> Json:
    return {
        "Invoice": {"InvoiceID": invoice_id},
        "Account": account_ref(account),
        "Date": paid_on,
        "Amount": amount_of(amount),
        "Reference": stored_reference(reference),
    }


BUILDERS = {
    DocumentKind.BILL: bill,
    DocumentKind.CHARGE_CARD_TRANSACTION: spend_money,
    DocumentKind.JOURNAL_ENTRY: manual_journal,
}


def document_body(document: Document, tracking: Tracking) -> Json:
    """The Xero JSON of a document; `ValidationError` for one that cannot be built."""
    builder = BUILDERS.get(document.kind)
    if builder is None:
        raise _invalid(document, f"{DISPLAY_NAME} does not create {document.kind.value} documents.")
    return builder(document, tracking)


def needs_tracking(document: Document) -> bool:
    return any(name.startswith(TRACKING_PREFIX) for line in document.lines for name in line.dimensions)
