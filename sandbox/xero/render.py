"""Xero's JSON from stored objects: Decimal money as numbers, days and stamps as `/Date(…)/` strings (with a
`DateString` beside `Date` and `DueDate`, as Xero sends), nested lists and dicts alike."""

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sandbox.xero.wiredates import date_string, ms_date

DATE_STRING_FIELDS = {"Date": "DateString", "DueDate": "DueDateString"}


def render(value: Any) -> Any:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if key.startswith("_"):
                continue
            out[key] = render(item)
            if key in DATE_STRING_FIELDS and isinstance(item, date) and not isinstance(item, datetime):
                out[DATE_STRING_FIELDS[key]] = date_string(item)
        return out
    if isinstance(value, list):
        return [render(item) for item in value]
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (date, datetime)):
        return ms_date(value)
    return value
