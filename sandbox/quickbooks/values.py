"""How QuickBooks writes times, dates and amounts on the wire."""

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

from sandbox.quickbooks.constants import CENTS

PACIFIC = timezone(timedelta(hours=-8), "PST")
"""QuickBooks stamps MetaData and `time` in the company's Pacific time; a fixed offset keeps the sandbox simple."""


def format_time(moment: datetime) -> str:
    """`2026-12-06T03:19:30.123-08:00`."""
    local = moment.astimezone(PACIFIC)
    return local.strftime("%Y-%m-%dT%H:%M:%S.") + f"{local.microsecond // 1000:03d}" + "-08:00"


def format_meta_time(moment: datetime) -> str:
    """MetaData times carry no milliseconds: `2026-12-06T03:19:30-08:00`."""
    return moment.astimezone(PACIFIC).strftime("%Y-%m-%dT%H:%M:%S") + "-08:00"


def parse_time(text: str) -> datetime | None:
    """An ISO date or time as clients send `changedSince` or compare `MetaData.LastUpdatedTime`."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=PACIFIC)


def parse_date(value: Any) -> date | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def decimal_of(value: Any) -> Decimal | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def money(value: Decimal) -> float | int:
    """Amounts go out as JSON numbers, as QuickBooks sends them (`130.5`, `12`)."""
    rounded = value.quantize(CENTS)
    return int(rounded) if rounded == rounded.to_integral_value() else float(rounded)
