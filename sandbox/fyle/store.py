"""The simulated Fyle organisation: its records, the ids it hands out, and a log of what clients wrote."""

import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sandbox.clock import SandboxClock
from sandbox.fyle.collection import Collection, Revision
from sandbox.fyle.constants import ID_ALPHABET, ID_SUFFIX_LENGTH, WRITE_LOG_SIZE
from sandbox.fyle.records import (
    Category,
    CostCenter,
    Department,
    Employee,
    Expense,
    ExpenseField,
    Project,
    Report,
    StoredFile,
)


@dataclass(frozen=True, slots=True)
class WriteEntry:
    """One thing a client changed through the wire API, kept for the control API (`GET /_sandbox/fyle/writes`)."""

    kind: str
    at: datetime
    data: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "at": self.at.isoformat(), "data": self.data}


@dataclass(frozen=True, slots=True)
class ReportEvent:
    """A change to a report that subscribers hear about (the spec's `report_out_subscriptions_admin`)."""

    report_id: str
    action: str
    reason: str


ReportListener = Callable[[ReportEvent], None]


class FyleStore:
    """All records of one organisation. `rng` continues from the seed, so ids of records created later are
    deterministic for the same traffic."""

    def __init__(self, *, clock: SandboxClock, rng: random.Random) -> None:
        self.clock = clock
        self.rng = rng
        self.revision = Revision()
        self.employees: Collection[Employee] = Collection(self.revision)
        self.categories: Collection[Category] = Collection(self.revision)
        self.projects: Collection[Project] = Collection(self.revision)
        self.cost_centers: Collection[CostCenter] = Collection(self.revision)
        self.expense_fields: Collection[ExpenseField] = Collection(self.revision)
        self.reports: Collection[Report] = Collection(self.revision)
        self.expenses: Collection[Expense] = Collection(self.revision)
        self.departments: dict[str, Department] = {}
        self.files: dict[str, StoredFile] = {}
        self.writes: deque[WriteEntry] = deque(maxlen=WRITE_LOG_SIZE)
        self.listener: ReportListener | None = None
        self._issued_ids: set[str] = set()
        self._employees_by_user: dict[str, Employee] = {}
        self._sequences: dict[str, int] = {}

    def now(self) -> datetime:
        return self.clock.now()

    def new_id(self, prefix: str) -> str:
        """A Fyle-looking id (`tx` + 10 characters for an expense, `rp` for a report, `fi` for a file, …)."""
        while True:
            candidate = prefix + "".join(self.rng.choices(ID_ALPHABET, k=ID_SUFFIX_LENGTH))
            if candidate not in self._issued_ids:
                self._issued_ids.add(candidate)
                return candidate

    def next_number(self, series: str) -> int:
        """The next user-visible sequence number of a series (expenses, reports, reimbursements)."""
        self._sequences[series] = self._sequences.get(series, 0) + 1
        return self._sequences[series]

    def record_write(self, kind: str, data: dict[str, Any]) -> None:
        self.writes.append(WriteEntry(kind=kind, at=self.now(), data=data))

    def emit(self, event: ReportEvent) -> None:
        if self.listener is not None:
            self.listener(event)

    def add_employee(self, employee: Employee) -> None:
        self.employees.add(employee)
        self._employees_by_user[employee.user_id] = employee

    def employee_by_user(self, user_id: str) -> Employee | None:
        return self._employees_by_user.get(user_id)

    def counts(self) -> dict[str, int]:
        return {
            "employees": len(self.employees),
            "categories": len(self.categories),
            "projects": len(self.projects),
            "cost_centers": len(self.cost_centers),
            "expense_fields": len(self.expense_fields),
            "reports": len(self.reports),
            "expenses": len(self.expenses),
            "files": len(self.files),
            "writes": len(self.writes),
        }
