"""`Expense` ⇄ the JSON kept in `source_records.data` (kind `expense`): decimals as strings, dates in ISO 8601.

Decimals travel as strings because JSON numbers become floats in most readers, and money must stay exact.
"""

from collections.abc import Callable
from dataclasses import MISSING, fields
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from core.domain import Expense

_FIELD_NAMES = tuple(field.name for field in fields(Expense))
"""In declaration order, computed once: `fields()` per call was a tenth of the codec's time."""
_REQUIRED = tuple(
    field.name for field in fields(Expense) if field.default is MISSING and field.default_factory is MISSING
)


class ExpenseFormatError(ValueError):
    """A source record's data is not the JSON form of an expense."""


def expense_to_json(expense: Expense) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for name in _FIELD_NAMES:
        value = getattr(expense, name)
        if isinstance(value, Decimal):
            value = f"{value:f}"
        elif isinstance(value, date):  # datetime is a date too
            value = value.isoformat()
        elif isinstance(value, tuple):
            value = list(value)
        elif isinstance(value, dict):
            value = dict(value)
        data[name] = value
    return data


def _decimal(value: Any) -> Decimal:
    amount = Decimal(str(value))
    if not amount.is_finite():
        raise ExpenseFormatError("not a finite number")
    return amount


def _moment(value: Any) -> datetime:
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ExpenseFormatError("a timestamp needs a timezone")
    return moment


def _boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ExpenseFormatError("must be true or false")
    return value


def _text(value: Any) -> str:
    return value if type(value) is str else str(value)


_PARSERS: dict[str, Callable[[Any], Any]] = {
    **dict.fromkeys(_FIELD_NAMES, _text),
    **dict.fromkeys(("amount", "foreign_amount", "exchange_rate", "tax_amount"), _decimal),
    **dict.fromkeys(("updated_at", "approved_at", "posted_at"), _moment),
    "spent_on": date.fromisoformat,
    "is_reimbursable": _boolean,
    "file_ids": lambda value: tuple(str(item) for item in value),
    "custom_fields": lambda value: {str(key): str(item) for key, item in dict(value).items()},
}
"""How each field's JSON value becomes the field's value (text unless named here); None stays None."""


def expense_from_json(data: dict[str, Any]) -> Expense:
    """The expense a source record holds; `ExpenseFormatError` naming the first field that does not fit."""
    if any(data.get(name) is None for name in _REQUIRED):
        missing = sorted(name for name in _REQUIRED if data.get(name) is None)
        raise ExpenseFormatError(f"missing {', '.join(missing)}")
    values: dict[str, Any] = {}
    for name, parse in _PARSERS.items():
        if name not in data:
            continue
        value = data[name]
        try:
            values[name] = None if value is None else parse(value)
        except (ValueError, TypeError, InvalidOperation) as exc:
            raise ExpenseFormatError(f"{name}: {exc}") from exc
    return Expense(**values)
