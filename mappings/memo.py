"""Memo templates: `{placeholder}` text that tenants write and documents carry as descriptions.

A template is parsed once into literal text and known placeholder names; rendering only looks names up in a
dict. `str.format` is never applied to a tenant's template: it would reach attributes (`{0.__class__}`) and
indexes of whatever it is given.
"""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

from core.domain import Expense
from mappings.constants import MEMO_MAX_LENGTH, MEMO_TEMPLATE_CACHE_SIZE, Fund
from mappings.expense_fields import text_of

LINE_PLACEHOLDERS = frozenset(
    {
        "expense_id",
        "report_id",
        "employee_email",
        "employee_name",
        "category",
        "merchant",
        "purpose",
        "project",
        "cost_center",
        "department",
        "spent_on",
        "amount",
        "currency",
        "url",
    }
)
"""What a line description may show: fields of its one expense."""

DOCUMENT_PLACEHOLDERS = frozenset(
    {
        "report_id",
        "employee_email",
        "employee_name",
        "fund",
        "expense_count",
        "currency",
        "first_spent_on",
        "last_spent_on",
    }
)
"""What a document memo may show: what its expenses share. A field they do not share renders empty."""

_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")


@dataclass(frozen=True, slots=True)
class MemoTemplate:
    parts: tuple[str | tuple[str], ...]
    """Literal text, or a one-element tuple naming a placeholder."""

    def render(self, values: Mapping[str, str]) -> str:
        """The memo, with whitespace runs (which empty placeholders leave) collapsed, cut to the maximum length."""
        text = "".join(values.get(part[0], "") if isinstance(part, tuple) else part for part in self.parts)
        return " ".join(text.split())[:MEMO_MAX_LENGTH]


@lru_cache(maxsize=MEMO_TEMPLATE_CACHE_SIZE)
def parse_template(template: str, allowed: frozenset[str]) -> MemoTemplate:
    """Parse `template`, refusing any placeholder outside `allowed`. `{{` and `}}` stand for literal braces.

    Cached: every document of an export parses the same two templates.
    """
    parts: list[str | tuple[str]] = []
    position = 0
    for match in _TOKEN.finditer(template):
        if match.start() > position:
            parts.append(template[position : match.start()])
        token = match.group(0)
        if token in ("{{", "}}"):
            parts.append(token[0])
        elif match.group(1) is None:
            raise ValueError(f"unbalanced {token!r} at position {match.start()}; write {token * 2} for a brace")
        elif match.group(1) not in allowed:
            raise ValueError(f"unknown placeholder {{{match.group(1)}}}; use one of {', '.join(sorted(allowed))}")
        else:
            parts.append((match.group(1),))
        position = match.end()
    if position < len(template):
        parts.append(template[position:])
    return MemoTemplate(tuple(parts))


def line_values(expense: Expense, *, amount: str, currency: str) -> dict[str, str]:
    """Placeholder values for one expense's line; `amount`/`currency` as the document carries them."""
    return {
        "expense_id": expense.id,
        "report_id": expense.report_id or "",
        "employee_email": expense.employee_email,
        "employee_name": expense.employee_name or "",
        "category": expense.category,
        "merchant": expense.merchant or "",
        "purpose": expense.purpose or "",
        "project": expense.project or "",
        "cost_center": expense.cost_center or "",
        "department": expense.department or "",
        "spent_on": text_of(expense.spent_on),
        "amount": amount,
        "currency": currency,
        "url": expense.url or "",
    }


def _shared(values: Sequence[str | None]) -> str:
    distinct = set(values)
    return (distinct.pop() or "") if len(distinct) == 1 else ""


def document_values(expenses: Sequence[Expense], *, fund: Fund, currency: str) -> dict[str, str]:
    days = [expense.spent_on for expense in expenses]
    return {
        "report_id": _shared([expense.report_id for expense in expenses]),
        "employee_email": _shared([expense.employee_email for expense in expenses]),
        "employee_name": _shared([expense.employee_name for expense in expenses]),
        "fund": "Reimbursable" if fund is Fund.REIMBURSABLE else "Corporate card",
        "expense_count": str(len(expenses)),
        "currency": currency,
        "first_spent_on": min(days).isoformat(),
        "last_spent_on": max(days).isoformat(),
    }
