"""Payment status of bills, expense reports and card transactions: STATE, TRX_TOTALPAID and WHENPAID →
`PaymentStatus`, the amount paid in the document's own currency."""

from datetime import datetime
from decimal import Decimal, InvalidOperation

from connectors.intacct.constants import DATE_FORMAT
from connectors.intacct.documents import REFERENCES
from core.domain import DocumentKind, PaymentState, PaymentStatus

PAYABLE_OBJECTS = {
    kind: REFERENCES[kind].object
    for kind in (DocumentKind.BILL, DocumentKind.EXPENSE_REPORT, DocumentKind.CHARGE_CARD_TRANSACTION)
}
FIELDS = ("RECORDNO", "STATE", "TOTALENTERED", "TRX_TOTALPAID", "TRX_TOTALDUE", "WHENPAID")
"""Paid and due in the document's own currency (TRX_), the currency its amounts and payments are in."""
STATES = {"paid": PaymentState.PAID, "partially paid": PaymentState.PARTIALLY_PAID}


def _decimal(text: str | None) -> Decimal:
    try:
        return Decimal(text or "0")
    except InvalidOperation:
        return Decimal(0)


def status_of(row: dict[str, str]) -> PaymentStatus:
    """Intacct's STATE names the state; the totals decide when a state this connector does not know shows up."""
    paid = _decimal(row.get("TRX_TOTALPAID"))
    state = STATES.get(row.get("STATE", "").strip().lower())
    if state is None:
        due = _decimal(row.get("TRX_TOTALDUE"))
        state = PaymentState.UNPAID if paid == 0 else PaymentState.PAID if due == 0 else PaymentState.PARTIALLY_PAID
    when = row.get("WHENPAID", "").strip()
    return PaymentStatus(
        remote_id=row["RECORDNO"],
        state=state,
        paid_amount=paid,
        paid_on=datetime.strptime(when, DATE_FORMAT).date() if when else None,
    )
