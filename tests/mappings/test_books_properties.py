"""The books agree with the source, for any expenses (issue 17, "must be shown"): currencies with and without minor
units, foreign spend with its rate, sub-cent amounts, refunds, card and reimbursable mixes, several entities.

For every group the settings make, the build either gives a document or refuses with a reason a person can act
on; and every document built
- has lines that add up, per currency, to its expenses (to the currency's unit: cents, whole yen);
- carries, when it is in another currency than booked, base amounts that add up to what the source booked;
- balances, when it is a journal entry, in its currency and in the base currency;
- names each of its expenses on exactly one line (a journal: one line and its counter-entry);
- is posted in the one entity its expenses' cost center is mapped to.
"""

from collections import Counter
from datetime import date
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.currencies import minor_unit
from core.domain import Document, DocumentKind, DocumentLine, Expense
from core.errors import MappingError, ValidationError
from mappings import ExportSettings, MappingTable, build_document, plan_groups
from mappings.amounts import to_unit
from mappings.requirements import fund_of, needs
from mappings.terms import document_currency, source_amount
from mappings.totals import gross_total, is_balanced
from tests.mappings.factories import EXPORT_DAY, expense, grouped
from tests.mappings.test_properties import DEFAULTS
from tests.vocabularies import INTACCT

ENTITY_OF = {"Boston": "E100", "London": "E200"}
"""Paris is left unmapped: its documents wait for an entity mapping."""
BOOKED = st.sampled_from(["USD", "EUR", "JPY"])
SPENT_IN = st.sampled_from(["EUR", "GBP", "JPY", "CHF"])


@st.composite
def ledger_expenses(draw: st.DrawFn) -> list[Expense]:
    """Up to 30 expenses of one org (one booked currency), some spent abroad, some refunds, some without a center."""
    booked = draw(BOOKED)
    made = []
    for index in range(draw(st.integers(min_value=1, max_value=30))):
        amount = draw(st.decimals(min_value=Decimal("0.001"), max_value=Decimal("25000"), places=3))
        if draw(st.integers(min_value=0, max_value=5)) == 0:
            amount = -amount  # a refund
        foreign: dict[str, Any] = {}
        if draw(st.booleans()):
            spent_in = draw(SPENT_IN)
            rate = draw(st.decimals(min_value=Decimal("0.004"), max_value=Decimal("180"), places=6))
            foreign = {"foreign_currency": spent_in, "exchange_rate": rate, "foreign_amount": (amount / rate)}
        reimbursable = draw(st.booleans())
        made.append(
            expense(
                id=f"tx{index}",
                amount=amount,
                currency=booked,
                spent_on=date(2026, 4, draw(st.integers(min_value=1, max_value=3))),
                category=draw(st.sampled_from(["Travel", "Meals", "Hotel"])),
                employee_email=draw(st.sampled_from(["ada@example.com", "alan@example.com"])),
                is_reimbursable=reimbursable,
                report_id=draw(st.one_of(st.none(), st.sampled_from(["rp1", "rp2"]))),
                cost_center=draw(st.one_of(st.none(), st.sampled_from(["Boston", "London", "Paris"]))),
                corporate_card_id=None if reimbursable else draw(st.sampled_from(["card-1", "card-2"])),
                **foreign,
            )
        )
    return made


@st.composite
def routed_settings(draw: st.DrawFn) -> ExportSettings:
    reimbursable = draw(st.sampled_from(["expense_report", "bill", "journal_entry"]))
    employee_as = {"expense_report": "employee", "bill": "vendor"}.get(reimbursable, "vendor")
    card = draw(st.sampled_from(["charge_card_transaction", "bill", "journal_entry"]))
    return ExportSettings.model_validate(
        {
            "reimbursable": {
                "export_type": reimbursable,
                "grouping": {"by": draw(st.sampled_from(["report", "expense"]))},
            },
            "card": {
                "export_type": card,
                "grouping": {"by": "expense" if card == "charge_card_transaction" else "report"},
            },
            "employee_as": employee_as,
            "currency": draw(st.sampled_from(["booked", "original"])),
            "entity": {"source": "cost_center"} if draw(st.booleans()) else None,
            "defaults": DEFAULTS,
        }
    )


def mappings_for(items: list[Expense], export_settings: ExportSettings) -> MappingTable:
    """Every need mapped, entities as `ENTITY_OF` says (Paris stays unmapped)."""
    rows = set()
    for item in items:
        kind = export_settings.export_type(fund_of(item))
        for need in needs(item, export_settings, kind, INTACCT) if kind is not None else ():
            if need.destination_type == "entity":
                if need.source_value in ENTITY_OF:
                    rows.add((need.source_type, need.source_value, "entity", ENTITY_OF[need.source_value]))
            else:
                rows.add((need.source_type, need.source_value, need.destination_type, f"id:{need.source_value}"))
    return MappingTable.of(rows)


def in_unit(value: Decimal, currency: str) -> Decimal:
    return to_unit(value, minor_unit(currency))


def _signed(line: DocumentLine, amount: Decimal | None) -> Decimal:
    return (amount or Decimal(0)) if line.debit else -(amount or Decimal(0))


