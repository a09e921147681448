"""Properties over any expenses and any valid settings: money is conserved to the cent, journals balance, every
expense lands in exactly one document or is skipped with its reason, and a build names every missing mapping."""

from collections import defaultdict
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.domain import DocumentKind, Expense
from mappings import ExportSettings, MappingTable, MissingMappingsError, build_document, is_balanced, plan_groups
from mappings.amounts import allocate_cents, to_cents
from mappings.constants import CENTS
from mappings.requirements import fund_of, needs
from mappings.terms import document_currency, source_amount
from mappings.totals import gross_total, line_gross
from tests.mappings.factories import EXPORT_DAY, ODD_AMOUNTS, expenses, grouped, mapped_everything
from tests.vocabularies import INTACCT

DEFAULTS = {
    "charge_card_account": "cc-default",
    "card_vendor": "V-CARD",
    "journal_credit_account": "2000",
    "journal_card_credit_account": "2100",
}


@st.composite
def export_settings(draw: st.DrawFn) -> ExportSettings:
    reimbursable = draw(st.sampled_from(["expense_report", "bill", "journal_entry"]))
    employee_as = {"expense_report": "employee", "bill": "vendor"}.get(
        reimbursable, draw(st.sampled_from(["employee", "vendor"]))
    )
    card_kinds = ["charge_card_transaction", "bill", "journal_entry"] + (
        ["expense_report"] if employee_as == "employee" else []
    )
    card_kind = draw(st.one_of(st.none(), st.sampled_from(card_kinds)))
    card: dict[str, Any] | None = None
    if card_kind is not None:
        by = "expense" if card_kind == "charge_card_transaction" else draw(st.sampled_from(["report", "expense"]))
        card = {"export_type": card_kind, "grouping": {"by": by}, "date": draw(st.sampled_from(["spent", "posted"]))}
    fields = draw(st.lists(st.sampled_from(["project", "category", "spent_on"]), max_size=2, unique=True))
    body: dict[str, Any] = {
        "reimbursable": {
            "export_type": reimbursable,
            "grouping": {"by": draw(st.sampled_from(["report", "expense"])), "fields": fields},
            "date": draw(st.sampled_from(["spent", "approved", "last_spent", "export_day"])),
        },
        "card": card,
        "employee_as": employee_as,
        "tax": draw(st.booleans()),
        "currency": draw(st.sampled_from(["booked", "original"])),
        "defaults": DEFAULTS,
        "dimensions": [{"source": "project", "destination": "project"}] if draw(st.booleans()) else [],
        "skip_rules": [{"name": "tiny", "conditions": [{"field": "amount", "operator": "less_than", "value": "1.00"}]}]
        if draw(st.booleans())
        else [],
    }
    return ExportSettings.model_validate(body)


PROPERTY_SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _documents(items: list[Expense], export_settings: ExportSettings) -> list[Any]:
    table = mapped_everything(items, export_settings)
    return [
        build_document(
            kind=group.kind,
            expenses=members,
            settings=export_settings,
            mappings=table,
            reference=f"ref-{index}",
            export_day=EXPORT_DAY,
            vocabulary=INTACCT,
        )
        for index, (group, members) in enumerate(grouped(items, export_settings))
    ]


@PROPERTY_SETTINGS
@given(items=expenses(), export_settings=export_settings())
def test_document_lines_add_up_to_the_exported_expenses_per_currency(
    items: list[Expense], export_settings: ExportSettings
) -> None:
    documents = _documents(items, export_settings)
    skipped = {entry.expense_id for entry in plan_groups(items, export_settings).skipped}
    expected: dict[str, Decimal] = defaultdict(Decimal)
    for item in items:
        if item.id not in skipped:
            currency, _ = document_currency(item, export_settings)
            expected[currency] += source_amount(item, export_settings)
    built: dict[str, Decimal] = defaultdict(Decimal)
    for document in documents:
        built[document.currency] += gross_total(document)
        assert all(line.amount == line.amount.quantize(CENTS) for line in document.lines)
    assert dict(built) == {currency: total for currency, total in expected.items()}


