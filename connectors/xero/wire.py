"""How values look on Xero's wire: its `/Date(ms+zzzz)/` dates, amounts as exact JSON numbers, ids, and the
`where` filter language (`Reference=="a" OR Reference=="b"`, `Date >= DateTime(2026, 1, 31)`).

Every value that enters a filter goes through `quoted`; field names come only from this package's constants.
"""

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from connectors.xero.constants import DISPLAY_NAME
from core.errors import ValidationError

_MS_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def is_guid(value: str) -> bool:
    return _GUID.match(value) is not None


def timestamp_of(value: Any) -> datetime | None:
    """A Xero timestamp, `/Date(1546214400000+0000)/` (milliseconds since the epoch, UTC) or ISO 8601; None when it
    is neither."""
    if not isinstance(value, str) or not value:
        return None
    match = _MS_DATE.match(value.strip())
    if match is not None:
        return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=int(match.group(1)))
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def date_of(value: Any) -> date | None:
    """A Xero date (a `/Date(…)/` at midnight UTC, or `2026-01-31T00:00:00`)."""
    moment = timestamp_of(value)
    return moment.date() if moment is not None else None


def decimal_of(value: Any) -> Decimal:
    """An amount from an answer; zero when absent or unreadable (answers are read, never trusted to be complete)."""
    try:
        return Decimal(str(value)) if value is not None else Decimal(0)
    except InvalidOperation:
        return Decimal(0)


def amount_of(value: Decimal) -> float:
    """A JSON number for an amount, exactly: money has at most 15 significant digits, which a float's shortest
    representation keeps; anything else is refused rather than rounded."""
    number = float(value)
    if Decimal(repr(number)) != value:
        raise ValidationError(f"The amount {value} cannot be sent to {DISPLAY_NAME} exactly.", code="invalid_amount")
    return number


def quoted(value: str) -> str:
    """A string literal of Xero's `where` language: quotes and backslashes escaped, so no value can end it."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def any_equal(field: str, values: list[str]) -> str:
    """`field=="a" OR field=="b"`."""
    return " OR ".join(f"{field}=={quoted(value)}" for value in values)


def on_or_after(field: str, day: date) -> str:
    return f"{field} >= DateTime({day.year}, {day.month:02d}, {day.day:02d})"


def http_date(moment: datetime) -> str:
    """If-Modified-Since takes an RFC 9110 date (Xero also reads ISO, but the HTTP form is what every client sends)."""
    return moment.astimezone(UTC).strftime("%a, %d %b %Y %H:%M:%S GMT")
