"""Xero's JSON dates: answers carry `"/Date(1600000000000+0000)/"` (milliseconds since the epoch, UTC); requests may
send ISO dates (`2024-01-31`, `2024-01-31T00:00:00`) or the same `/Date(…)/` form."""

import re
from datetime import UTC, date, datetime, time

_MS_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")


def ms_date(moment: datetime | date) -> str:
    """A date or timestamp in Xero's JSON form."""
    if not isinstance(moment, datetime):
        moment = datetime.combine(moment, time(), UTC)
    return f"/Date({int(moment.astimezone(UTC).timestamp() * 1000)}+0000)/"


def date_string(day: date) -> str:
    """The `DateString` companion Xero sends beside `Date`."""
    return day.isoformat() + "T00:00:00"


def parse_date(value: object) -> date | None:
    """A request's date, or None when it cannot be read."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        return None
    match = _MS_DATE.match(value.strip())
    if match:
        return datetime.fromtimestamp(int(match.group(1)) / 1000, UTC).date()
    try:
        return datetime.fromisoformat(value.strip().replace("Z", "+00:00")).date()
    except ValueError:
        try:
            return date.fromisoformat(value.strip()[:10])
        except ValueError:
            return None


def parse_timestamp(value: str) -> datetime | None:
    """`If-Modified-Since` (ISO 8601 or RFC 1123), as UTC."""
    from email.utils import parsedate_to_datetime

    text = value.strip()
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            moment = parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
