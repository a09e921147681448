"""The currency, amount and date each expense brings to its document.

Grouping splits by these (a document has one currency, one exchange rate, one date rule outcome) and the
builders read them, so both must come from here.
"""

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from core.domain import Expense
from mappings.settings import DateRule, ExportSettings


def is_foreign(expense: Expense, settings: ExportSettings) -> bool:
    """Exported in its original currency: the tenant asked for that, and the expense has one with a rate."""
    return (
        settings.currency == "original"
        and bool(expense.foreign_currency)
        and expense.foreign_amount is not None
        and bool(expense.exchange_rate)
    )


def document_currency(expense: Expense, settings: ExportSettings) -> tuple[str, Decimal | None]:
    """(currency, exchange rate to the booked currency); the rate is None when exported as booked."""
    if is_foreign(expense, settings):
        return str(expense.foreign_currency), expense.exchange_rate
    return expense.currency, None


def source_amount(expense: Expense, settings: ExportSettings) -> Decimal:
    """The amount in the document's currency, before rounding to the cent."""
    if is_foreign(expense, settings) and expense.foreign_amount is not None:
        return expense.foreign_amount
    return expense.amount


def source_tax(expense: Expense, settings: ExportSettings) -> Decimal | None:
    """The tax in the document's currency (the source books tax in the booked currency), before rounding.

    Converted in the proportion of the two amounts the source holds, not at its exchange rate: that rate is
    rounded (Fyle's to six places), which is off by whole yen on a large amount."""
    if expense.tax_amount is None:
        return None
    if is_foreign(expense, settings) and expense.foreign_amount is not None:
        if expense.amount:
            return expense.tax_amount * expense.foreign_amount / expense.amount
        if expense.exchange_rate:
            return expense.tax_amount / expense.exchange_rate
    return expense.tax_amount


def expense_date(expense: Expense, rule: DateRule) -> date | None:
    """The date an expense brings under `rule`, for the rules that read one expense (else None).

    Approval and posting dates fall back to the spend date when the source has none yet.
    """
    if rule == "spent":
        return expense.spent_on
    if rule == "approved":
        return expense.approved_at.date() if expense.approved_at else expense.spent_on
    if rule == "posted":
        return expense.posted_at.date() if expense.posted_at else expense.spent_on
    return None


def document_date(expenses: Sequence[Expense], rule: DateRule, export_day: date) -> date:
    """The document's date. Grouping splits by the per-expense rules, so `min` only matters for odd input."""
    if rule == "export_day":
        return export_day
    if rule == "last_spent":
        return max(expense.spent_on for expense in expenses)
    return min(day for expense in expenses if (day := expense_date(expense, rule)) is not None)
