"""Grouping: which expenses go together into one document, by the tenant's settings. Pure; see `regrouping`
for the part that writes export items.

Every expense comes out in exactly one group or skipped with its reason. A group's key is deterministic: the
same expenses under the same settings always give the same keys, which is what lets regrouping keep the items
that did not change.
"""

import hashlib
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import quote

from core.domain import DocumentKind, Expense
from mappings.amounts import to_cents
from mappings.constants import (
    GROUP_KEY_SEPARATOR,
    IDEMPOTENCY_KEY_DIGEST_CHARS,
    IDEMPOTENCY_KEY_PREFIX,
    ZERO,
    Fund,
    SourceType,
)
from mappings.expense_fields import field_value, text_of
from mappings.requirements import entity_routing_value, fund_of, needs_employee
from mappings.settings import ExportSettings
from mappings.skip_rules import skip_reason
from mappings.terms import document_currency, expense_date, source_amount
from mappings.vocabulary import normalize_source_value


@dataclass(frozen=True, slots=True)
class Group:
    key: str
    kind: DocumentKind
    fund: Fund
    expense_ids: tuple[str, ...]
    """In document order: by spend date, then id."""


@dataclass(frozen=True, slots=True)
class Skipped:
    expense_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class GroupingPlan:
    groups: tuple[Group, ...]
    skipped: tuple[Skipped, ...]


def exclusion_reason(expense: Expense, settings: ExportSettings) -> str | None:
    """Why `expense` is not exported under `settings`, or None if it is."""
    fund = fund_of(expense)
    fund_settings = settings.fund(fund)
    if fund_settings is None:
        return f"{fund} expenses are not exported (no export type is set for them)"
    if expense.state.casefold() not in {state.casefold() for state in fund_settings.expense_states}:
        return (
            f"expense state {expense.state!r} is not exportable (exportable: {', '.join(fund_settings.expense_states)})"
        )
    report_states = {state.casefold() for state in fund_settings.report_states}
    if report_states and (expense.report_state or "").casefold() not in report_states:
        return f"report state {expense.report_state!r} is not exportable"
    if to_cents(source_amount(expense, settings)) == ZERO:
        return "the amount is zero (to the cent): there is nothing to post"
    return skip_reason(expense, settings.skip_rules)


def _part(name: str, value: str) -> str:
    return f"{name}={quote(value, safe='@')}"


def group_key(expense: Expense, settings: ExportSettings, *, fund: Fund, kind: DocumentKind) -> str:
    """`fund;kind;report=…;…;currency=…`: values are URL-quoted, so a separator inside a value cannot collide."""
    fund_settings = settings.fund(fund)
    parts = [fund.value, kind.value]
    if fund_settings is not None and fund_settings.grouping.by == "report" and expense.report_id:
        parts.append(_part("report", expense.report_id))
        if needs_employee(kind, fund) and kind is not DocumentKind.JOURNAL_ENTRY:
            # The document names one employee (or vendor): a report shared by two people still splits.
            parts.append(_part("employee", normalize_source_value(SourceType.EMPLOYEE, expense.employee_email)))
        day = expense_date(expense, fund_settings.date)
        if day is not None:
            parts.append(_part("date", day.isoformat()))
        parts.extend(_part(name, text_of(field_value(expense, name))) for name in fund_settings.grouping.fields)
    else:
        # Per expense, and expenses outside any report under per-report grouping.
        parts.append(_part("expense", expense.id))
    routing = entity_routing_value(expense, settings)
    if routing is not None:  # one document, one entity: expenses routed by different values never share one
        parts.append(_part("entity_by", routing[1]))
    currency, rate = document_currency(expense, settings)
    parts.append(_part("currency", currency))
    if rate is not None:
        parts.append(_part("rate", f"{rate:f}"))
    return GROUP_KEY_SEPARATOR.join(parts)


def plan_groups(expenses: Iterable[Expense], settings: ExportSettings) -> GroupingPlan:
    """Each expense into one group, or skipped with the reason; groups in key order."""
    buckets: dict[str, tuple[DocumentKind, Fund, list[Expense]]] = {}
    skipped: list[Skipped] = []
    for expense in expenses:
        reason = exclusion_reason(expense, settings)
        if reason is not None:
            skipped.append(Skipped(expense.id, reason))
            continue
        fund = fund_of(expense)
        kind = settings.export_type(fund)
        assert kind is not None, "exclusion_reason refuses expenses of a fund that is not exported"
        key = group_key(expense, settings, fund=fund, kind=kind)
        buckets.setdefault(key, (kind, fund, []))[2].append(expense)
    groups = tuple(
        Group(
            key=key,
            kind=kind,
            fund=fund,
            expense_ids=tuple(expense.id for expense in sorted(members, key=lambda e: (e.spent_on, e.id))),
        )
        for key, (kind, fund, members) in sorted(buckets.items())
    )
    return GroupingPlan(groups=groups, skipped=tuple(skipped))


def idempotency_key(destination_connection_id: uuid.UUID, group_key: str, generation: int) -> str:
    """Deterministic per (destination, group, generation) and short enough for every destination's reference."""
    digest = hashlib.sha256(f"{destination_connection_id}\n{generation}\n{group_key}".encode()).hexdigest()
    return IDEMPOTENCY_KEY_PREFIX + digest[:IDEMPOTENCY_KEY_DIGEST_CHARS]
