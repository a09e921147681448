"""Skip rules: conditions on expense fields, joined by AND or OR, that keep matching expenses out of exports.

Text compares case-insensitively; numbers as decimals; dates as ISO dates. Comparands are parsed when the rule
is validated, so a rule that cannot be evaluated is refused when it is saved, not when an export runs.
"""

import operator as ordering
from collections.abc import Callable
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

from core.domain import Expense
from mappings.constants import MAX_CONDITION_VALUES, MAX_CONDITIONS_PER_RULE
from mappings.expense_fields import FieldKind, FieldValue, field_kind, field_value

Operator = Literal[
    "equals",
    "not_equals",
    "in",
    "not_in",
    "contains",
    "not_contains",
    "starts_with",
    "less_than",
    "at_most",
    "greater_than",
    "at_least",
    "is_empty",
    "is_not_empty",
]

_NO_VALUE = frozenset({"is_empty", "is_not_empty"})
_LIST_VALUE = frozenset({"in", "not_in"})
_TEXT_ONLY = frozenset({"contains", "not_contains", "starts_with"})
_ORDERED = frozenset({"less_than", "at_most", "greater_than", "at_least"})

Comparand = str | Decimal | date
_ORDERINGS: dict[str, Callable[[Any, Any], bool]] = {
    "less_than": ordering.lt,
    "at_most": ordering.le,
    "greater_than": ordering.gt,
    "at_least": ordering.ge,
}


def _parse(kind: FieldKind, raw: str) -> Comparand:
    if kind is FieldKind.NUMBER:
        number = Decimal(raw)
        if not number.is_finite():
            raise ValueError("not a finite number")
        return number
    if kind is FieldKind.DATE:
        return date.fromisoformat(raw)
    return raw.casefold()


def _normal(value: FieldValue) -> Comparand | None:
    return value.casefold() if isinstance(value, str) else value


class Condition(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    field: str = Field(description="An expense field: category, amount, spent_on, merchant, custom:<NAME>, …")
    operator: Operator
    value: str | list[str] | None = Field(
        default=None, description="One value; a list for in/not_in; none for is_empty/is_not_empty."
    )
    _comparands: tuple[Comparand, ...] = PrivateAttr(default=())

    @model_validator(mode="after")
    def _check(self) -> Self:
        kind = field_kind(self.field)
        if kind is None:
            raise ValueError(f"unknown expense field {self.field!r}")
        if self.operator in _TEXT_ONLY and kind is not FieldKind.TEXT:
            raise ValueError(f"{self.operator} applies to text fields, and {self.field} is a {kind}")
        if self.operator in _ORDERED and kind is FieldKind.TEXT:
            raise ValueError(f"{self.operator} applies to numbers and dates, and {self.field} is text")
        if self.operator in _NO_VALUE:
            if self.value is not None:
                raise ValueError(f"{self.operator} takes no value")
            return self
        if self.operator in _LIST_VALUE:
            if not isinstance(self.value, list) or not 1 <= len(self.value) <= MAX_CONDITION_VALUES:
                raise ValueError(f"{self.operator} takes a list of 1 to {MAX_CONDITION_VALUES} values")
            raw = list(self.value)
        elif isinstance(self.value, str):
            raw = [self.value]
        else:
            raise ValueError(f"{self.operator} takes one value")
        try:
            self._comparands = tuple(_parse(kind, item) for item in raw)
        except (ValueError, InvalidOperation) as exc:
            raise ValueError(f"{self.field} {self.operator}: the value is not a valid {kind}") from exc
        return self

    def matches(self, expense: Expense) -> bool:
        actual = _normal(field_value(expense, self.field))
        if self.operator == "is_empty":
            return actual is None
        if self.operator == "is_not_empty":
            return actual is not None
        if self.operator in ("not_equals", "not_in", "not_contains"):
            return not self._positive(actual)
        return actual is not None and self._positive(actual)

    def _positive(self, actual: Comparand | None) -> bool:
        """equals/in/contains, which not_equals/not_in/not_contains negate (an empty field is never equal)."""
        if actual is None:
            return False
        first = self._comparands[0]
        match self.operator:
            case "equals" | "not_equals" | "in" | "not_in":
                return actual in self._comparands
            case "contains" | "not_contains":
                return isinstance(actual, str) and isinstance(first, str) and first in actual
            case "starts_with":
                return isinstance(actual, str) and isinstance(first, str) and actual.startswith(first)
        if isinstance(actual, str) or isinstance(first, str):
            return False
        return _ORDERINGS[self.operator](actual, first)

    def describe(self) -> str:
        if self.value is None:
            return f"{self.field} {self.operator.replace('_', ' ')}"
        shown = ", ".join(self.value) if isinstance(self.value, list) else self.value
        return f"{self.field} {self.operator.replace('_', ' ')} {shown!r}"


class SkipRule(BaseModel):
    """Skip an expense when its conditions hold: all of them (`and`) or any (`or`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=100)
    join: Literal["and", "or"] = "and"
    conditions: list[Condition] = Field(min_length=1, max_length=MAX_CONDITIONS_PER_RULE)

    def matches(self, expense: Expense) -> bool:
        results = (condition.matches(expense) for condition in self.conditions)
        return all(results) if self.join == "and" else any(results)

    def reason(self) -> str:
        joined = f" {self.join.upper()} ".join(condition.describe() for condition in self.conditions)
        return f"skip rule {self.name!r}: {joined}"


def skip_reason(expense: Expense, rules: list[SkipRule]) -> str | None:
    """The reason of the first rule that skips `expense`, or None if none does."""
    for rule in rules:
        if rule.matches(expense):
            return rule.reason()
    return None
