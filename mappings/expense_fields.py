"""The expense fields that skip rules, grouping and memo templates may name, and how each is read.

Names are the `Expense` attribute names, with `corporate_card` for the card id and `custom:<NAME>` for a custom
field. Each field has a kind (text, number or date), which decides the operators a skip rule may use on it.
"""

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from enum import StrEnum

from core.domain import Expense
from mappings.constants import CUSTOM_FIELD_PREFIX
from mappings.vocabulary import is_custom_field


class FieldKind(StrEnum):
    TEXT = "text"
    NUMBER = "number"
    DATE = "date"


FieldValue = str | Decimal | date | None

_TEXT: dict[str, Callable[[Expense], str | None]] = {
    "category": lambda e: e.category,
    "category_code": lambda e: e.category_code,
    "employee_email": lambda e: e.employee_email,
    "employee_name": lambda e: e.employee_name,
    "employee_code": lambda e: e.employee_code,
    "project": lambda e: e.project,
    "cost_center": lambda e: e.cost_center,
    "department": lambda e: e.department,
    "merchant": lambda e: e.merchant,
    "purpose": lambda e: e.purpose,
    "currency": lambda e: e.currency,
    "report_id": lambda e: e.report_id,
    "state": lambda e: e.state,
    "report_state": lambda e: e.report_state,
    "corporate_card": lambda e: e.corporate_card_id,
    "tax_group": lambda e: e.tax_group,
    "foreign_currency": lambda e: e.foreign_currency,
}
_NUMBER: dict[str, Callable[[Expense], Decimal | None]] = {
    "amount": lambda e: e.amount,
    "foreign_amount": lambda e: e.foreign_amount,
    "tax_amount": lambda e: e.tax_amount,
}
_DATE: dict[str, Callable[[Expense], date | None]] = {
    "spent_on": lambda e: e.spent_on,
    "approved_on": lambda e: e.approved_at.date() if e.approved_at else None,
    "posted_on": lambda e: e.posted_at.date() if e.posted_at else None,
}

GROUPABLE_FIELDS = frozenset({*_TEXT, *_DATE})
"""Grouping may split by any text or date field (amounts would make every expense its own group)."""


def field_kind(name: str) -> FieldKind | None:
    """The kind of a field, or None if no field has that name."""
    if name in _TEXT or is_custom_field(name):
        return FieldKind.TEXT
    if name in _NUMBER:
        return FieldKind.NUMBER
    if name in _DATE:
        return FieldKind.DATE
    return None


def is_groupable(name: str) -> bool:
    return name in GROUPABLE_FIELDS or is_custom_field(name)


def field_value(expense: Expense, name: str) -> FieldValue:
    """The value of a field of `expense`; None when the expense leaves it empty. `name` must be a known field."""
    if name.startswith(CUSTOM_FIELD_PREFIX):
        return expense.custom_fields.get(name.removeprefix(CUSTOM_FIELD_PREFIX)) or None
    if name in _TEXT:
        return _TEXT[name](expense) or None
    if name in _NUMBER:
        return _NUMBER[name](expense)
    return _DATE[name](expense)


def text_of(value: FieldValue) -> str:
    """How a field value reads in a group key or a memo: ISO dates, plain decimals, empty for None."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return f"{value:f}"
    if isinstance(value, date):
        return value.isoformat()
    return value
