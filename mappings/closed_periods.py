"""Closed periods: the day a document refused for a closed period moves to, what it then says, and the hint a
person sees when it cannot move.

Pure, like the builders. The engine decides when: only after the destination refused the document's date, which
proves that send was not applied, and only when the export settings say so (`post_closed_period_to_first_open_day`).
Without a documented way to read a destination's periods, the refusal itself is the probe: the next try is the first
day of the month after the refused date (or the first open day, when the connector knows it), and a refusal of that
moves on again, up to `REDATE_MONTHS_MAX` months and never past the current month.
"""

import uuid
from dataclasses import replace
from datetime import date

from core.domain import Document
from core.errors import PeriodClosed
from mappings.constants import MEMO_MAX_LENGTH, REDATE_MONTHS_MAX, SETTINGS_PATH


def _month_after(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def _months(start: date, end: date) -> int:
    return (end.year - start.year) * 12 + end.month - start.month


def next_open_day(refusal: PeriodClosed, *, sent_on: date, own_day: date, today: date) -> date | None:
    """The day to try after `refusal` of a document sent on `sent_on` (built for `own_day`); None when it would be
    past the current month or more than `REDATE_MONTHS_MAX` months after `own_day`."""
    refused = refusal.closed_on or sent_on
    day = refusal.first_open_day or _month_after(refused)
    if day <= sent_on:  # always forward, whatever the refusal said
        day = _month_after(sent_on)
    if _months(today, day) > 0 or _months(own_day, day) > REDATE_MONTHS_MAX:
        return None
    return day


def redated(document: Document, *, posted_on: date) -> Document:
    """`document`, as built for its own day, posted on `posted_on` instead; its memo ends by saying so (cut before
    the note, never the note itself, when it would pass the memo limit)."""
    note = f"posted {posted_on.isoformat()}, period of {document.transaction_date.isoformat()} closed"
    if not document.memo:
        return replace(document, transaction_date=posted_on, memo=note)
    room = MEMO_MAX_LENGTH - len(note) - len(" ()")
    return replace(document, transaction_date=posted_on, memo=f"{document.memo[:room]} ({note})")


def closed_period_hint(*, system: str, connection_id: uuid.UUID, redating: bool) -> str:
    """What a person can do about an item refused for a closed period."""
    if redating:
        return (
            f"The document's date is in a period {system} has closed, and no later period up to this month (within "
            f"{REDATE_MONTHS_MAX} months of it) accepted it. Reopen a period in {system}, then replay the item."
        )
    settings = SETTINGS_PATH.format(connection_id=connection_id)
    return (
        f"The document's date is in a period {system} has closed. Either turn on "
        f"post_closed_period_to_first_open_day in the export settings ({settings}): the document is then posted on "
        f"the first open day after the closed period, its memo naming its own date; or reopen the period in {system}. "
        "Then replay the item."
    )
