"""Reading documents back for the books check: bills, card purchases and checks, 1,000 per query, with their lines.

A line's amount is what it posts (QuickBooks keeps tax apart from it, as Ledgerline sends it), its trace the
line's Description (`documents._description`). Journal entries are not read back: both sides of each expense carry
its ids, and nothing in QuickBooks says which side is the expense's own.
"""

from datetime import date
from typing import Any

from connectors.base import BookedDocument, BookedLine
from connectors.quickbooks.constants import PRIVATE_NOTE_PREFIX, PURCHASE_PAYMENT_TYPES
from connectors.quickbooks.errors import DISPLAY_NAME
from connectors.quickbooks.payments import decimal_of
from connectors.quickbooks.queries import quoted, select
from core.domain import DocumentKind
from core.errors import ValidationError

READ_BACK = frozenset({DocumentKind.BILL, *PURCHASE_PAYMENT_TYPES})


def booked_query(kind: DocumentKind, object_name: str, *, since: date, start: int, limit: int) -> str:
    if kind not in READ_BACK:
        raise ValidationError(f"{DISPLAY_NAME}: {kind.value} documents are not read back for the books check.")
    conditions = [f"TxnDate >= {quoted(since.isoformat())}"]
    if kind in PURCHASE_PAYMENT_TYPES:  # card purchases and checks are both Purchases
        conditions.append(f"PaymentType = {quoted(PURCHASE_PAYMENT_TYPES[kind])}")
    return select(object_name, conditions, order_by="Id", start=start, limit=limit)


def reference_of(row: dict[str, Any]) -> str:
    """Ledgerline's reference from the PrivateNote it wrote; else the DocNumber a person typed."""
    note = str(row.get("PrivateNote") or "")
    if note.startswith(PRIVATE_NOTE_PREFIX):
        return note[len(PRIVATE_NOTE_PREFIX) :].split("\n", 1)[0].strip()
    return str(row.get("DocNumber") or "")


def booked(kind: DocumentKind, row: dict[str, Any]) -> BookedDocument:
    currency = row.get("CurrencyRef")
    return BookedDocument(
        kind=kind,
        remote_id=str(row["Id"]),
        reference=reference_of(row),
        currency=str(currency.get("value", "")) if isinstance(currency, dict) else "",
        transaction_date=date.fromisoformat(str(row["TxnDate"])),
        lines=tuple(
            BookedLine(amount=decimal_of(line.get("Amount")), trace=str(line.get("Description") or ""))
            for line in row.get("Line", [])
            if isinstance(line, dict) and line.get("DetailType") != "SubTotalLineDetail"
        ),
    )
