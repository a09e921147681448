"""Xero under its 60-calls-a-minute limit, beside Intacct in the same run (issue 21): the end-to-end measurement of
`bench.end_to_end` (N approved Fyle expenses pulled, grouped, exported and written back by W `ledgerline worker`
processes), once to the Intacct simulator (the baseline) and once to the Xero simulator's organisation, each in a
fresh sandbox process and tenant.

Grouping: **one document per expense** — reimbursable expenses as ACCPAY bills, card expenses as SPEND bank
transactions (card credits skipped). One bill per report packs 5,000 expenses into about 1,000 documents, 20 PUTs of
50: twenty seconds of Xero's allowance, too short to say anything about a rate sustained over minutes. One document
per expense is the most calls the export can honestly need (about 100 PUTs of 50, plus receipts), so the run lasts
past the first minute and the limit, not the engine, sets its pace. Intacct exports the same expenses' bills one per
expense (its card transactions need a card account of their own, so its card expenses stay out).

Figures, read from the Xero simulator's own clock of the calls it answered (`bench.timed_sandbox`):
- calls per minute achieved as a share of the 60 allowed, over the export's calls from the first to the last, and
  minute by minute (goal ≥ 0.90);
- 429 answers after the first minute (goal 0); the set-up's calls (its import, paced by no budget) are a minute
  behind when the timed run starts, so Xero's rolling minute holds only the run's own;
- documents per document call (receipts apart) beside the spec's batch size, the ceiling;
- expenses per second against Intacct's in this run: a ratio, never a pass criterion (the limit sets Xero's pace).

    .venv/bin/python -m bench.xero_export [--expenses 5000] [--per-report 1] [--workers 1] [--json out.json]
"""

import argparse
import json
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx

from bench.destinations import INTACCT_DESTINATION, XERO_CARD_ACCOUNT, XERO_DESTINATION, xero_account
from bench.e2e_setup import create_database, drop_database
from bench.end_to_end import Figures
from bench.export_runs import ExportRun, measure_export
from bench.timed_sandbox import TIMED_PATH
from connectors.registry import connector_class
from mappings.settings import ExportSettings

TIMED_APP = "bench.timed_sandbox:app"
MINUTE = 60.0
RATE_GOAL = 0.90
"""Calls per minute achieved, as a share of the allowance, at least this."""
TOO_MANY_REQUESTS = 429
CARD_CREDITS = {"name": "card credits", "conditions": [{"field": "amount", "operator": "less_than", "value": "0"}]}
"""A card credit (a refund) totals below zero: nothing a spend-money transaction can post, so it is kept out."""
BILLS: dict[str, Any] = {
    "reimbursable": {"export_type": "bill", "grouping": {"by": "expense"}, "date": "spent"},
    "employee_as": "vendor",
}
PER_EXPENSE_BILLS = ExportSettings.model_validate(BILLS)


def per_expense_both(url: str) -> ExportSettings:
    """Bills and spend money one per expense, card expenses paid from the organisation's credit card."""
    card = {"export_type": "charge_card_transaction", "grouping": {"by": "expense"}, "date": "spent"}
    defaults = {"charge_card_account": xero_account(url, XERO_CARD_ACCOUNT)}
    return ExportSettings.model_validate(BILLS | {"card": card, "defaults": defaults, "skip_rules": [CARD_CREDITS]})


