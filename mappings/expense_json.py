"""`Expense` ⇄ the JSON kept in `source_records.data` (kind `expense`): decimals as strings, dates in ISO 8601.

Decimals travel as strings because JSON numbers become floats in most readers, and money must stay exact.
"""

from dataclasses import MISSING, fields
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from core.domain import Expense

_DECIMALS = frozenset({"amount", "foreign_amount", "exchange_rate", "tax_amount"})
_DATES = frozenset({"spent_on"})
_DATETIMES = frozenset({"updated_at", "approved_at", "posted_at"})
_BOOLEANS = frozenset({"is_reimbursable"})
_REQUIRED = frozenset(
    field.name for field in fields(Expense) if field.default is MISSING and field.default_factory is MISSING
)


class ExpenseFormatError(ValueError):
    """A source record's data is not the JSON form of an expense."""


def expense_to_json(expense: Expense) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for field in fields(Expense):
        value = getattr(expense, field.name)
        if isinstance(value, Decimal):
            value = f"{value:f}"
        elif isinstance(value, date):  # datetime is a date too
            value = value.isoformat()
        elif isinstance(value, tuple):
            value = list(value)
        elif isinstance(value, dict):
            value = dict(value)
        data[field.name] = value
    return data


def _parse(name: str, value: Any) -> Any:
    if value is None:
        return None
    if name in _DECIMALS:
        amount = Decimal(str(value))
        if not amount.is_finite():
            raise ExpenseFormatError("not a finite number")
        return amount
    if name in _DATES:
        return date.fromisoformat(value)
    if name in _DATETIMES:
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is None:
            raise ExpenseFormatError("a timestamp needs a timezone")
        return moment
    if name in _BOOLEANS:
        if not isinstance(value, bool):
            raise ExpenseFormatError("must be true or false")
        return value
    if name == "file_ids":
        return tuple(str(item) for item in value)
    if name == "custom_fields":
        return {str(key): str(item) for key, item in dict(value).items()}
    return str(value)


def expense_from_json(data: dict[str, Any]) -> Expense:
    """The expense a source record holds; `ExpenseFormatError` naming the first field that does not fit."""
    missing = sorted(name for name in _REQUIRED if data.get(name) is None)
    if missing:
        raise ExpenseFormatError(f"missing {', '.join(missing)}")
    values: dict[str, Any] = {}
    for field in fields(Expense):
        if field.name not in data:
            continue
        try:
            values[field.name] = _parse(field.name, data[field.name])
        except (ValueError, TypeError, InvalidOperation) as exc:
            raise ExpenseFormatError(f"{field.name}: {exc}") from exc
    return Expense(**values)
