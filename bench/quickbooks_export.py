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
import json
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path

from bench.destinations import INTACCT_DESTINATION, QUICKBOOKS_DESTINATION
from bench.e2e_setup import create_database, drop_database
from bench.export_runs import ExportRun, measure_export

GOAL_FACTOR = 1.1
"""Calls creating documents, per exported document, may be at most this many batches' worth: 1.1 / batch_size.
Receipts are counted apart: each document's go in one upload of its own, whose request id is the document's, so that
no receipt is attached twice however often a document is sent or adopted."""
GOAL_SYSTEM = QUICKBOOKS_DESTINATION.system


def goal(row: ExportRun) -> float:
    return GOAL_FACTOR / row.batch_size


def met(row: ExportRun) -> bool:
    return row.document_calls_per_document <= goal(row)


def print_table(rows: list[ExportRun], args: argparse.Namespace) -> None:
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
        verdict = ("yes" if met(row) else "NO") if row.system == GOAL_SYSTEM else "-"
        print(
            f"{figures.name:24} {figures.seconds:8.1f} {figures.expenses:8d} {figures.per_second:8.0f} "
            f"{figures.per_second / base.per_second:8.2f} {figures.documents:6d} {figures.destination_calls:6d} "
            f"{row.receipt_calls:8d} {figures.calls_per_document:10.4f} {row.document_calls_per_document:13.4f} "
            f"{row.batch_size:6d} {1 / row.batch_size:7.4f} {goal(row):7.4f} {verdict:>5}"
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
                measure_export(destination, database_url, args, Path(logs_dir))
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
                "goal": goal(row),
                "met": met(row),
            }
            for row in rows
        ]
        args.json.write_text(json.dumps({"benchmark": "quickbooks_export", "results": payload}, indent=2))
    if not met(rows[-1]):
        sys.exit(1)


if __name__ == "__main__":
    main()