@dataclass(frozen=True)
class Pace:
    """How a rate-limited system's calls of one run spread over time."""

    calls: int
    seconds: float
    """From the run's first call to its last."""
    per_minute: list[int]
    """Calls answered (429s apart) in each complete minute from the first call."""
    tail: int
    """Calls answered in the incomplete minute that ends the run."""
    rejected: int
    rejected_after_first_minute: int
    allowance: int
    """Calls a minute the system allows."""

    @property
    def achieved(self) -> float:
        """Answered calls per minute from the first call to the last, as a share of the allowance."""
        answered = self.calls - self.rejected
        return answered / (self.allowance * self.seconds / MINUTE) if self.seconds else float("nan")

    @property
    def met(self) -> bool:
        return self.achieved >= RATE_GOAL and self.rejected_after_first_minute == 0

    @classmethod
    def of(cls, calls: list[dict[str, Any]], allowance: int) -> "Pace":
        start = calls[0]["at"] if calls else 0.0
        moments = [(call["at"] - start, call["status"]) for call in calls]
        seconds = moments[-1][0] if moments else 0.0
        answered = [at for at, status in moments if status != TOO_MANY_REQUESTS]
        minutes = int(seconds // MINUTE)
        per_minute = [sum(1 for at in answered if n * MINUTE <= at < (n + 1) * MINUTE) for n in range(minutes)]
        return cls(
            calls=len(moments),
            seconds=seconds,
            per_minute=per_minute,
            tail=len(answered) - sum(per_minute),
            rejected=sum(1 for _, status in moments if status == TOO_MANY_REQUESTS),
            rejected_after_first_minute=sum(
                1 for at, status in moments if status == TOO_MANY_REQUESTS and at >= MINUTE
            ),
            allowance=allowance,
        )


def observe_pace(url: str, figures: Figures) -> dict[str, Any]:
    """The run's Xero calls (the last `destination_calls` the simulator answered) as a `Pace`."""
    answer = httpx.get(
        f"{url}{TIMED_PATH}", params={"system": XERO_DESTINATION.system, "last": figures.destination_calls}, timeout=60
    )
    answer.raise_for_status()
    allowance = connector_class(XERO_DESTINATION.system).spec.rate_limit.per_minute
    assert allowance is not None, "Xero's spec states its calls a minute"
    return {"pace": asdict(Pace.of(answer.json(), allowance))}


def pace_of(run: ExportRun) -> Pace:
    return Pace(**run.observed["pace"])


def print_table(base: ExportRun, xero: ExportRun, args: argparse.Namespace) -> None:
    pace = pace_of(xero)
    print(
        f"\n{args.expenses} generated expenses ({args.state}, {args.per_report} per report) + the seed; one document "
        f"per expense; {args.workers} worker(s); ratios against {base.system} in this run"
    )
    print(
        f"{'destination':24} {'seconds':>8} {'expenses':>8} {'exp/s':>8} {'vs base':>8} {'docs':>6} {'calls':>6} "
        f"{'receipts':>8} {'docs/call':>9} {'batch':>6}"
    )
    for row in (base, xero):
        figures = row.figures
        print(
            f"{figures.name:24} {figures.seconds:8.1f} {figures.expenses:8d} {figures.per_second:8.1f} "
            f"{figures.per_second / base.figures.per_second:8.3f} {figures.documents:6d} "
            f"{figures.destination_calls:6d} {row.receipt_calls:8d} {row.documents_per_call:9.2f} {row.batch_size:6d}"
        )
    minutes = " ".join(map(str, pace.per_minute)) + f" +{pace.tail}"
    print(
        f"\nXero calls: {pace.calls} over {pace.seconds:.0f} s (first to last); answered per complete minute: "
        f"{minutes}; achieved {pace.achieved:.1%} of {pace.allowance}/min (goal ≥ {RATE_GOAL:.0%}); 429s "
        f"{pace.rejected}, after the first minute {pace.rejected_after_first_minute} (goal 0): "
        f"{'met' if pace.met else 'MISSED'}"
    )
    for row in (base, xero):
        print(f"\n{row.figures.name}: operations {row.figures.destination_operations}")
        print(f"  phase ends (s from start): {row.figures.phases}")
        print(f"  export items by state: {row.figures.states}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--expenses", type=int, default=5_000, help="expenses generated in Fyle per measurement")
    parser.add_argument("--per-report", type=int, default=1, help="expenses per generated report")
    parser.add_argument("--state", default="APPROVED", help="report state of the generated expenses")
    parser.add_argument("--workers", type=int, default=1, help="worker processes of each measurement")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    args.profile = None  # `measure_product` can profile its workers; not here

    database_url = create_database()
    try:
        with tempfile.TemporaryDirectory(prefix="ledgerline-xero-") as logs_dir:
            logs = Path(logs_dir)
            base = measure_export(INTACCT_DESTINATION, database_url, args, logs, export=PER_EXPENSE_BILLS)
            xero = measure_export(
                XERO_DESTINATION,
                database_url,
                args,
                logs,
                app=TIMED_APP,
                export=per_expense_both,
                observe=observe_pace,
                quiet_seconds=MINUTE,
            )
    finally:
        drop_database(database_url)
    print_table(base, xero, args)
    pace = pace_of(xero)
    if args.json:
        payload = [
            asdict(row.figures)
            | {
                "system": row.system,
                "per_second": row.figures.per_second,
                "ratio_to_base": row.figures.per_second / base.figures.per_second,
                "receipt_calls": row.receipt_calls,
                "documents_per_call": row.documents_per_call,
                "batch_size": row.batch_size,
            }
            for row in (base, xero)
        ]
        pace_figures = asdict(pace) | {"achieved": pace.achieved, "goal": RATE_GOAL, "met": pace.met}
        args.json.write_text(
            json.dumps({"benchmark": "xero_export", "results": payload, "pace": pace_figures}, indent=2, default=str)
        )
    if not pace.met:
        sys.exit(1)


if __name__ == "__main__":
    main()
