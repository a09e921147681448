"""Fyle's list parameters: `offset`, `limit`, `order` and PostgREST-style filters (`field=op.value`).

Operators: `eq`, `neq`, `gt`, `gte`, `lt`, `lte`, `like`, `ilike` (`*` is the wildcard), `in.(a,"b c")`,
`is.null|true|false`, each negatable with `not.` (`report_id=not.is.null`). A parameter may repeat
(`updated_at=gte.X&updated_at=lt.Y`); all conditions must hold. As in SQL, a comparison with a null value is
never true, negated or not; only `is` matches nulls.
"""

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Generic, Literal, TypeVar

from sandbox.fyle.constants import DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT

FieldKind = Literal["str", "int", "number", "bool", "datetime"]
COMPARISONS = frozenset({"eq", "neq", "gt", "gte", "lt", "lte"})
PATTERNS = frozenset({"like", "ilike"})
T = TypeVar("T")


class QueryError(ValueError):
    """A list request Fyle would refuse with 400."""


@dataclass(frozen=True, slots=True)
class FieldSpec(Generic[T]):
    """A filterable, sortable field: its type (to parse filter values) and how to read it from a record."""

    kind: FieldKind
    get: Callable[[T], Any]


Fields = Mapping[str, FieldSpec[T]]


@dataclass(frozen=True, slots=True)
class Condition:
    field: str
    op: str
    value: Any
    negate: bool = False

    def matches(self, actual: Any) -> bool:
        if self.op == "is":
            return (actual is self.value) != self.negate
        if actual is None:
            return False
        return _compare(self.op, actual, self.value) != self.negate


@dataclass(frozen=True, slots=True)
class OrderTerm:
    field: str
    descending: bool = False


@dataclass(frozen=True, slots=True)
class ListQuery:
    offset: int
    limit: int
    order: tuple[OrderTerm, ...]
    conditions: tuple[Condition, ...]


def _compare(op: str, actual: Any, expected: Any) -> bool:
    if op == "eq":
        return bool(actual == expected)
    if op == "neq":
        return bool(actual != expected)
    if op == "gt":
        return bool(actual > expected)
    if op == "gte":
        return bool(actual >= expected)
    if op == "lt":
        return bool(actual < expected)
    if op == "lte":
        return bool(actual <= expected)
    if op == "in":
        return actual in expected
    pattern: re.Pattern[str] = expected
    return pattern.fullmatch(str(actual)) is not None


def parse_datetime(raw: str) -> datetime:
    """ISO 8601 as Fyle accepts it (`2021-09-30T11:00:57.000Z`, `…-08:00`, or a date); naive means UTC."""
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        try:
            parsed = datetime.combine(date.fromisoformat(raw), datetime.min.time())
        except ValueError:
            raise QueryError(f"invalid timestamp {raw!r}") from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _unquote(raw: str) -> str:
    if len(raw) >= 2 and raw[0] == raw[-1] == '"':
        return raw[1:-1].replace('\\"', '"')
    return raw


def _coerce(kind: FieldKind, raw: str, field: str) -> Any:
    text = _unquote(raw)
    try:
        if kind == "str":
            return text
        if kind == "int":
            return int(text)
        if kind == "number":
            return Decimal(text)
        if kind == "bool":
            if text not in ("true", "false"):
                raise ValueError(text)
            return text == "true"
        return parse_datetime(text)
    except (ValueError, InvalidOperation):
        raise QueryError(f"invalid value {raw!r} for {field}") from None


def _split_list(raw: str, field: str) -> list[str]:
    """`(a,"b, c",)` → ['a', '"b, c"']. The trailing comma is what Python's repr of a 1-tuple leaves."""
    if not (raw.startswith("(") and raw.endswith(")")):
        raise QueryError(f"invalid list {raw!r} for {field}: expected in.(a,b)")
    items, current, quoted = [], "", False
    for char in raw[1:-1]:
        if char == '"':
            quoted = not quoted
        if char == "," and not quoted:
            items.append(current.strip())
            current = ""
        else:
            current += char
    items.append(current.strip())
    return [item for item in items if item]


def _like(raw: str, *, ignore_case: bool) -> re.Pattern[str]:
    pattern = ".*".join(re.escape(part) for part in _unquote(raw).split("*"))
    return re.compile(pattern, (re.IGNORECASE | re.DOTALL) if ignore_case else re.DOTALL)


def parse_condition(name: str, raw: str, spec: FieldSpec[Any]) -> Condition:
    negate = raw.startswith("not.")
    body = raw[4:] if negate else raw
    op, dot, operand = body.partition(".")
    if not dot:
        raise QueryError(f"invalid filter {name}={raw}: expected operator.value, e.g. eq.{raw}")
    if op == "is":
        values = {"null": None, "true": True, "false": False}
        if operand not in values:
            raise QueryError(f"invalid value {operand!r} for {name}: is takes null, true or false")
        return Condition(name, op, values[operand], negate)
    if op == "in":
        return Condition(
            name, op, frozenset(_coerce(spec.kind, item, name) for item in _split_list(operand, name)), negate
        )
    if op in PATTERNS:
        if spec.kind != "str":
            raise QueryError(f"operator {op} needs a text field; {name} is {spec.kind}")
        return Condition(name, op, _like(operand, ignore_case=op == "ilike"), negate)
    if op not in COMPARISONS:
        raise QueryError(f"unknown operator {op!r} in {name}={raw}")
    if spec.kind == "bool" and op not in ("eq", "neq"):
        raise QueryError(f"operator {op} does not apply to boolean field {name}")
    return Condition(name, op, _coerce(spec.kind, operand, name), negate)


def parse_order(raw: str, fields: Fields[Any]) -> tuple[OrderTerm, ...]:
    terms = []
    for item in raw.split(","):
        name, *modifiers = item.strip().split(".")
        if name not in fields:
            raise QueryError(f"cannot order by unknown field {name!r}")
        unknown = set(modifiers) - {"asc", "desc", "nullsfirst", "nullslast"}
        if unknown:
            raise QueryError(f"invalid order modifier {sorted(unknown)[0]!r} for {name}")
        terms.append(OrderTerm(name, descending="desc" in modifiers))
    return tuple(terms)


def _integer(raw: str, name: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise QueryError(f"{name} must be an integer, got {raw!r}") from None


def parse_list_query(params: Iterable[tuple[str, str]], fields: Fields[Any]) -> ListQuery:
    offset, limit = 0, DEFAULT_PAGE_LIMIT
    order: tuple[OrderTerm, ...] = ()
    conditions = []
    for name, raw in params:
        if name == "offset":
            offset = _integer(raw, name)
            if offset < 0:
                raise QueryError("offset must not be negative")
        elif name == "limit":
            limit = _integer(raw, name)
            if not 1 <= limit <= MAX_PAGE_LIMIT:
                raise QueryError(f"limit must be between 1 and {MAX_PAGE_LIMIT}")
        elif name == "order":
            order = parse_order(raw, fields)
        elif name in fields:
            conditions.append(parse_condition(name, raw, fields[name]))
        else:
            raise QueryError(f"unknown filter field {name!r}")
    return ListQuery(offset=offset, limit=limit, order=order, conditions=tuple(conditions))
