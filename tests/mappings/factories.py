"""Expenses, settings and mapping tables for the mappings tests, plus hypothesis strategies for expenses."""

import uuid
from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from core.domain import Expense
from mappings import ExportSettings, MappingTable
from mappings.grouping import plan_groups
from mappings.requirements import fund_of, needs
from tests.vocabularies import INTACCT

NOW = datetime(2026, 5, 4, 9, 30, tzinfo=UTC)
EXPORT_DAY = date(2026, 5, 6)


def expense(**overrides: Any) -> Expense:
    values: dict[str, Any] = {
        "id": f"tx{uuid.uuid4().hex[:8]}",
        "amount": Decimal("42.50"),
        "currency": "USD",
        "spent_on": date(2026, 5, 1),
        "category": "Travel",
        "employee_email": "ada@example.com",
        "is_reimbursable": True,
        "state": "APPROVED",
        "updated_at": NOW,
        "report_id": "rp1",
        "employee_name": "Ada Lovelace",
    }
    values.update(overrides)
    return Expense(**values)


def settings(**overrides: Any) -> ExportSettings:
    return ExportSettings.model_validate(overrides)


def mapped_everything(expenses: Iterable[Expense], export_settings: ExportSettings) -> MappingTable:
    """A table mapping every need of every expense, each to `<type>:<value>`, so builds never miss anything."""
    rows = []
    for item in expenses:
        kind = export_settings.export_type(fund_of(item))
        if kind is None:
            continue
        for need in needs(item, export_settings, kind, INTACCT):
            remote = f"{need.destination_type}:{need.source_value}"
            rows.append((need.source_type, need.source_value, need.destination_type, remote))
    return MappingTable.of(rows)


def grouped(expenses: list[Expense], export_settings: ExportSettings) -> list[tuple[Any, list[Expense]]]:
    """(group, its expenses) for every group the settings make of `expenses`."""
    by_id = {item.id: item for item in expenses}
    plan = plan_groups(expenses, export_settings)
    return [(group, [by_id[expense_id] for expense_id in group.expense_ids]) for group in plan.groups]


CURRENCIES = st.sampled_from(["USD", "EUR", "GBP"])
AMOUNTS = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999.99"), places=2)
ODD_AMOUNTS = st.decimals(min_value=Decimal("0.001"), max_value=Decimal("9999.999"), places=3)
"""Sub-cent amounts, as some sources compute after currency conversion: rounding must not lose a cent."""


@st.composite
def expenses(draw: st.DrawFn, *, amounts: st.SearchStrategy[Decimal] = AMOUNTS) -> list[Expense]:
    count = draw(st.integers(min_value=1, max_value=25))
    made = []
    for index in range(count):
        reimbursable = draw(st.booleans())
        amount = draw(amounts)
        tax = draw(st.one_of(st.none(), st.decimals(min_value=Decimal(0), max_value=amount, places=2)))
        rate = draw(st.one_of(st.none(), st.sampled_from([Decimal("1.25"), Decimal("0.8")])))
        foreign = (
            {}
            if rate is None
            else {
                "foreign_currency": "CHF",
                "exchange_rate": rate,
                "foreign_amount": (amount / rate).quantize(Decimal("0.01")),
            }
        )
        made.append(
            expense(
                id=f"tx{index}",
                amount=amount,
                currency=draw(CURRENCIES),
                spent_on=date(2026, 4, draw(st.integers(min_value=1, max_value=5))),
                category=draw(st.sampled_from(["Travel", "Meals", "Hotel", "Fuel"])),
                employee_email=draw(st.sampled_from(["ada@example.com", "alan@example.com", "grace@example.com"])),
                is_reimbursable=reimbursable,
                state=draw(st.sampled_from(["APPROVED", "PAID", "DRAFT"])),
                report_id=draw(st.one_of(st.none(), st.sampled_from(["rp1", "rp2", "rp3"]))),
                project=draw(st.one_of(st.none(), st.sampled_from(["Apollo", "Gemini"]))),
                tax_group=draw(st.one_of(st.none(), st.just("VAT20"))) if tax is not None else None,
                tax_amount=tax,
                corporate_card_id=None if reimbursable else draw(st.sampled_from(["card-1", "card-2"])),
                merchant=draw(st.one_of(st.none(), st.sampled_from(["Uber", "Hilton"]))),
                file_ids=tuple(draw(st.lists(st.sampled_from(["f1", "f2", "f3"]), max_size=2))),
                **foreign,
            )
        )
    return made


def with_amount(item: Expense, amount: str) -> Expense:
    return replace(item, amount=Decimal(amount))
