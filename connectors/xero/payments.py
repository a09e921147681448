"""Bills' payment status, read from the bills themselves (Status, AmountDue, AmountPaid, FullyPaidOnDate and the
dates of their Payments): one GET of up to 25 bills by `IDs=`."""

from datetime import date
from decimal import Decimal
from typing import Any

from connectors.xero.constants import PAID
from connectors.xero.wire import date_of, decimal_of
from core.domain import PaymentState, PaymentStatus


def paid_on(bill: dict[str, Any]) -> date | None:
    fully = date_of(bill.get("FullyPaidOnDate"))
    if fully is not None:
        return fully
    days = [date_of(payment.get("Date")) for payment in bill.get("Payments") or [] if isinstance(payment, dict)]
    return max((day for day in days if day is not None), default=None)


def status_of(bill: dict[str, Any]) -> PaymentStatus:
    paid = decimal_of(bill.get("AmountPaid"))
    due = decimal_of(bill.get("AmountDue"))
    if bill.get("Status") == PAID or (paid > 0 and due <= 0):
        state = PaymentState.PAID
    elif paid > 0:
        state = PaymentState.PARTIALLY_PAID
    else:
        state = PaymentState.UNPAID
    return PaymentStatus(
        remote_id=str(bill.get("InvoiceID")),
        state=state,
        paid_amount=max(paid, Decimal(0)),
        paid_on=paid_on(bill) if state is not PaymentState.UNPAID else None,
    )
