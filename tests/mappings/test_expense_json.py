"""The JSON form of an expense in `source_records.data` keeps every field, money exactly."""

import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mappings import ExpenseFormatError, expense_from_json, expense_to_json
from tests.mappings.factories import expense


def test_every_field_survives_a_round_trip_through_json_text() -> None:
    original = expense(
        amount=Decimal("1234.5600"),
        foreign_amount=Decimal("1000"),
        foreign_currency="EUR",
        exchange_rate=Decimal("1.234560"),
        tax_amount=Decimal("0.01"),
        approved_at=datetime(2026, 5, 2, 8, tzinfo=UTC),
        custom_fields={"Job": "42"},
        file_ids=("f1", "f2"),
    )
    data = json.loads(json.dumps(expense_to_json(original)))
    assert data["amount"] == "1234.5600"
    assert expense_from_json(data) == original


@given(st.decimals(allow_nan=False, allow_infinity=False, places=4), st.dates())
def test_any_amount_and_date_round_trip_exactly(amount: Decimal, day: date) -> None:
    original = expense(amount=amount, spent_on=day)
    assert expense_from_json(expense_to_json(original)) == original


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"amount": None}, "missing amount"),
        ({"amount": "twelve"}, "amount"),
        ({"amount": "NaN"}, "amount"),
        ({"spent_on": "01/05/2026"}, "spent_on"),
        ({"updated_at": "2026-05-01T10:00:00"}, "updated_at"),
        ({"is_reimbursable": "yes"}, "is_reimbursable"),
    ],
)
def test_records_that_are_not_expenses_are_refused_naming_the_field(change: dict[str, object], expected: str) -> None:
    data = {**expense_to_json(expense()), **change}
    with pytest.raises(ExpenseFormatError, match=expected):
        expense_from_json(data)
