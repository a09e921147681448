"""QuickBooks Online beside Intacct in one run (issue 19): the same end-to-end measurement (`bench.end_to_end`) of N
approved Fyle expenses pulled, grouped one bill per report, exported and written back by W `ledgerline worker`
processes, once to the Intacct simulator (the baseline of this run) and once to the QuickBooks simulator's main
company, each in a fresh sandbox process and tenant.

Figures: expenses per second for each and QuickBooks' ratio to Intacct; destination calls per exported document for
each (all of them, and those creating documents, receipts apart), beside the floor 1/batch_size of that system's
spec, and QuickBooks' document calls held to the goal ≤ 1.1/batch_size.

    .venv/bin/python -m bench.quickbooks_export [--expenses 5000] [--per-report 5] [--workers 1] [--json out.json]
"""

import argparse
import asyncio
import json
import sys
import tempfile
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from bench.destinations import INTACCT_DESTINATION, QUICKBOOKS_DESTINATION, SandboxDestination
from bench.e2e_setup import create_database, drop_database
from bench.end_to_end import SANDBOX_APP, Figures, measure_product
from bench.sandbox_capacity import served
from connectors.registry import connector_class

GOAL_FACTOR = 1.1
"""Calls creating documents, per exported document, may be at most this many batches' worth: 1.1 / batch_size.
Receipts are counted apart: each document's go in one upload of its own, whose request id is the document's, so that
no receipt is attached twice however often a document is sent or adopted."""
GOAL_SYSTEM = QUICKBOOKS_DESTINATION.system


@dataclass(frozen=True)
class Row:
    system: str
    figures: Figures
    batch_size: int
    receipt_calls: int

    @property
    def document_calls_per_document(self) -> float:
        documents = self.figures.documents
        return (self.figures.destination_calls - self.receipt_calls) / documents if documents else float("nan")

    @property
    def goal(self) -> float:
        return GOAL_FACTOR / self.batch_size

    @property
    def met(self) -> bool:
        return self.document_calls_per_document <= self.goal


def measure(destination: SandboxDestination, database_url: str, args: argparse.Namespace, logs: Path) -> Row:
    with served(SANDBOX_APP) as url:
        try:
            figures = asyncio.run(measure_product(url, database_url, args, args.workers, logs, destination))
        except Exception:
            for log in sorted(logs.iterdir()):
                print(f"--- {log.name}\n{log.read_text()[-3000:]}", file=sys.stderr)
            raise
    name = f"{destination.system}, {args.workers} worker{'s' if args.workers > 1 else ''}"
    receipts = sum(figures.destination_operations.get(operation, 0) for operation in destination.receipt_operations)
    batch_size = connector_class(destination.system).spec.batch_size
    return Row(destination.system, replace(figures, name=name), batch_size, receipts)


def print_table(rows: list[Row], args: argparse.Namespace) -> None:
    base = rows[0].figures
    print(
        f"\n{args.expenses} generated expenses ({args.state}, {args.per_report} per report) + the seed; one bill per "
        f"report; {args.workers} worker(s); ratios against {rows[0].system} in this run"
    )
    print(
        f"{'destination':24} {'seconds':>8} {'expenses':>8} {'exp/s':>8} {'vs base':>8} {'bills':>6} "
        f"{'calls':>6} {'receipts':>8} {'calls/doc':>10} {'doc calls/doc':>13} {'batch':>6} {'floor':>7} "
        f"{'goal':>7} {'met':>5}"
    )
    for row in rows:
        figures = row.figures
        met = ("yes" if row.met else "NO") if row.system == GOAL_SYSTEM else "-"
        print(
            f"{figures.name:24} {figures.seconds:8.1f} {figures.expenses:8d} {figures.per_second:8.0f} "
            f"{figures.per_second / base.per_second:8.2f} {figures.documents:6d} {figures.destination_calls:6d} "
            f"{row.receipt_calls:8d} {figures.calls_per_document:10.4f} {row.document_calls_per_document:13.4f} "
            f"{row.batch_size:6d} {1 / row.batch_size:7.4f} {row.goal:7.4f} {met:>5}"
        )
    for row in rows:
        print(f"\n{row.figures.name}: operations {row.figures.destination_operations}")
        print(f"  phase ends (s from start): {row.figures.phases}")
        print(f"  export items by state: {row.figures.states}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--expenses", type=int, default=5_000, help="expenses generated in Fyle per measurement")
    parser.add_argument("--per-report", type=int, default=5, help="expenses per generated report (one bill each)")
    parser.add_argument("--state", default="APPROVED", help="report state of the generated expenses")
    parser.add_argument("--workers", type=int, default=1, help="worker processes of each measurement")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    args.profile = None  # `measure_product` can profile its workers; not here

    database_url = create_database()
    try:
        with tempfile.TemporaryDirectory(prefix="ledgerline-qbo-") as logs_dir:
            rows = [
                measure(destination, database_url, args, Path(logs_dir))
                for destination in (INTACCT_DESTINATION, QUICKBOOKS_DESTINATION)
            ]
    finally:
        drop_database(database_url)
    print_table(rows, args)
    if args.json:
        payload = [
            asdict(row.figures)
            | {
                "system": row.system,
                "per_second": row.figures.per_second,
                "calls_per_document": row.figures.calls_per_document,
                "receipt_calls": row.receipt_calls,
                "document_calls_per_document": row.document_calls_per_document,
                "batch_size": row.batch_size,
                "goal": row.goal,
                "met": row.met,
            }
            for row in rows
        ]
        args.json.write_text(json.dumps({"benchmark": "quickbooks_export", "results": payload}, indent=2))
    if not rows[-1].met:
        sys.exit(1)


if __name__ == "__main__":
    main()
