"""Dates and date-times the API reads are RFC 3339 text, as its document says.

Pydantic also reads a number as seconds since 1970, and a query value is always text, so `?to=0` was 1 January 1970
and `"updated_to": 0.5` half a second after it, where the document promises a date: those are refused (422) now.
"""

import re
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BeforeValidator

_NUMBER = re.compile(r"\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*")
_SHAPE = "must be written as an RFC 3339 date or date-time, e.g. 2026-01-31 or 2026-01-31T00:00:00Z"


def _written_as_text(value: Any) -> Any:
    if isinstance(value, date):  # date-times too: a caller in Python already has one
        return value
    if not isinstance(value, str) or _NUMBER.fullmatch(value):
        raise ValueError(_SHAPE)
    return value


DateTimeText = Annotated[datetime, BeforeValidator(_written_as_text)]
DateText = Annotated[date, BeforeValidator(_written_as_text)]
