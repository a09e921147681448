"""The chaos run's table and `results.json`: one row per scenario, the totals, and the verdict."""

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Row:
    scenario: str
    fault: str
    expenses: int = 0
    """Exportable expenses in the source."""
    documents: int = 0
    duplicates: int = 0
    missing: int = 0
    lost_webhooks: int = 0
    books_differences: int | None = None
    """What `ledgerline books check` finds between the source and the destination after recovery (None: not run)."""
    recovery_seconds: float | None = None
    """From the fault's end until everything was done (None: not within the deadline)."""
    resumed_seconds: float | None = None
    """From the fault's end until the next document was exported."""
    seconds: float = 0.0
    """The whole scenario, set-up included."""
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        counted = self.duplicates + self.missing + self.lost_webhooks + (self.books_differences or 0)
        return counted == 0 and not self.problems and self.recovery_seconds is not None


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def print_table(rows: list[Row]) -> None:
    print(
        f"\n{'scenario':32} {'expenses':>8} {'documents':>9} {'duplicates':>10} {'missing':>7} {'lost webhooks':>13} "
        f"{'books diff':>10} {'resumed s':>9} {'recovery s':>10} {'result':>6}"
    )
    for row in rows:
        books = "-" if row.books_differences is None else str(row.books_differences)
        print(
            f"{row.scenario:32} {row.expenses:8d} {row.documents:9d} {row.duplicates:10d} {row.missing:7d} "
            f"{row.lost_webhooks:13d} {books:>10} {_seconds(row.resumed_seconds):>9} "
            f"{_seconds(row.recovery_seconds):>10} {'ok' if row.ok else 'FAIL':>6}"
        )
    totals = total(rows)
    print(
        f"{'total':32} {totals['expenses']:8d} {totals['documents']:9d} {totals['duplicates']:10d} "
        f"{totals['missing']:7d} {totals['lost_webhooks']:13d} {totals['books_differences']:10d} {'':>9} {'':>10} "
        f"{'ok' if passed(rows) else 'FAIL':>6}"
    )
    for row in rows:
        print(f"  {row.scenario}: {row.fault}; {json.dumps(row.details, default=str)}")
        for note in row.notes:
            print(f"    note: {note}")
        for problem in row.problems:
            print(f"    problem: {problem}")


def total(rows: list[Row]) -> dict[str, int]:
    names = ("expenses", "documents", "duplicates", "missing", "lost_webhooks", "books_differences")
    return {name: sum(getattr(row, name) or 0 for row in rows) for name in names}


def passed(rows: list[Row]) -> bool:
    return bool(rows) and all(row.ok for row in rows)


def write_json(rows: list[Row], path: Path, seconds: float) -> None:
    payload = {
        "passed": passed(rows),
        "seconds": round(seconds, 1),
        "totals": total(rows),
        "scenarios": [asdict(row) | {"result": "ok" if row.ok else "FAIL"} for row in rows],
    }
    path.write_text(json.dumps(payload, indent=2, default=str) + "\n")