@PROPERTY_SETTINGS
@given(items=expenses(amounts=ODD_AMOUNTS), export_settings=export_settings())
def test_sub_cent_amounts_round_per_document_without_losing_a_cent(
    items: list[Expense], export_settings: ExportSettings
) -> None:
    by_id = {item.id: item for item in items}
    for document in _documents(items, export_settings):
        sources = {source for line in document.lines for source in line.source_ids}
        exact = sum((source_amount(by_id[source], export_settings) for source in sources), Decimal(0))
        assert gross_total(document) == to_cents(exact)
        for line in document.lines:
            assert line_gross(line) == line_gross(line).quantize(CENTS)


@PROPERTY_SETTINGS
@given(items=expenses(), export_settings=export_settings())
def test_every_journal_entry_balances(items: list[Expense], export_settings: ExportSettings) -> None:
    journals = [doc for doc in _documents(items, export_settings) if doc.kind is DocumentKind.JOURNAL_ENTRY]
    for journal in journals:
        assert is_balanced(journal), journal
        assert any(not line.debit for line in journal.lines)


@PROPERTY_SETTINGS
@given(items=expenses(), export_settings=export_settings())
def test_every_expense_lands_in_exactly_one_document_or_is_skipped_with_its_reason(
    items: list[Expense], export_settings: ExportSettings
) -> None:
    documents = _documents(items, export_settings)
    landed: dict[str, set[str]] = defaultdict(set)
    for document in documents:
        for line in document.lines:
            for source in line.source_ids:
                landed[source].add(document.reference)
    skipped = {entry.expense_id: entry.reason for entry in plan_groups(items, export_settings).skipped}
    for item in items:
        in_documents = landed.get(item.id, set())
        assert (len(in_documents) == 1) != (item.id in skipped), item.id
        if item.id in skipped:
            assert skipped[item.id].strip()


@PROPERTY_SETTINGS
@given(items=expenses(), export_settings=export_settings())
def test_a_build_with_no_mappings_names_every_required_mapping_of_the_group_at_once(
    items: list[Expense], export_settings: ExportSettings
) -> None:
    for group, members in grouped(items, export_settings):
        required = {
            (need.source_type, need.source_value)
            for member in members
            for need in needs(member, export_settings, group.kind, INTACCT)
            if need.required
        }
        with pytest.raises(MissingMappingsError) as caught:
            build_document(
                kind=group.kind,
                expenses=members,
                settings=export_settings,
                mappings=MappingTable.of([]),
                reference="ref",
                export_day=EXPORT_DAY,
                vocabulary=INTACCT,
            )
        assert set(caught.value.missing) == required
        assert all(fund_of(member) is group.fund for member in members)


@PROPERTY_SETTINGS
@given(items=expenses(), export_settings=export_settings(), seed=st.randoms())
def test_grouping_does_not_depend_on_the_order_expenses_arrive_in(
    items: list[Expense], export_settings: ExportSettings, seed: Any
) -> None:
    shuffled = list(items)
    seed.shuffle(shuffled)
    assert plan_groups(shuffled, export_settings).groups == plan_groups(items, export_settings).groups


@settings(max_examples=300)
@given(st.lists(st.decimals(min_value=Decimal("-9999.999"), max_value=Decimal("9999.999"), places=3), max_size=40))
def test_allocating_cents_keeps_the_rounded_total_and_moves_no_amount_by_a_cent_or_more(amounts: list[Decimal]) -> None:
    allocated = allocate_cents(amounts)
    assert sum(allocated, Decimal(0)) == to_cents(sum(amounts, Decimal(0)))
    for original, rounded in zip(amounts, allocated, strict=True):
        assert rounded == rounded.quantize(CENTS)
        assert abs(rounded - original) < CENTS
