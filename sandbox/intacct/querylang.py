"""The readByQuery `query` string: a WHERE clause over one object's fields.

Supported as documented: `=`, `!=`/`<>`, `<`, `<=`, `>`, `>=`, `[NOT] LIKE`, `[NOT] IN (…)`, `IS [NOT] NULL`,
`AND`, `OR`, `NOT`, parentheses; strings in single quotes with `\\'` (or `''`) for a quote. Joins are refused.
"""

import re
from dataclasses import dataclass

from sandbox.intacct.errors import query_failed
from sandbox.intacct.filters import AllOf, AnyOf, Condition, Negation, Predicate, resolve_field, typed
from sandbox.intacct.schema import ObjectDef

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>'(?:\\.|''|[^'\\])*')
      | (?P<number>-?\d+(?:\.\d+)?)
      | (?P<op><=|>=|<>|!=|=|<|>)
      | (?P<punct>[(),])
      | (?P<word>[A-Za-z_][A-Za-z0-9_.]*)
    )""",
    re.VERBOSE,
)
_OPERATORS = {
    "=": "equalto",
    "!=": "notequalto",
    "<>": "notequalto",
    "<": "lessthan",
    "<=": "lessthanorequalto",
    ">": "greaterthan",
    ">=": "greaterthanorequalto",
}
_KEYWORDS = frozenset({"AND", "OR", "NOT", "IN", "LIKE", "IS", "NULL"})


@dataclass(frozen=True)
class Token:
    kind: str
    text: str


def tokenize(query: str) -> list[Token]:
    tokens: list[Token] = []
    position = 0
    while position < len(query):
        if not query[position:].strip():
            break
        match = _TOKEN.match(query, position)
        if match is None or match.lastgroup is None:
            raise query_failed(f"Invalid query near '{query[position : position + 20].strip()}'.")
        text = match.group(match.lastgroup)
        if match.lastgroup == "string":
            text = re.sub(r"\\(.)", r"\1", text[1:-1]).replace("''", "'")
        elif match.lastgroup == "word" and text.upper() in _KEYWORDS:
            tokens.append(Token("keyword", text.upper()))
            position = match.end()
            continue
        tokens.append(Token(match.lastgroup, text))
        position = match.end()
    return tokens


class _Parser:
    def __init__(self, tokens: list[Token], definition: ObjectDef) -> None:
        self.tokens = tokens
        self.position = 0
        self.definition = definition

    def peek(self, kind: str, text: str | None = None) -> bool:
        if self.position >= len(self.tokens):
            return False
        token = self.tokens[self.position]
        return token.kind == kind and (text is None or token.text == text)

    def take(self, kind: str, text: str | None = None) -> Token:
        if not self.peek(kind, text):
            found = self.tokens[self.position].text if self.position < len(self.tokens) else "end of query"
            raise query_failed(f"Invalid query: expected {text or kind}, found '{found}'.")
        token = self.tokens[self.position]
        self.position += 1
        return token

    def expression(self) -> Predicate:
        parts = [self.conjunction()]
        while self.peek("keyword", "OR"):
            self.take("keyword", "OR")
            parts.append(self.conjunction())
        return parts[0] if len(parts) == 1 else AnyOf(tuple(parts))

    def conjunction(self) -> Predicate:
        parts = [self.negation()]
        while self.peek("keyword", "AND"):
            self.take("keyword", "AND")
            parts.append(self.negation())
        return parts[0] if len(parts) == 1 else AllOf(tuple(parts))

    def negation(self) -> Predicate:
        if self.peek("keyword", "NOT"):
            self.take("keyword", "NOT")
            return Negation(self.negation())
        if self.peek("punct", "("):
            self.take("punct", "(")
            inner = self.expression()
            self.take("punct", ")")
            return inner
        return self.comparison()

    def value(self) -> str:
        if self.peek("string"):
            return self.take("string").text
        return self.take("number").text

    def comparison(self) -> Predicate:
        field = resolve_field(self.definition, self.take("word").text)
        if self.peek("keyword", "IS"):
            self.take("keyword", "IS")
            negated = self.peek("keyword", "NOT")
            if negated:
                self.take("keyword", "NOT")
            self.take("keyword", "NULL")
            return Condition("isnotnull" if negated else "isnull", field)
        negated = self.peek("keyword", "NOT")
        if negated:
            self.take("keyword", "NOT")
        if self.peek("keyword", "LIKE"):
            self.take("keyword", "LIKE")
            return Condition("notlike" if negated else "like", field, (self.value(),))
        if self.peek("keyword", "IN"):
            self.take("keyword", "IN")
            self.take("punct", "(")
            values = [self.value()]
            while self.peek("punct", ","):
                self.take("punct", ",")
                values.append(self.value())
            self.take("punct", ")")
            return self._checked(Condition("notin" if negated else "in", field, tuple(values)))
        if negated:
            raise query_failed("Invalid query: NOT must be followed by LIKE or IN here.")
        operator = _OPERATORS[self.take("op").text]
        return self._checked(Condition(operator, field, (self.value(),)))

    @staticmethod
    def _checked(condition: Condition) -> Condition:
        for value in condition.values:
            typed(condition.field, value)
        return condition


def parse_query(query: str, definition: ObjectDef) -> Predicate | None:
    """The predicate of a readByQuery `query`; None when the query is empty (every row)."""
    tokens = tokenize(query)
    if not tokens:
        return None
    parser = _Parser(tokens, definition)
    predicate = parser.expression()
    if parser.position != len(tokens):
        raise query_failed(f"Invalid query: unexpected '{tokens[parser.position].text}'.")
    return predicate
