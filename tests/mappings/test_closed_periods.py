"""Where a document refused for a closed period moves, and what it says there (`mappings.closed_periods`)."""

import uuid
from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from core.domain import Document, DocumentKind, DocumentLine
from core.errors import PeriodClosed
from mappings.closed_periods import closed_period_hint, next_open_day, redated
from mappings.constants import MEMO_MAX_LENGTH

TODAY = date(2026, 12, 5)


def refusal(closed_on: date | None = None, first_open_day: date | None = None) -> PeriodClosed:
    return PeriodClosed("closed", closed_on=closed_on, first_open_day=first_open_day)


@pytest.mark.parametrize(
    ("refused", "sent_on", "expected"),
    [
        (refusal(date(2026, 11, 3)), date(2026, 11, 3), date(2026, 12, 1)),
        (refusal(date(2025, 12, 31)), date(2025, 12, 31), date(2026, 1, 1)),  # over the year's end
        (refusal(None), date(2026, 10, 15), date(2026, 11, 1)),  # no date named: the document's own
        (refusal(date(2026, 10, 15), first_open_day=date(2026, 11, 16)), date(2026, 10, 15), date(2026, 11, 16)),
        (refusal(date(2026, 9, 1)), date(2026, 10, 1), date(2026, 11, 1)),  # never backwards
    ],
)
def test_the_next_day_is_the_first_of_the_month_after_the_refused_one_or_the_named_open_day(
    refused: PeriodClosed, sent_on: date, expected: date
) -> None:
    assert next_open_day(refused, sent_on=sent_on, own_day=date(2026, 9, 1), today=TODAY) == expected


def test_a_document_never_moves_past_the_current_month() -> None:
    assert (
        next_open_day(refusal(date(2026, 12, 2)), sent_on=date(2026, 12, 2), own_day=date(2026, 12, 2), today=TODAY)
        is None
    )


def test_a_document_moves_at_most_a_year_past_its_own_day() -> None:
    own = date(2024, 3, 2)
    assert next_open_day(refusal(date(2025, 2, 1)), sent_on=date(2025, 2, 1), own_day=own, today=TODAY) == date(
        2025, 3, 1
    )
    assert next_open_day(refusal(date(2025, 3, 1)), sent_on=date(2025, 3, 1), own_day=own, today=TODAY) is None


def test_the_moved_document_names_its_own_day_in_its_memo_and_keeps_the_note_when_cut() -> None:
    document = Document(
        kind=DocumentKind.BILL,
        reference="ll-1",
        transaction_date=date(2026, 11, 3),
        currency="USD",
        lines=(DocumentLine(amount=Decimal("10.00"), account="70004"),),
        memo="Report rp-1",
    )

    moved = redated(document, posted_on=date(2026, 12, 1))

    assert moved.transaction_date == date(2026, 12, 1)
    assert moved.memo == "Report rp-1 (posted 2026-12-01, period of 2026-11-03 closed)"
    assert moved.lines == document.lines and moved.reference == document.reference
    long = redated(replace(document, memo="x" * MEMO_MAX_LENGTH), posted_on=date(2026, 12, 1))
    assert long.memo is not None and len(long.memo) == MEMO_MAX_LENGTH
    assert long.memo.endswith("(posted 2026-12-01, period of 2026-11-03 closed)")


def test_the_hint_without_the_setting_names_both_remedies_and_where_to_turn_the_setting_on() -> None:
    connection = uuid.uuid4()

    hint = closed_period_hint(system="Sage Intacct", connection_id=connection, redating=False)

    assert f"/v1/connections/{connection}/export-settings" in hint
    assert "post_closed_period_to_first_open_day" in hint
    assert "reopen the period in Sage Intacct" in hint
    assert "replay" in hint
