"""Grouping: which expenses share a document, deterministic keys, and skipped expenses with their reasons."""

import uuid
from datetime import date
from decimal import Decimal

from core.domain import DocumentKind, Expense
from mappings import idempotency_key, plan_groups
from mappings.constants import Fund
from tests.mappings.factories import expense, settings


def _groups(items: list[Expense], **overrides: object) -> list[tuple[str, ...]]:
    return [group.expense_ids for group in plan_groups(items, settings(**overrides)).groups]


def test_per_report_groups_a_report_and_keeps_card_and_reimbursable_apart() -> None:
    items = [
        expense(id="a", report_id="rp1"),
        expense(id="b", report_id="rp1"),
        expense(id="c", report_id="rp2"),
        expense(id="d", report_id="rp1", is_reimbursable=False, corporate_card_id="card"),
        expense(id="e", report_id="rp1", is_reimbursable=False, corporate_card_id="card"),
    ]
    plan = plan_groups(
        items,
        settings(
            card={"export_type": "journal_entry", "grouping": {"by": "report"}},
            defaults={"journal_card_credit_account": "2100"},
        ),
    )
    assert sorted(group.expense_ids for group in plan.groups) == [("a", "b"), ("c",), ("d", "e")]
    card = next(group for group in plan.groups if group.fund is Fund.CARD)
    assert card.kind is DocumentKind.JOURNAL_ENTRY
    assert card.key.startswith("card;journal_entry;report=rp1")


def test_per_expense_makes_one_group_each_and_expenses_outside_reports_stand_alone() -> None:
    items = [expense(id="a"), expense(id="b"), expense(id="c", report_id=None)]
    assert sorted(_groups(items, reimbursable={"grouping": {"by": "expense"}})) == [("a",), ("b",), ("c",)]
    assert sorted(_groups(items)) == [("a", "b"), ("c",)]


def test_chosen_fields_and_the_spend_date_rule_split_a_report() -> None:
    items = [
        expense(id="a", project="Apollo", spent_on=date(2026, 5, 1)),
        expense(id="b", project="Gemini", spent_on=date(2026, 5, 1)),
        expense(id="c", project="Apollo", spent_on=date(2026, 5, 2)),
    ]
    by_project = {"grouping": {"fields": ["project"]}, "date": "last_spent"}
    assert sorted(_groups(items, reimbursable=by_project)) == [("a", "c"), ("b",)]
    assert sorted(_groups(items, reimbursable={"date": "spent"})) == [("a", "b"), ("c",)]


def test_a_document_has_one_currency() -> None:
    items = [expense(id="a", currency="USD"), expense(id="b", currency="EUR")]
    assert sorted(_groups(items)) == [("a",), ("b",)]


def test_skipped_expenses_carry_their_reason() -> None:
    approved = {"report_state": "APPROVED"}
    items = [
        expense(id="draft", state="DRAFT", **approved),
        expense(id="card", is_reimbursable=False, **approved),
        expense(id="zero", amount=Decimal("0.004"), **approved),
        expense(id="personal", purpose="personal", **approved),
        expense(id="report", report_state="OPEN"),
        expense(id="ok", **approved),
    ]
    plan = plan_groups(
        items,
        settings(
            reimbursable={"report_states": ["approved"]},
            skip_rules=[
                {"name": "personal", "conditions": [{"field": "purpose", "operator": "equals", "value": "personal"}]}
            ],
        ),
    )
    reasons = {skipped.expense_id: skipped.reason for skipped in plan.skipped}
    assert "DRAFT" in reasons["draft"]
    assert "card expenses are not exported" in reasons["card"]
    assert "zero" in reasons["zero"]
    assert reasons["personal"].startswith("skip rule 'personal'")
    assert "report state 'OPEN'" in reasons["report"]
    assert [group.expense_ids for group in plan.groups] == [("ok",)]


def test_exportable_states_compare_without_case() -> None:
    assert _groups([expense(id="a", state="paid")], reimbursable={"expense_states": ["PAID"]}) == [("a",)]


def test_group_keys_quote_values_so_separators_cannot_collide() -> None:
    plan = plan_groups([expense(report_id="rp;1=x")], settings())
    assert "report=rp%3B1%3Dx" in plan.groups[0].key


def test_idempotency_keys_are_deterministic_short_and_change_with_each_generation() -> None:
    destination = uuid.uuid4()
    key = idempotency_key(destination, "reimbursable;expense_report;report=rp1", 0)
    assert key == idempotency_key(destination, "reimbursable;expense_report;report=rp1", 0)
    assert key != idempotency_key(destination, "reimbursable;expense_report;report=rp1", 1)
    assert key != idempotency_key(uuid.uuid4(), "reimbursable;expense_report;report=rp1", 0)
    assert len(key) <= 64
    assert key.startswith("ll-")
