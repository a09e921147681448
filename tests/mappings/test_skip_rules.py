"""Skip rules: each operator, AND/OR, and rules that cannot be evaluated are refused when saved."""

from datetime import date
from decimal import Decimal

import pytest
from pydantic import ValidationError

from mappings import Condition, SkipRule
from mappings.skip_rules import skip_reason
from tests.mappings.factories import expense


def _rule(*conditions: dict[str, object], join: str = "and") -> SkipRule:
    return SkipRule.model_validate({"name": "r", "join": join, "conditions": list(conditions)})


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ({"field": "category", "operator": "equals", "value": "travel"}, True),
        ({"field": "category", "operator": "not_equals", "value": "Travel"}, False),
        ({"field": "category", "operator": "in", "value": ["Meals", "TRAVEL"]}, True),
        ({"field": "category", "operator": "not_in", "value": ["Meals"]}, True),
        ({"field": "purpose", "operator": "contains", "value": "PERSONAL"}, True),
        ({"field": "purpose", "operator": "not_contains", "value": "client"}, True),
        ({"field": "merchant", "operator": "starts_with", "value": "hil"}, True),
        ({"field": "amount", "operator": "less_than", "value": "42.50"}, False),
        ({"field": "amount", "operator": "at_most", "value": "42.50"}, True),
        ({"field": "amount", "operator": "greater_than", "value": "42.49"}, True),
        ({"field": "amount", "operator": "at_least", "value": "42.51"}, False),
        ({"field": "spent_on", "operator": "less_than", "value": "2026-05-02"}, True),
        ({"field": "project", "operator": "is_empty"}, True),
        ({"field": "merchant", "operator": "is_not_empty"}, True),
        ({"field": "custom:Billable", "operator": "equals", "value": "no"}, True),
        ({"field": "custom:Missing", "operator": "not_equals", "value": "x"}, True),
        ({"field": "project", "operator": "equals", "value": ""}, False),
    ],
)
def test_each_operator(condition: dict[str, object], expected: bool) -> None:
    item = expense(
        amount=Decimal("42.50"),
        spent_on=date(2026, 5, 1),
        purpose="Personal lunch",
        merchant="Hilton",
        custom_fields={"Billable": "No"},
    )
    assert Condition.model_validate(condition).matches(item) is expected


def test_and_needs_every_condition_and_or_needs_one() -> None:
    cheap = {"field": "amount", "operator": "less_than", "value": "5"}
    meals = {"field": "category", "operator": "equals", "value": "Meals"}
    cheap_travel = expense(amount=Decimal("3"), category="Travel")
    assert _rule(cheap, meals, join="and").matches(cheap_travel) is False
    assert _rule(cheap, meals, join="or").matches(cheap_travel) is True


def test_the_reason_names_the_rule_and_its_conditions() -> None:
    rule = SkipRule.model_validate(
        {
            "name": "personal",
            "join": "or",
            "conditions": [
                {"field": "purpose", "operator": "contains", "value": "personal"},
                {"field": "amount", "operator": "less_than", "value": "1"},
            ],
        }
    )
    assert skip_reason(expense(purpose="personal"), [rule]) == (
        "skip rule 'personal': purpose contains 'personal' OR amount less than '1'"
    )
    assert skip_reason(expense(purpose="work"), [rule]) is None


@pytest.mark.parametrize(
    "condition",
    [
        {"field": "colour", "operator": "equals", "value": "red"},
        {"field": "amount", "operator": "contains", "value": "1"},
        {"field": "category", "operator": "less_than", "value": "b"},
        {"field": "amount", "operator": "less_than", "value": "lots"},
        {"field": "amount", "operator": "less_than", "value": "NaN"},
        {"field": "spent_on", "operator": "at_least", "value": "yesterday"},
        {"field": "category", "operator": "in", "value": "Meals"},
        {"field": "category", "operator": "equals", "value": ["Meals"]},
        {"field": "category", "operator": "is_empty", "value": "x"},
        {"field": "category", "operator": "equals"},
        {"field": "category", "operator": "matches_regex", "value": ".*"},
    ],
)
def test_conditions_that_cannot_be_evaluated_are_refused(condition: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        Condition.model_validate(condition)


def test_a_rule_needs_at_least_one_condition() -> None:
    with pytest.raises(ValidationError):
        SkipRule.model_validate({"name": "empty", "conditions": []})
