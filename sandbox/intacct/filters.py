"""Conditions over records, shared by `query` (XML `<filter>`) and `readByQuery` (the SQL-like string).

Comparison follows the field's type: `DECIMAL`/`INTEGER` as numbers, `DATE`/`TIMESTAMP` as moments, text as text
(case-sensitive unless `caseinsensitive`). An empty value is SQL NULL: it matches only `isnull`.
"""

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from xml.etree.ElementTree import Element

from sandbox.intacct.errors import IntacctError, query_failed
from sandbox.intacct.schema import FieldDef, ObjectDef
from sandbox.intacct.seed import Record
from sandbox.intacct.values import parse_decimal, parse_timestamp

Comparable = Decimal | datetime | str
SortKey = tuple[int, Comparable]

COMPARISONS: dict[str, Callable[[Comparable, Comparable], bool]] = {
    "equalto": operator.eq,
    "notequalto": operator.ne,
    "lessthan": operator.lt,
    "lessthanorequalto": operator.le,
    "greaterthan": operator.gt,
    "greaterthanorequalto": operator.ge,
}
"""Both sides always have the field's type (see `typed`), so they compare like with like."""
SET_OPERATORS = ("in", "notin", "between")
PATTERN_OPERATORS = ("like", "notlike")
NULL_OPERATORS = ("isnull", "isnotnull")
STATUS_ALIASES = {"T": "active", "F": "inactive"}
"""readByQuery stores STATUS as T/F (`STATUS = 'F'` lists inactive rows); responses print active/inactive."""


@dataclass(frozen=True)
class Condition:
    operator: str
    field: FieldDef
    values: tuple[str, ...] = ()


@dataclass(frozen=True)
class AllOf:
    parts: tuple["Predicate", ...]


@dataclass(frozen=True)
class AnyOf:
    parts: tuple["Predicate", ...]


@dataclass(frozen=True)
class Negation:
    part: "Predicate"


Predicate = Condition | AllOf | AnyOf | Negation


def resolve_field(definition: ObjectDef, name: str) -> FieldDef:
    found = definition.field(name.strip())
    if found is None:
        raise query_failed(f"Invalid field '{name.strip()}' for object {definition.name}.")
    return found


def typed(field: FieldDef, text: str, *, case_insensitive: bool = False) -> Comparable:
    """The value as its field's type; a value that does not parse is refused like the real query engine does."""
    if field.name == "STATUS":
        text = STATUS_ALIASES.get(text, text)
    if field.datatype in ("DECIMAL", "INTEGER"):
        number = parse_decimal(text)
        if number is None:
            raise query_failed(f"Invalid number '{text}' for field {field.name}.")
        return number
    if field.datatype in ("DATE", "TIMESTAMP"):
        moment = parse_timestamp(text)
        if moment is None:
            raise query_failed(f"Invalid date '{text}' for field {field.name}.")
        return moment
    return text.casefold() if case_insensitive else text


def sort_key(field: FieldDef, text: str) -> SortKey:
    """Orders NULLs first, then by type; values that do not parse sort as text."""
    if not text:
        return (0, "")
    try:
        return (1, typed(field, text))
    except IntacctError:  # a stored value that does not parse as its type sorts after the others, as text
        return (2, text)


def _like(pattern: str, case_insensitive: bool) -> re.Pattern[str]:
    """SQL LIKE: `%` is any run of characters, `_` exactly one."""
    regex = "".join(".*" if char == "%" else "." if char == "_" else re.escape(char) for char in pattern)
    return re.compile(regex, re.DOTALL | (re.IGNORECASE if case_insensitive else 0))


def matches(predicate: Predicate, row: Record, case_insensitive: bool = False) -> bool:
    if isinstance(predicate, AllOf):
        return all(matches(part, row, case_insensitive) for part in predicate.parts)
    if isinstance(predicate, AnyOf):
        return any(matches(part, row, case_insensitive) for part in predicate.parts)
    if isinstance(predicate, Negation):
        return not matches(predicate.part, row, case_insensitive)
    field, kind = predicate.field, predicate.operator
    stored = row.get(field.name, "")
    if kind in NULL_OPERATORS:
        return (stored == "") == (kind == "isnull")
    if stored == "":
        return False
    if kind in PATTERN_OPERATORS:
        found = _like(predicate.values[0], case_insensitive).fullmatch(stored) is not None
        return found == (kind == "like")
    value = typed(field, stored, case_insensitive=case_insensitive)
    wanted = [typed(field, text, case_insensitive=case_insensitive) for text in predicate.values]
    if kind == "between":
        return COMPARISONS["lessthanorequalto"](wanted[0], value) and COMPARISONS["lessthanorequalto"](value, wanted[1])
    if kind in ("in", "notin"):
        return (value in wanted) == (kind == "in")
    return COMPARISONS[kind](value, wanted[0])


def parse_filter(element: Element, definition: ObjectDef) -> Predicate:
    """The `<filter>` of `query`: one top-level operator; `and`/`or` nest; an operator element may repeat inside
    `and`/`or` (the official SDK sends `<and><equalto/><equalto/></and>`)."""
    children = list(element)
    if len(children) != 1:
        raise query_failed("The filter element takes exactly one operator; combine conditions with and/or.")
    return _parse_operator(children[0], definition)


def _parse_operator(element: Element, definition: ObjectDef) -> Predicate:
    tag = element.tag
    if tag in ("and", "or"):
        parts = tuple(_parse_operator(child, definition) for child in element)
        if not parts:
            raise query_failed(f"The {tag} operator needs at least one condition.")
        return AllOf(parts) if tag == "and" else AnyOf(parts)
    if tag not in COMPARISONS and tag not in (*SET_OPERATORS, *PATTERN_OPERATORS, *NULL_OPERATORS):
        raise query_failed(f"Unknown filter operator '{tag}'.")
    field = resolve_field(definition, element.findtext("field") or "")
    values = tuple(value.text or "" for value in element.findall("value"))
    expected = {"between": 2}.get(tag, 0 if tag in NULL_OPERATORS else 1)
    if (tag in ("in", "notin") and not values) or (tag not in ("in", "notin") and len(values) != expected):
        raise query_failed(f"The {tag} operator on {field.name} has the wrong number of values.")
    for value in values:
        if tag not in PATTERN_OPERATORS:
            typed(field, value)
    return Condition(tag, field, values)
