"""How Intacct writes dates, timestamps and amounts, and how the simulator reads what clients send.

Responses use `mm/dd/yyyy` dates and `mm/dd/yyyy hh:mm:ss` timestamps, as the gateway does. Requests are read
leniently (ISO dates too), because integrators send both and the real service accepts both.
"""

from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from xml.etree.ElementTree import Element

DATE_FORMAT = "%m/%d/%Y"
TIMESTAMP_FORMAT = "%m/%d/%Y %H:%M:%S"
_DATE_INPUTS = ("%m/%d/%Y", "%Y-%m-%d", "%m-%d-%Y")
_TIMESTAMP_INPUTS = ("%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S")
_CENTS = Decimal("0.01")


def format_date(value: date) -> str:
    return value.strftime(DATE_FORMAT)


def format_timestamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime(TIMESTAMP_FORMAT)


def format_iso(value: datetime) -> str:
    """`sessiontimestamp`/`sessiontimeout` use ISO 8601 with an offset (`2022-02-07T20:21:01+00:00`)."""
    return value.astimezone(UTC).replace(microsecond=0).isoformat()


def format_amount(value: Decimal) -> str:
    return str(value.quantize(_CENTS))


def parse_date(text: str) -> date | None:
    text = text.strip()
    for pattern in _DATE_INPUTS:
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    moment = parse_timestamp(text)
    return moment.date() if moment else None


def parse_timestamp(text: str) -> datetime | None:
    """A timestamp in any accepted format; a bare date means its midnight (UTC)."""
    text = text.strip()
    for pattern in _TIMESTAMP_INPUTS:
        try:
            return datetime.strptime(text, pattern).replace(tzinfo=UTC)
        except ValueError:
            continue
    for pattern in _DATE_INPUTS:
        try:
            return datetime.strptime(text, pattern).replace(tzinfo=UTC)
        except ValueError:
            continue
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def parse_decimal(text: str) -> Decimal | None:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def parse_legacy_date(element: Element | None) -> date | None:
    """Legacy functions send dates as `<year/><month/><day/>`."""
    if element is None:
        return None
    try:
        return date(
            int(element.findtext("year", "")), int(element.findtext("month", "")), int(element.findtext("day", ""))
        )
    except ValueError:
        return None
