"""Bills' payment status (Balance against TotalAmt; the day from the newest linked BillPayment), and what records a
payment the source made."""

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from core.domain import PaymentState, PaymentStatus

BILL_PAYMENT = "BillPayment"


def decimal_of(value: Any) -> Decimal:
    try:
        return Decimal(str(value)) if value is not None else Decimal(0)
    except InvalidOperation:
        return Decimal(0)


def payment_ids(bill: dict[str, Any]) -> list[str]:
    """The BillPayments a bill links to."""
    return [
        str(linked["TxnId"])
        for linked in bill.get("LinkedTxn", [])
        if isinstance(linked, dict) and linked.get("TxnType") == BILL_PAYMENT and linked.get("TxnId")
    ]


def status_of(bill: dict[str, Any], paid_days: dict[str, date]) -> PaymentStatus:
    """`paid_days`: the day of each BillPayment (by id), for the day the bill was (last) paid."""
    total, balance = decimal_of(bill.get("TotalAmt")), decimal_of(bill.get("Balance", bill.get("TotalAmt")))
    paid = total - balance
    state = PaymentState.UNPAID if paid <= 0 else PaymentState.PAID if balance <= 0 else PaymentState.PARTIALLY_PAID
    days = [paid_days[payment] for payment in payment_ids(bill) if payment in paid_days]
    return PaymentStatus(
        remote_id=str(bill["Id"]), state=state, paid_amount=max(paid, Decimal(0)), paid_on=max(days, default=None)
    )
