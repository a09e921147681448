"""Reading documents back for the books check: bills (ACCPAY invoices), spend money and manual journals dated on or
after a day, a page of 100 at a time (Xero returns line items on paged reads), deleted and voided ones left out.

A line's amount is tax included: `LineAmount` plus its `TaxAmount` when amounts are tax exclusive. A journal posts
each expense twice (its expense debited, a payable or card credited) and both sides carry its ids, so only its
debit lines are read back: they are the expenses'.
"""

from datetime import date
from typing import Any

from connectors.base import BookedDocument, BookedLine
from connectors.xero.constants import (
    BILL_TYPE,
    DISPLAY_NAME,
    GONE_STATUSES,
    LINE_AMOUNTS_EXCLUSIVE,
    SPEND_TYPE,
)
from connectors.xero.wire import any_equal, date_of, decimal_of, on_or_after
from core.domain import DocumentKind
from core.errors import ValidationError

READ_BACK = frozenset({DocumentKind.BILL, DocumentKind.CHARGE_CARD_TRANSACTION, DocumentKind.JOURNAL_ENTRY})
REFERENCE_FIELDS = {
    DocumentKind.BILL: "InvoiceNumber",
    DocumentKind.CHARGE_CARD_TRANSACTION: "Reference",
    DocumentKind.JOURNAL_ENTRY: "Narration",
}
TYPES = {DocumentKind.BILL: BILL_TYPE, DocumentKind.CHARGE_CARD_TRANSACTION: SPEND_TYPE}


def booked_filter(kind: DocumentKind, since: date) -> str:
    if kind not in READ_BACK:
        raise ValidationError(f"{DISPLAY_NAME}: {kind.value} documents are not read back for the books check.")
    conditions = [on_or_after("Date", since)]
    if kind in TYPES:
        conditions.insert(0, any_equal("Type", [TYPES[kind]]))
    return " AND ".join(conditions)


def is_live(row: dict[str, Any]) -> bool:
    return row.get("Status") not in GONE_STATUSES


def _lines(kind: DocumentKind, row: dict[str, Any]) -> tuple[BookedLine, ...]:
    exclusive = row.get("LineAmountTypes") == LINE_AMOUNTS_EXCLUSIVE
    field = "JournalLines" if kind is DocumentKind.JOURNAL_ENTRY else "LineItems"
    lines: list[BookedLine] = []
    for line in row.get(field) or []:
        if not isinstance(line, dict):
            continue
        amount = decimal_of(line.get("LineAmount"))
        if kind is DocumentKind.JOURNAL_ENTRY and amount <= 0:
            continue
        if exclusive:
            amount += decimal_of(line.get("TaxAmount"))
        lines.append(BookedLine(amount=amount, trace=str(line.get("Description") or "")))
    return tuple(lines)


def booked(kind: DocumentKind, row: dict[str, Any], id_field: str, base_currency: str) -> BookedDocument:
    day = date_of(row.get("DateString")) or date_of(row.get("Date")) or date.min
    return BookedDocument(
        kind=kind,
        remote_id=str(row.get(id_field)),
        reference=str(row.get(REFERENCE_FIELDS[kind]) or ""),
        currency=str(row.get("CurrencyCode") or base_currency),
        transaction_date=day,
        lines=_lines(kind, row),
    )
