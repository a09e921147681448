"""QuickBooks' query language: `SELECT * | COUNT(*) | fields FROM Entity [WHERE a = 'x' AND b IN ('y','z') AND
c LIKE 'v%'] [ORDERBY f [ASC|DESC], …] [STARTPOSITION n] [MAXRESULTS m]`.

As in QuickBooks: keywords and entity names are case-insensitive, conditions join with AND only (no OR), string
comparisons ignore case, a reference (`VendorRef`) compares by its id, STARTPOSITION is 1-based, MAXRESULTS
defaults to 100 and is capped at 1000. A syntax error is Fault 4000 `QueryParserError`.
"""

import operator
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sandbox.quickbooks.constants import CODE_QUERY_PARSE, DEFAULT_QUERY_RESULTS, MAX_QUERY_RESULTS
from sandbox.quickbooks.entities import Entity, entity_named
from sandbox.quickbooks.errors import QboFault
from sandbox.quickbooks.store import Obj
from sandbox.quickbooks.values import decimal_of, parse_time

TOKEN = re.compile(r"\s*(?:('(?:[^'\\]|\\.|'')*')|(<=|>=|!=|<>|=|<|>|\(|\)|,)|([A-Za-z_*][\w.*]*|-?\d+(?:\.\d+)?))")
COMPARISONS = {
    "=": operator.eq,
    "!=": operator.ne,
    "<>": operator.ne,
    "<": operator.lt,
    ">": operator.gt,
    "<=": operator.le,
    ">=": operator.ge,
}
OPERATORS = (*COMPARISONS, "IN", "LIKE")


@dataclass(frozen=True, slots=True)
class Condition:
    field: str
    operator: str
    values: tuple[Any, ...]


@dataclass
class Query:
    entity: Entity
    count: bool = False
    fields: tuple[str, ...] = ()
    conditions: list[Condition] = field(default_factory=list)
    order: list[tuple[str, bool]] = field(default_factory=list)
    """(field, descending)."""
    start: int = 1
    max_results: int = DEFAULT_QUERY_RESULTS


def _error(detail: str) -> QboFault:
    return QboFault(CODE_QUERY_PARSE, f"QueryParserError: {detail}")


def tokenize(text: str) -> list[str]:
    tokens, position, text = [], 0, text.strip().rstrip(";")
    while position < len(text):
        match = TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise _error(f'Encountered "{text[position : position + 10]}" at line 1, column {position + 1}.')
        tokens.append(match.group(1) or match.group(2) or match.group(3))
        position = match.end()
    return tokens


class _Parser:
    def __init__(self, tokens: list[str]) -> None:
        self.tokens = tokens
        self.index = 0

    def peek(self) -> str:
        return self.tokens[self.index] if self.index < len(self.tokens) else ""

    def take(self) -> str:
        token = self.peek()
        if not token:
            raise _error('Encountered "<EOF>": the statement ended too soon.')
        self.index += 1
        return token

    def keyword(self, *words: str) -> bool:
        if self.peek().upper() in words:
            self.index += 1
            return True
        return False

    def expect(self, word: str) -> None:
        if not self.keyword(word):
            raise _error(f'Encountered "{self.peek() or "<EOF>"}"; was expecting "{word}".')

    def integer(self, name: str) -> int:
        token = self.take()
        if not token.isdigit():
            raise _error(f'{name} must be a number, not "{token}".')
        return int(token)

    def value(self) -> Any:
        token = self.take()
        if token.startswith("'"):
            return token[1:-1].replace("\\'", "'").replace("''", "'")
        if token.lower() in ("true", "false"):
            return token.lower() == "true"
        if decimal_of(token) is not None:
            return token
        raise _error(f'Encountered "{token}"; was expecting a quoted value.')


def parse(text: str) -> Query:
    parser = _Parser(tokenize(text))
    parser.expect("SELECT")
    count, fields = False, []
    if parser.peek().upper() == "COUNT":
        parser.take()
        if [parser.take(), parser.take(), parser.take()] != ["(", "*", ")"]:
            raise _error("COUNT takes (*).")
        count = True
    else:
        while True:
            fields.append(parser.take())
            if not parser.keyword(","):
                break
    parser.expect("FROM")
    name = parser.take()
    entity = entity_named(name)
    if entity is None:
        raise QboFault(CODE_QUERY_PARSE, f"QueryValidationError: Invalid entity name: {name}")
    query = Query(entity, count, () if "*" in fields else tuple(fields))
    if parser.keyword("WHERE"):
        query.conditions.append(_condition(parser))
        while parser.keyword("AND"):
            query.conditions.append(_condition(parser))
    if parser.keyword("ORDERBY") or (parser.keyword("ORDER") and parser.keyword("BY")):
        while True:
            column = parser.take()
            descending = parser.keyword("DESC")
            parser.keyword("ASC")
            query.order.append((column, descending))
            if not parser.keyword(","):
                break
    if parser.keyword("STARTPOSITION"):
        query.start = max(1, parser.integer("STARTPOSITION"))
    if parser.keyword("MAXRESULTS"):
        query.max_results = min(MAX_QUERY_RESULTS, parser.integer("MAXRESULTS"))
    if parser.peek():
        raise _error(f'Encountered "{parser.peek()}" at the end of the statement.')
    return query