def check_document(document: Document, members: list[Expense], export_settings: ExportSettings) -> None:
    currency, booked_in = document.currency, document.base_currency
    exact = sum((source_amount(member, export_settings) for member in members), Decimal(0))
    booked = sum((member.amount for member in members), Decimal(0))
    assert all(line.amount == in_unit(line.amount, currency) for line in document.lines)
    # A journal posts each expense on its account and the counter-entry on a credit account: the expense lines
    # carry the amounts (a refund as a credit), the counter-entries mirror them.
    expense_lines = list(document.lines)
    if document.kind is DocumentKind.JOURNAL_ENTRY:
        assert is_balanced(document)
        expense_lines = _journal_expense_lines(document, members)
        total = sum((_signed(line, line.amount) for line in expense_lines), Decimal(0))
    else:
        total = gross_total(document)
    assert total == in_unit(exact, currency), (total, exact, currency)
    if document.is_foreign:
        assert booked_in is not None
        bases = [line.base_amount for line in document.lines]
        assert all(base is not None and base == in_unit(base, booked_in) for base in bases)
        base_total = sum((_signed(line, line.base_amount) for line in expense_lines), Decimal(0))
        assert base_total == in_unit(booked, booked_in), "the base amounts are not what the source booked"
        if document.kind is DocumentKind.JOURNAL_ENTRY:
            assert sum((_signed(line, line.base_amount) for line in document.lines), Decimal(0)) == 0, (
                "the journal does not balance in the base currency"
            )
    names = Counter(source for line in document.lines for source in line.source_ids)
    per_expense = 2 if document.kind is DocumentKind.JOURNAL_ENTRY else 1
    assert names == Counter({member.id: per_expense for member in members}), names
    if export_settings.entity is not None:
        assert {member.cost_center for member in members} == {members[0].cost_center}
        assert document.entity == ENTITY_OF[members[0].cost_center or ""]
    else:
        assert document.entity is None


def _journal_expense_lines(document: Document, members: list[Expense]) -> list[DocumentLine]:
    """Per expense, the first of its two lines: the builder writes the expense line, then its counter-entry."""
    first: dict[str, DocumentLine] = {}
    for line in document.lines:
        [source] = line.source_ids
        first.setdefault(source, line)
    assert set(first) == {member.id for member in members}
    return list(first.values())


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(items=ledger_expenses(), export_settings=routed_settings())
def test_every_document_agrees_with_its_expenses_in_both_currencies_and_one_entity(
    items: list[Expense], export_settings: ExportSettings
) -> None:
    table = mappings_for(items, export_settings)
    accounted: dict[str, str] = {entry.expense_id: "skipped" for entry in plan_groups(items, export_settings).skipped}
    for index, (group, members) in enumerate(grouped(items, export_settings)):
        try:
            document = build_document(
                kind=group.kind,
                expenses=members,
                settings=export_settings,
                mappings=table,
                reference=f"ref-{index}",
                export_day=EXPORT_DAY,
                vocabulary=INTACCT,
            )
        except MappingError as refused:  # no entity for it: named, so a person can map it or fill it in
            assert export_settings.entity is not None
            centers = {member.cost_center for member in members}
            assert centers in ({None}, {"Paris"}), centers
            assert all(member.id in refused.message for member in members) or "Paris" in refused.message
            outcome = "waits for an entity"
        except ValidationError as refused:  # a refund larger than the rest: nothing to post
            assert group.kind is not DocumentKind.JOURNAL_ENTRY
            assert "nothing to post" in refused.message
            total = sum((source_amount(member, export_settings) for member in members), Decimal(0))
            assert in_unit(total, document_currency(members[0], export_settings)[0]) <= 0
            outcome = "refused"
        else:
            check_document(document, members, export_settings)
            outcome = document.reference
        for member in members:
            assert member.id not in accounted, f"{member.id} is in two groups"
            accounted[member.id] = outcome
    assert set(accounted) == {item.id for item in items}, "an expense was lost"


def test_a_journal_line_that_rounds_to_nothing_still_posts_its_base_amount_on_the_right_side() -> None:
    """Found by the property above: a refund of 0.006 USD spent as a fraction of a yen is 0 JPY but -0.01 USD."""
    refund = expense(
        amount=Decimal("-0.006"),
        foreign_currency="JPY",
        exchange_rate=Decimal(180),
        foreign_amount=Decimal("-0.0000333"),
    )
    journals = ExportSettings.model_validate(
        {
            "reimbursable": {"export_type": "journal_entry"},
            "employee_as": "vendor",
            "currency": "original",
            "defaults": DEFAULTS,
        }
    )
    document = build_document(
        kind=DocumentKind.JOURNAL_ENTRY,
        expenses=[refund],
        settings=journals,
        mappings=mappings_for([refund], journals),
        reference="ref",
        export_day=EXPORT_DAY,
        vocabulary=INTACCT,
    )
    check_document(document, [refund], journals)
    [posted, counter] = document.lines
    assert (posted.amount, posted.base_amount, posted.debit, counter.debit) == (0, Decimal("0.01"), False, True)
