"""Xero's `where` and `order` query parameters (a Dynamic LINQ subset), parsed and evaluated on stored objects.

Grammar: comparisons `Field == value` with `==`, `!=`, `>`, `>=`, `<`, `<=`; `AND`/`&&`, `OR`/`||`, `NOT`/`!`,
parentheses; string methods `Field.Contains("x")`, `.StartsWith(`, `.EndsWith(`; values are `"strings"`, numbers,
`true`/`false`/`null`, `DateTime(2024,01,31[,h,m,s])`, `Guid("…")`; paths may be nested (`Contact.ContactID`).
A bare boolean field (`IsSupplier`) is true when the field is. Strings compare without regard to case, as Xero's
database does. An unknown top-level field answers Xero's `QueryParseException`.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from starlette.responses import JSONResponse

from sandbox.xero.errors import XeroError

QUERY_PARSE_NUMBER = 16
_TOKEN = re.compile(
    r'\s*(?:(?P<string>"(?:[^"\\]|\\.)*")|(?P<number>-?\d+(?:\.\d+)?)|(?P<op>==|!=|>=|<=|&&|\|\||[><!(),.])'
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*))"
)
Predicate = Callable[[dict[str, Any]], bool]
COMPARATORS = {"==", "!=", ">", ">=", "<", "<="}
METHODS = {"Contains", "StartsWith", "EndsWith"}


def query_error(message: str) -> XeroError:
    body = {"ErrorNumber": QUERY_PARSE_NUMBER, "Type": "QueryParseException", "Message": message}
    return XeroError(JSONResponse(body, 400))


@dataclass(frozen=True, slots=True)
class Token:
    kind: str
    text: str


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    position = 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise query_error(f"Syntax error at position {position} in the where clause")
        kind = match.lastgroup or "op"
        tokens.append(Token(kind, match.group(kind)))
        position = match.end()
    return tokens


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _comparable(left: Any, right: Any) -> tuple[Any, Any]:
    """Bring a stored value and a literal to one type (days to midnight UTC, numbers to Decimal)."""
    if isinstance(left, date) and not isinstance(left, datetime):
        left = datetime(left.year, left.month, left.day, tzinfo=UTC)
    if isinstance(right, date) and not isinstance(right, datetime):
        right = datetime(right.year, right.month, right.day, tzinfo=UTC)
    if isinstance(left, (int, float)) and not isinstance(left, bool):
        left = Decimal(str(left))
    return _lower(left), _lower(right)


def compare(left: Any, op: str, right: Any) -> bool:
    left, right = _comparable(left, right)
    if op == "==":
        return bool(left == right)
    if op == "!=":
        return bool(left != right)
    if left is None or right is None:
        return False
    try:
        return bool({">": left > right, ">=": left >= right, "<": left < right, "<=": left <= right}[op])
    except TypeError:
        return False


def resolve(obj: dict[str, Any], path: list[str]) -> Any:
    value: Any = obj
    for part in path:
        if isinstance(value, dict):
            value = value.get(part)
        else:
            return None
    return value


class Parser:
    def __init__(self, text: str, *, type_name: str, fields: frozenset[str]) -> None:
        self.tokens = tokenize(text)
        self.index = 0
        self.type_name = type_name
        self.fields = fields

    def parse(self) -> Predicate:
        predicate = self._or()
        if self.index != len(self.tokens):
            raise query_error(f"Syntax error: unexpected '{self.tokens[self.index].text}'")
        return predicate

    def _peek(self) -> Token | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def _take(self, text: str | None = None) -> Token:
        token = self._peek()
        if token is None or (text is not None and token.text != text):
            raise query_error(f"Syntax error: '{text or 'a value'}' expected")
        self.index += 1
        return token

    def _at(self, *texts: str) -> bool:
        token = self._peek()
        return token is not None and token.text.upper() in texts

    def _or(self) -> Predicate:
        parts = [self._and()]
        while self._at("OR", "||"):
            self.index += 1
            parts.append(self._and())
        return parts[0] if len(parts) == 1 else (lambda obj: any(part(obj) for part in parts))

    def _and(self) -> Predicate:
        parts = [self._not()]
        while self._at("AND", "&&"):
            self.index += 1
            parts.append(self._not())
        return parts[0] if len(parts) == 1 else (lambda obj: all(part(obj) for part in parts))

    def _not(self) -> Predicate:
        if self._at("NOT", "!"):
            self.index += 1
            inner = self._not()
            return lambda obj: not inner(obj)
        return self._primary()

    def _primary(self) -> Predicate:
        if self._at("("):
            self.index += 1
            inner = self._or()
            self._take(")")
            return inner
        token = self._peek()
        if (
            token is not None
            and token.kind == "name"
            and token.text not in ("DateTime", "Guid", "true", "false", "null")
        ):
            path, method = self._path()
            if method is not None:
                self._take("(")
                argument = self._value()
                self._take(")")
                return _method(path, method, argument)
            if self._peek() is not None and self._peek().text in COMPARATORS:  # type: ignore[union-attr]
                op = self._take().text
                right = self._value()
                return lambda obj: compare(resolve(obj, path), op, right)
            return lambda obj: resolve(obj, path) is True
        left = self._value()
        op = self._take().text
        if op not in COMPARATORS:
            raise query_error(f"Syntax error: operator expected, found '{op}'")
        path, _ = self._path()
        mirrored = {">": "<", "<": ">", ">=": "<=", "<=": ">="}.get(op, op)
        return lambda obj: compare(resolve(obj, path), mirrored, left)

    def _path(self) -> tuple[list[str], str | None]:
        path = [self._take().text]
        if path[0] not in self.fields:
            raise query_error(f"No property or field '{path[0]}' exists in type '{self.type_name}'")
        while self._at("."):
            self.index += 1
            name = self._take().text
            if name in METHODS and self._at("("):
                return path, name
            path.append(name)
        return path, None

    def _value(self) -> Any:
        token = self._take()
        if token.kind == "string":
            return token.text[1:-1].replace('\\"', '"')
        if token.kind == "number":
            try:
                return Decimal(token.text)
            except InvalidOperation as error:
                raise query_error(f"Invalid number '{token.text}'") from error
        if token.text == "true":
            return True
        if token.text == "false":
            return False
        if token.text == "null":
            return None
        if token.text in ("DateTime", "DateTimeOffset"):
            self._take("(")
            parts = [int(self._take().text)]
            while self._at(","):
                self.index += 1
                parts.append(int(self._take().text))
            self._take(")")
            try:
                return datetime(*parts[:3], *parts[3:6], tzinfo=UTC)  # type: ignore[arg-type,misc]
            except (TypeError, ValueError) as error:
                raise query_error("Invalid DateTime in the where clause") from error
        if token.text == "Guid":
            self._take("(")
            value = self._take().text.strip('"')
            self._take(")")
            return value
        raise query_error(f"Syntax error: unexpected '{token.text}'")


def _method(path: list[str], method: str, argument: Any) -> Predicate:
    needle = str(argument).lower()

    def test(obj: dict[str, Any]) -> bool:
        value = resolve(obj, path)
        if not isinstance(value, str):
            return False
        haystack = value.lower()
        if method == "Contains":
            return needle in haystack
        if method == "StartsWith":
            return haystack.startswith(needle)
        return haystack.endswith(needle)

    return test


def where(text: str, *, type_name: str, fields: frozenset[str]) -> Predicate:
    return Parser(text, type_name=type_name, fields=fields).parse()


def order_key(text: str, *, type_name: str, fields: frozenset[str]) -> list[tuple[list[str], bool]]:
    """`order=Name ASC, Date DESC` → [(path, descending)]."""
    keys: list[tuple[list[str], bool]] = []
    for clause in text.split(","):
        words = clause.split()
        if not words:
            continue
        path = words[0].split(".")
        if path[0] not in fields:
            raise query_error(f"No property or field '{path[0]}' exists in type '{type_name}'")
        descending = len(words) > 1 and words[1].upper() == "DESC"
        keys.append((path, descending))
    return keys


def sort(objects: list[dict[str, Any]], keys: list[tuple[list[str], bool]]) -> list[dict[str, Any]]:
    for path, descending in reversed(keys):
        objects.sort(key=lambda obj: _sortable(resolve(obj, path)), reverse=descending)
    return objects


def _sortable(value: Any) -> tuple[int, Any]:
    if value is None:
        return (0, "")
    if isinstance(value, datetime):
        return (1, value.timestamp())
    if isinstance(value, date):
        return (1, datetime(value.year, value.month, value.day, tzinfo=UTC).timestamp())
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return (1, float(value))
    return (2, str(value).lower())