def _condition(parser: _Parser) -> Condition:
    column = parser.take()
    comparison = parser.take().upper()
    if comparison not in OPERATORS:
        raise _error(f'Encountered "{comparison}"; was expecting an operator.')
    if comparison != "IN":
        return Condition(column, comparison, (parser.value(),))
    if parser.take() != "(":
        raise _error("IN takes a parenthesised list.")
    values = [parser.value()]
    while parser.keyword(","):
        values.append(parser.value())
    if parser.take() != ")":
        raise _error("IN list not closed.")
    return Condition(column, comparison, tuple(values))


def field_value(obj: Any, path: str) -> Any:
    """A dotted path's value; a reference gives its id; through a list (`AttachableRef.EntityRef.value`), a list."""
    current: Any = obj
    parts = path.split(".")
    for index, part in enumerate(parts):
        if isinstance(current, list):
            rest = ".".join(parts[index:])
            return [found for item in current if (found := field_value(item, rest)) is not None]
        if not isinstance(current, dict):
            return None
        key = next((key for key in current if key.lower() == part.lower()), None)
        current = current.get(key) if key is not None else None
    if isinstance(current, dict) and "value" in current:
        return current["value"]
    return current


def _comparable(value: Any, against: Any) -> tuple[Any, Any]:
    if isinstance(value, bool) or isinstance(against, bool):
        return str(value).lower(), str(against).lower()
    left, right = decimal_of(value), decimal_of(against)
    if left is not None and right is not None and (not isinstance(value, str) or _is_id(value)):
        return left, right
    if isinstance(value, str) and isinstance(against, str) and "T" in value and (time := parse_time(against)):
        moment = parse_time(value)
        if moment is not None:
            return moment, time
    return str(value).casefold(), str(against).casefold()


def _like(value: Any, pattern: str) -> bool:
    regex = "".join(".*" if char == "%" else re.escape(char) for char in pattern.casefold())
    return re.fullmatch(regex, str(value).casefold(), re.DOTALL) is not None


def matches(obj: Obj, condition: Condition) -> bool:
    value = field_value(obj, condition.field)
    if isinstance(value, list):
        return any(_matches_value(item, condition) for item in value)
    return _matches_value(value, condition)


def _matches_value(value: Any, condition: Condition) -> bool:
    if value is None:
        return False
    if condition.operator == "LIKE":
        return _like(value, str(condition.values[0]))
    if condition.operator == "IN":
        return any(_comparable(value, option)[0] == _comparable(value, option)[1] for option in condition.values)
    left, right = _comparable(value, condition.values[0])
    try:
        return bool(COMPARISONS[condition.operator](left, right))
    except TypeError:
        return False


def _is_id(value: str) -> bool:
    """Ids are numbers in strings: they compare and sort as numbers."""
    return value.isdigit() and not value.startswith("0")


def _sort_key(value: Any) -> tuple[int, Any]:
    if value is None:
        return (2, "")
    number = decimal_of(value) if not isinstance(value, str) or _is_id(value) else None
    return (0, number) if isinstance(number, Decimal) else (1, str(value).casefold())


def run(query: Query, objects: list[Obj]) -> dict[str, Any]:
    """The `QueryResponse` object for `objects` (already the entity's, in id order)."""
    found = [obj for obj in objects if all(matches(obj, condition) for condition in query.conditions)]
    if query.count:
        return {"totalCount": len(found)}
    for column, descending in reversed(query.order):
        found.sort(key=lambda obj: _sort_key(field_value(obj, column)), reverse=descending)
    page = found[query.start - 1 : query.start - 1 + query.max_results]
    if not page:
        return {}
    if query.fields:
        page = [
            {
                key: value
                for key, value in obj.items()
                if key == "Id" or key.lower() in {f.lower() for f in query.fields}
            }
            | {"domain": "QBO", "sparse": True}
            for obj in page
        ]
    return {query.entity.name: page, "startPosition": query.start, "maxResults": len(page)}
