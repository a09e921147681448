"""Document builders: documents built per second for 10,000 expenses, beside a baseline from the same run.

Each scenario groups the expenses by the settings and builds every document (resolving mappings, rounding,
memos, dimensions, tax). The baseline groups the same expenses the same way and only sums their amounts into
plain dicts, so the ratio is what building a real document costs over the least work that touches every expense.
Times are the best of `--repeat` runs, in one process, after a warm-up.

    .venv/bin/python -m bench.builders [--expenses 10000] [--repeat 5] [--json out.json]
"""

import argparse
import json
import random
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from connectors.registry import destination_vocabulary
from core.domain import Expense
from mappings import ExportSettings, MappingTable, build_document, plan_groups
from mappings.requirements import fund_of, needs

SEED = 20260504
EXPENSES_PER_REPORT = 20
EMPLOYEES = 200
CATEGORIES = ("Travel", "Meals", "Hotel", "Fuel", "Parking", "Software", "Office", "Training")
PROJECTS = ("Apollo", "Gemini", "Mercury", None)
EXPORT_DAY = date(2026, 5, 6)

SCENARIOS: dict[str, ExportSettings] = {
    "expense report, per report": ExportSettings.model_validate(
        {
            "reimbursable": {"date": "last_spent"},
            "tax": True,
            "dimensions": [{"source": "project", "destination": "project"}],
        }
    ),
    "bill, per expense": ExportSettings.model_validate(
        {
            "reimbursable": {"export_type": "bill", "grouping": {"by": "expense"}},
            "employee_as": "vendor",
            "tax": True,
            "dimensions": [{"source": "project", "destination": "project"}],
        }
    ),
    "journal entry, per report": ExportSettings.model_validate(
        {
            "reimbursable": {"export_type": "journal_entry", "date": "last_spent"},
            "defaults": {"journal_credit_account": "2000", "dimensions": {"location": "HQ"}},
            "dimensions": [{"source": "project", "destination": "project"}],
        }
    ),
}


def make_expenses(count: int) -> list[Expense]:
    rng = random.Random(SEED)
    moment = datetime(2026, 4, 30, tzinfo=UTC)
    made = []
    for index in range(count):
        employee = index // EXPENSES_PER_REPORT % EMPLOYEES
        amount = Decimal(rng.randint(100, 500_000)) / 100
        taxed = rng.random() < 0.3
        made.append(
            Expense(
                id=f"tx{index:06d}",
                amount=amount,
                currency="USD",
                spent_on=date(2026, 4, 1) + timedelta(days=rng.randint(0, 27)),
                category=rng.choice(CATEGORIES),
                employee_email=f"employee{employee}@example.com",
                employee_name=f"Employee {employee}",
                is_reimbursable=True,
                state="APPROVED",
                updated_at=moment,
                report_id=f"rp{index // EXPENSES_PER_REPORT:05d}",
                project=rng.choice(PROJECTS),
                purpose="Customer visit",
                merchant="Merchant",
                tax_group="VAT20" if taxed else None,
                tax_amount=(amount / 6).quantize(Decimal("0.01")) if taxed else None,
                file_ids=(f"file{index}",),
            )
        )
    return made


INTACCT = destination_vocabulary("intacct")
"""The benchmark builds Sage Intacct documents."""


def mapping_table(expenses: list[Expense], settings: ExportSettings) -> MappingTable:
    rows = set()
    for expense in expenses:
        kind = settings.export_type(fund_of(expense))
        assert kind is not None
        for need in needs(expense, settings, kind, INTACCT):
            rows.add((need.source_type, need.source_value, need.destination_type, f"R-{need.source_value}"))
    return MappingTable.of(rows)


def build_all(expenses: list[Expense], settings: ExportSettings, table: MappingTable) -> int:
    by_id = {expense.id: expense for expense in expenses}
    plan = plan_groups(expenses, settings)
    for index, group in enumerate(plan.groups):
        build_document(
            kind=group.kind,
            expenses=[by_id[expense_id] for expense_id in group.expense_ids],
            settings=settings,
            mappings=table,
            reference=f"ll-{index}",
            export_day=EXPORT_DAY,
            vocabulary=INTACCT,
        )
    return len(plan.groups)


def baseline(expenses: list[Expense], per_report: bool) -> int:
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for expense in expenses:
        totals[(expense.report_id or expense.id) if per_report else expense.id] += expense.amount
    return len(totals)


def best_of(repeat: int, work: Callable[[], int]) -> tuple[float, int]:
    work()
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        documents = work()
        timings.append(time.perf_counter() - started)
    return min(timings), documents


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--expenses", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()

    expenses = make_expenses(args.expenses)
    rows = []
    print(f"{len(expenses)} expenses, best of {args.repeat}")
    header = f"{'scenario':28} {'documents':>9} {'seconds':>8} {'docs/s':>9} {'expenses/s':>11}"
    print(f"{header} {'baseline docs/s':>16} {'ratio':>7}")
    for name, settings in SCENARIOS.items():
        table = mapping_table(expenses, settings)
        seconds, documents = best_of(args.repeat, lambda s=settings, t=table: build_all(expenses, s, t))
        per_report = settings.reimbursable is not None and settings.reimbursable.grouping.by == "report"
        base_seconds, base_documents = best_of(args.repeat, lambda p=per_report: baseline(expenses, p))
        assert base_documents == documents, "the baseline must make the same groups"
        per_second, base_per_second = documents / seconds, base_documents / base_seconds
        print(
            f"{name:28} {documents:9d} {seconds:8.3f} {per_second:9.0f} {len(expenses) / seconds:11.0f} "
            f"{base_per_second:16.0f} {base_per_second / per_second:6.1f}x"
        )
        rows.append(
            {
                "scenario": name,
                "documents": documents,
                "seconds": round(seconds, 4),
                "documents_per_second": round(per_second, 1),
                "expenses_per_second": round(len(expenses) / seconds, 1),
                "baseline_documents_per_second": round(base_per_second, 1),
                "baseline_ratio": round(base_per_second / per_second, 2),
            }
        )
    if args.json:
        args.json.write_text(
            json.dumps({"benchmark": "builders", "expenses": len(expenses), "results": rows}, indent=2)
        )


if __name__ == "__main__":
    main()
