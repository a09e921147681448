"""Seeded schedules of combined faults for the exactly-once test (`test_exactly_once_schedules.py`).

A schedule is drawn from one seed (`make_plan`): a few reports of one to three expenses (plus loose draft
expenses), an initial grouping, and a dozen steps mixing export batches with everything that can go wrong around
them — commit-then-fail writes (then an error or a hang), failing and rate-limited lookups and reads, worker kills at
a random await point, leases that expire under a slow destination while a second worker claims the items,
settings saves that regroup, expenses added to, moved between and removed from reports, replays, skips, closed
periods and missing mappings. `ScheduleRun` plays it against the real engine, PostgreSQL, Redis (the rate budget)
and the Intacct simulator over loopback HTTP, lets the system settle (faults cleared, time passed, leases of dead
workers returned, everything retryable replayed) and then reads the simulator's bills to check the promise:
every exportable expense in exactly one bill, no expense in two, no reference twice.

Nothing is mocked. Time passes by moving `next_attempt_at` / `lease_expires_at` in the database and by clearing the
budget's deferral in Redis, as the reconciler and the clock would. Replaying a seed replays the same steps and the
same fault draws (the simulator's fault book is reseeded with it); only thread timing can differ.
"""

import asyncio
import random
import time
import uuid
from collections.abc import Coroutine, Generator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, Generic, TypeVar

import httpx
from redis.asyncio import Redis
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from connectors.base import DestinationConnector
from connectors.factory import open_connector
from core.crypto import CredentialVault
from core.db import Database
from core.domain import Expense
from core.models import Connection, DestinationAttribute, ExportItem, ExportItemRecord, ExportState, SourceRecord
from core.repository import TenantRepository
from core.settings import Settings
from mappings import expense_to_json
from mappings.mapping_store import MappingChange, set_mappings
from mappings.regrouping import SUPERSEDED_REASON, regroup
from mappings.settings import ExportSettings
from mappings.settings_store import save_settings
from sandbox.constants import DEFAULT_SEED
from sync.constants import BUDGET_KEY
from sync.export_again import export_again
from sync.export_engine import BatchReport, ConnectionGuards, ExportEngine
from sync.grouping_run import regroup_tenant
from sync.rate_budget import RateBudget
from sync.reconciler import return_expired_leases
from sync.replay import replay_item, skip_item
from tests.mappings.factories import expense as make_expense
from tests.mappings.seed import expenses as store_expenses
from tests.mappings.seed import rewrite
from tests.sandbox_fixtures import RunningSandbox
from tests.sync.bill_books import add_bill_tenant
from tests.sync.conftest import sandbox_settings
from tests.vocabularies import INTACCT

T = TypeVar("T")

READ_TIMEOUT_SECONDS = 0.2
"""The connector's read timeout in these schedules: a `hang` costs this much, and a write that hangs is unknown."""
SLOW_LATENCY_MS = 120
"""A slow destination: long enough for a second worker to claim, look up and send while the first one waits."""
SETTLE_ROUNDS = 8
LIMITS = (1, 2, 50)
"""Claim limits of a batch: one item, two, or all of them."""
KILL_POINTS = 80
"""A batch that sends suspends some 70 times (one that finds nothing due, some 10): a kill lands on one of these."""
ROUNDS = (2, 4)
CLOSED_FROM = "2025-01-01"
"""The bills are dated March 2024: opening the books only from 2025 closes their period."""
OPEN_FROM = "2000-01-01"
BUDGET = ("pace", "day", "slots", "defer", "quota")
"""The parts of a connection's rate budget in Redis (`sync.rate_budget`): all go when time passes in a schedule."""
MAPPED, UNMAPPED = "Travel", "Meals"
ACCOUNTS = ("70004", "70060")
"""Travel's GL account: the first (as `add_bill_tenant` maps it), or the other after a remap."""
"""Travel is mapped to an account from the start; Meals is not (its items need a mapping first)."""


def _settings(grouping: dict[str, Any]) -> ExportSettings:
    return ExportSettings.model_validate(
        {
            "reimbursable": {"export_type": "bill", "grouping": grouping, "date": "last_spent"},
            "employee_as": "vendor",
            "memo": {"line": "{expense_id}"},  # each bill line names its expense: the check reads it back
        }
    )


GROUPINGS: dict[str, ExportSettings] = {
    "by report": _settings({"by": "report"}),
    "by expense": _settings({"by": "expense"}),
    "by report and day": _settings({"by": "report", "fields": ["spent_on"]}),
}


# ---------------------------------------------------------------------------------------------------------- steps
@dataclass(frozen=True)
class RunBatch:
    owner: str
    limit: int
    """How many items the batch may claim (all of a schedule's items fit in one Intacct request)."""

    def __str__(self) -> str:
        return f"batch by {self.owner} (up to {self.limit})"


@dataclass(frozen=True)
class ArmFault:
    operation: str
    mode: str
    status: int = 503
    then: str = "error"
    times: int | None = 1
    probability: float = 1.0

    def spec(self) -> dict[str, Any]:
        spec: dict[str, Any] = {
            "system": "intacct",
            "operation": self.operation,
            "mode": self.mode,
            "probability": self.probability,
            "status": self.status,
            "then": self.then,
            "retry_after": 60,  # longer than the budget waits: the budget defers the connection
        }
        if self.times is not None:
            spec["times"] = self.times
        if self.mode == "latency":
            spec["latency_ms"] = SLOW_LATENCY_MS
        return spec

    def __str__(self) -> str:
        detail = {"commit_then_fail": f" then {self.then} {self.status}", "error": f" {self.status}"}.get(self.mode, "")
        often = f"{self.times}x" if self.times is not None else "until cleared"
        chance = "" if self.probability == 1.0 else f" p={self.probability}"
        return f"fault {self.mode}{detail} on {self.operation} ({often}{chance})"


@dataclass(frozen=True)
class ClearFaults:
    def __str__(self) -> str:
        return "clear faults"


@dataclass(frozen=True)
class KillBatch:
    owner: str
    limit: int
    at: int
    """The await point (suspension number) at which the worker dies."""

    def __str__(self) -> str:
        return f"batch by {self.owner} (up to {self.limit}) killed at await #{self.at}"


@dataclass(frozen=True)
class SlowLeaseExpiry:
    operation: str
    delay_ms: int
    """When, after the first job started, its lease runs out and a second job claims."""
    same_process: bool
    """Both jobs run in one worker process (one worker id), as Intacct's two export chains per connection do."""

    @property
    def second(self) -> str:
        return "p1" if self.same_process else "p2"

    def __str__(self) -> str:
        return (
            f"slow destination ({SLOW_LATENCY_MS} ms on {self.operation}): a job of p1 starts, its lease expires "
            f"after {self.delay_ms} ms, a job of {self.second} claims and runs meanwhile"
        )


@dataclass(frozen=True)
class ExpireLeases:
    def __str__(self) -> str:
        return "leases of running items expire; the reconciler returns them"


@dataclass(frozen=True)
class TimePasses:
    def __str__(self) -> str:
        return "time passes: backoffs and the budget's deferral run out"


@dataclass(frozen=True)
class SaveSettings:
    grouping: str

    def __str__(self) -> str:
        return f"settings saved: group {self.grouping} (regroups)"


@dataclass(frozen=True)
class ChangeReport:
    expense: str
    report: str | None
    """The report it is now approved in; None: taken out of its report (back to draft)."""

    def __str__(self) -> str:
        where = f"now approved in {self.report}" if self.report else "removed from its report (draft)"
        return f"expense {self.expense} {where}; the pull regroups"


@dataclass(frozen=True)
class Replay:
    pick: int

    def __str__(self) -> str:
        return f"support replays needs-action item #{self.pick}"


@dataclass(frozen=True)
class Skip:
    pick: int

    def __str__(self) -> str:
        return f"support skips needs-action item #{self.pick}"


@dataclass(frozen=True)
class ExportAgain:
    pick: int

    def __str__(self) -> str:
        return (
            f"support exports needs-action item #{self.pick} again as a new document if Intacct has no bill under "
            "its reference (else replays it, as the confirmation page tells them)"
        )


@dataclass(frozen=True)
class Periods:
    closed: bool

    def __str__(self) -> str:
        return "Intacct period of the bills closed" if self.closed else "Intacct periods reopened"


@dataclass(frozen=True)
class RemapTravel:
    account: str
    """The GL account Travel now posts to: the items whose first send is unsettled must still resend the old one."""

    def __str__(self) -> str:
        return f"admin maps {MAPPED} to account {self.account}"


@dataclass(frozen=True)
class MidFlight:
    operation: str
    delay_ms: int
    change: "SaveSettings | ChangeReport | RemapTravel"

    def __str__(self) -> str:
        slow = f"slow destination ({SLOW_LATENCY_MS} ms on {self.operation})"
        return f"{slow}; {self.delay_ms} ms into a batch by p1: {self.change}"


@dataclass(frozen=True)
class MapMeals:
    def __str__(self) -> str:
        return f"admin maps {UNMAPPED} (releases the items waiting on it)"


Step = (
    RunBatch
    | ArmFault
    | ClearFaults
    | KillBatch
    | SlowLeaseExpiry
    | ExpireLeases
    | TimePasses
    | SaveSettings
    | ChangeReport
    | Replay
    | Skip
    | ExportAgain
    | Periods
    | RemapTravel
    | MidFlight
    | MapMeals
)


@dataclass(frozen=True)
class PlannedExpense:
    id: str
    report: str | None
    category: str
    amount: Decimal
    spent_on: date


@dataclass(frozen=True)
class Plan:
    seed: int
    expenses: tuple[PlannedExpense, ...]
    reports: tuple[str, ...]
    grouping: str
    steps: tuple[Step, ...]

    def describe(self) -> str:
        people = ", ".join(
            f"{planned.id}({planned.report or 'draft'}, {planned.category}, {planned.amount})"
            for planned in self.expenses
        )
        steps = "\n".join(f"  {number:2}. {step}" for number, step in enumerate(self.steps, 1))
        return f"seed {self.seed}: {self.grouping}; expenses {people}\n{steps}"


_WRITE_FAULTS: list[tuple[str, int, str]] = [
    ("commit_then_fail", 503, "error"),
    ("commit_then_fail", 502, "error"),
    ("commit_then_fail", 500, "error"),
    ("commit_then_fail", 503, "hang"),
    ("error", 503, "error"),
    ("reset", 503, "error"),
    ("malformed", 503, "error"),
    ("rate_limit", 429, "error"),
    ("hang", 503, "error"),
]
_READ_FAULTS: list[tuple[str, int, str]] = [
    ("error", 503, "error"),
    ("error", 500, "error"),
    ("rate_limit", 429, "error"),
    ("reset", 503, "error"),
    ("malformed", 503, "error"),
    ("hang", 503, "error"),
]
_READS = ["query:APBILL", "query:APBILL", "read*", "getAPISession"]


def _faults(draw: random.Random) -> list[ArmFault]:
    """One fault, or (one time in three) a lost answer: a create that commits then fails, and the lookup that would
    settle it failing too — the pair behind issue 15's first path."""
    if draw.random() < 0.35:
        mode, status, then = draw.choice([fault for fault in _WRITE_FAULTS if fault[0] == "commit_then_fail"])
        read_mode, read_status, _ = draw.choice(_READ_FAULTS)
        return [
            ArmFault("create:APBILL", mode, status, then, times=1),
            ArmFault("query:APBILL", read_mode, read_status, times=1 if read_mode == "hang" else draw.choice([1, 2])),
        ]
    return [_fault(draw)]


def _fault(draw: random.Random) -> ArmFault:
    if draw.random() < 0.55:
        operation, (mode, status, then) = "create:APBILL", draw.choice(_WRITE_FAULTS)
    else:
        operation, (mode, status, then) = draw.choice(_READS), draw.choice(_READ_FAULTS)
    if mode == "hang" or then == "hang":
        return ArmFault(operation, mode, status, then, times=1)  # each hang costs a read timeout
    if draw.random() < 0.2:
        return ArmFault(operation, mode, status, then, times=None, probability=draw.choice([0.3, 0.5]))
    return ArmFault(operation, mode, status, then, times=draw.choice([1, 1, 2, 3]))


def _disruption(
    draw: random.Random, planned: list[PlannedExpense], reports: tuple[str, ...], closed: bool, grouping: str
) -> Step:
    kind = draw.choices(*zip(*_DISRUPTIONS, strict=True))[0]
    if kind == "time":
        return TimePasses()
    if kind == "expire":
        return ExpireLeases()
    if kind == "settings":
        return SaveSettings(draw.choice(sorted(set(GROUPINGS) - {grouping})))
    if kind == "report":
        return ChangeReport(draw.choice(planned).id, draw.choice([None, *reports]))
    if kind == "replay":
        return Replay(draw.randrange(4))
    if kind == "skip":
        return Skip(draw.randrange(4))
    if kind == "again":
        return ExportAgain(draw.randrange(4))
    if kind == "periods":
        return Periods(not closed)
    if kind == "map":
        return MapMeals()
    if kind == "remap":
        return RemapTravel(draw.choice(ACCOUNTS))
    return ClearFaults()


_DISRUPTIONS: list[tuple[str, float]] = [
    ("time", 26),
    ("settings", 18),
    ("report", 18),
    ("replay", 9),
    ("skip", 4),
    ("again", 5),
    ("expire", 6),
    ("periods", 6),
    ("map", 4),
    ("remap", 5),
    ("clear", 6),
]
"""What happens between two batches, and how often (weights)."""


def make_plan(seed: int) -> Plan:
    """Rounds of: faults armed, one worker's batch (plain, killed, or racing a second worker after its lease ran
    out under a slow destination), then what people and pulls do meanwhile."""
    draw = random.Random(seed)
    reports = tuple(f"rp{index}" for index in range(draw.choice([2, 2, 3])))
    planned: list[PlannedExpense] = []

    def add(report: str | None) -> None:
        number = len(planned)
        category = UNMAPPED if draw.random() < 0.12 else MAPPED
        amount = Decimal(10 + number) + Decimal("0.25")  # unique in the schedule
        planned.append(PlannedExpense(f"ex{number}", report, category, amount, date(2024, 3, 1 + draw.randrange(2))))

    for report in reports:
        for _ in range(draw.randint(1, 3)):
            add(report)
    for _ in range(draw.choice([0, 1, 2])):
        add(None)
    steps: list[Step] = []
    closed, grouping = False, draw.choice(sorted(GROUPINGS))
    first_grouping = grouping
    for round_number in range(draw.randint(*ROUNDS)):
        for _ in range(max(draw.choice([0, 1, 1, 2]), int(round_number == 0))):
            steps.extend(_faults(draw))
        owner, limit = draw.choice(["p1", "p2"]), draw.choice(LIMITS)
        worker = draw.choices(["batch", "kill", "slow", "midflight"], [54, 20, 16, 10])[0]
        if worker == "batch":
            steps.append(RunBatch(owner, limit))
        elif worker == "kill":
            steps.append(KillBatch(owner, limit, draw.randint(1, KILL_POINTS)))
        elif worker == "slow":
            operation = draw.choice(["create:APBILL", "query:APBILL"])
            steps.append(SlowLeaseExpiry(operation, draw.randrange(0, 110, 10), draw.random() < 0.5))
        else:
            changes: list[SaveSettings | ChangeReport | RemapTravel] = [
                SaveSettings(draw.choice(sorted(set(GROUPINGS) - {grouping}))),
                ChangeReport(draw.choice(planned).id, draw.choice([None, *reports])),
                RemapTravel(draw.choice(ACCOUNTS)),
            ]
            change = draw.choice(changes)
            grouping = change.grouping if isinstance(change, SaveSettings) else grouping
            operation = draw.choice(["create:APBILL", "query:APBILL"])
            steps.append(MidFlight(operation, draw.randrange(0, 110, 10), change))
        for _ in range(draw.choice([0, 1, 1, 2, 2])):
            step = _disruption(draw, planned, reports, closed, grouping)
            closed = step.closed if isinstance(step, Periods) else closed
            grouping = step.grouping if isinstance(step, SaveSettings) else grouping
            steps.append(step)
    return Plan(seed, tuple(planned), reports, first_grouping, tuple(steps))


# ----------------------------------------------------------------------------------------------- worker kills
class KillAt(Generic[T]):
    """Drives a coroutine as its task would, and cancels it at its `at`-th suspension, the way a worker dies in
    the middle of whatever it was awaiting (a query, a request, a commit). The cancellation runs the coroutine's
    own clean-up, as task cancellation does. `await KillAt(...)` is the coroutine's value, or None if it died."""

    def __init__(self, coroutine: Coroutine[Any, Any, T], at: int) -> None:
        self.coroutine = coroutine
        self.at = at
        self.killed = False
        self.suspensions = 0

    def __await__(self) -> Generator[Any, Any, T | None]:
        coroutine = self.coroutine
        sent: Any = None
        thrown: BaseException | None = None
        while True:
            try:
                yielded = coroutine.send(sent) if thrown is None else coroutine.throw(thrown)
            except StopIteration as done:
                value: T = done.value
                return value
            except asyncio.CancelledError:
                if self.killed:
                    return None
                raise
            sent, thrown = None, None
            self.suspensions += 1
            if not self.killed and self.suspensions == self.at:
                self.killed = True
                if isinstance(yielded, asyncio.Future):
                    yielded.cancel()
                thrown = asyncio.CancelledError()
                continue
            try:
                sent = yield yielded
            except BaseException as exc:  # handed to the coroutine, as its task would hand it
                thrown = exc


# --------------------------------------------------------------------------------------------------- the run
@dataclass
class Observed:
    """What the simulator holds after settling, and what was wrong with it."""

    problems: list[str] = field(default_factory=list)
    documents: list[tuple[str, str, list[str]]] = field(default_factory=list)
    """(RECORDNO, RECORDID, expense ids of its lines)."""
    accounts: dict[str, set[tuple[str, str]]] = field(default_factory=dict)
    """RECORDNO → its lines as (expense id, GL account)."""
    items: list[str] = field(default_factory=list)


class ScheduleRun:
    def __init__(
        self, plan: Plan, *, database: Database, settings: Settings, sandbox: RunningSandbox, redis: Redis
    ) -> None:
        self.plan = plan
        self.database = database
        self.settings = settings
        self.sandbox = sandbox
        self.redis = redis
        self.control = sandbox.control()
        self.log: list[str] = []
        self.crashes: list[str] = []
        self.expenses: dict[str, Expense] = {}
        self.tenant_id = uuid.UUID(int=0)
        self.destination_id = uuid.UUID(int=0)
        self.source_id = uuid.UUID(int=0)
        self.account_attribute_id = uuid.UUID(int=0)
        self.other_account_id = uuid.UUID(int=0)
        self.grouping = plan.grouping

    # -- set-up
    async def _setup(self) -> None:
        self.sandbox.box.reset(DEFAULT_SEED)  # the seeded accounts and vendors the mappings name
        self.sandbox.box.faults.reseed(self.plan.seed)
        made = await add_bill_tenant(self.database, self.settings, f"Sched{self.plan.seed}")
        self.tenant_id, self.destination_id, self.source_id = made.tenant.id, made.destination_id, made.source_id
        for planned in self.plan.expenses:
            self.expenses[planned.id] = make_expense(
                id=planned.id,
                report_id=planned.report,
                state="APPROVED" if planned.report else "DRAFT",
                category=planned.category,
                amount=planned.amount,
                spent_on=planned.spent_on,
            )
        async with self.database.tenant_session(self.tenant_id) as session:
            self.account_attribute_id = (
                await session.scalars(
                    select(DestinationAttribute.id).where(
                        DestinationAttribute.connection_id == self.destination_id,
                        DestinationAttribute.attribute_type == "account",
                    )
                )
            ).one()
            other = DestinationAttribute(
                id=uuid.uuid4(),
                tenant_id=self.tenant_id,
                connection_id=self.destination_id,
                attribute_type="account",
                remote_id=ACCOUNTS[1],
                name=ACCOUNTS[1],
            )
            session.add(other)
            self.other_account_id = other.id
            await store_expenses(session, self.tenant_id, self.source_id, self.expenses.values())
            await self._regroup_with(session, self.grouping)

    async def _open(self) -> DestinationConnector:
        connector = await open_connector(
            database=self.database,
            vault=CredentialVault(self.settings.vault_key_list()),
            settings=sandbox_settings(self.settings, self.sandbox),
            tenant_id=self.tenant_id,
            connection_id=self.destination_id,
        )
        assert isinstance(connector, DestinationConnector)
        connector.http.timeout = httpx.Timeout(READ_TIMEOUT_SECONDS, connect=2.0)
        return connector

    # -- the run
    async def run(self) -> Observed:
        started = time.perf_counter()
        await self._setup()
        connector = await self._open()
        self.log.append(f"  set up [{round((time.perf_counter() - started) * 1000)} ms]")
        async with connector:
            guards = ConnectionGuards(
                budget=RateBudget.from_spec(self.redis, self.destination_id, connector.spec.rate_limit)
            )
            try:
                for number, step in enumerate(self.plan.steps, 1):
                    started = time.perf_counter()
                    note = await self._play(step, connector, guards)
                    took = round((time.perf_counter() - started) * 1000)
                    self.log.append(f"  {number:2}. {step}{f' -> {note}' if note else ''} [{took} ms]")
                started = time.perf_counter()
                await self._settle(connector, guards)
                self.log.append(f"  settled [{round((time.perf_counter() - started) * 1000)} ms]")
            finally:
                await self._clear_budget()
                self._control("DELETE", "/faults")
        try:
            return await self._observe()
        finally:
            self.control.close()

    async def _play(self, step: Step, connector: DestinationConnector, guards: ConnectionGuards) -> str:
        if isinstance(step, RunBatch):
            return _summary(await self._batch(step.owner, connector, guards, step.limit))
        if isinstance(step, ArmFault):
            self._control("POST", "/faults", step.spec())
            return ""
        if isinstance(step, ClearFaults):
            self._control("DELETE", "/faults")
            return ""
        if isinstance(step, KillBatch):
            killer = KillAt(self._batch(step.owner, connector, guards, step.limit), step.at)
            report = await killer
            await asyncio.sleep(0.05)  # what the dead worker sent reaches the simulator (it runs on its own thread)
            return f"died after {killer.suspensions} awaits" if killer.killed else f"finished first: {_summary(report)}"
        if isinstance(step, SlowLeaseExpiry):
            return await self._slow_lease_expiry(step, connector, guards)
        if isinstance(step, ExpireLeases):
            return f"{await self._expire_leases()} returned"
        if isinstance(step, TimePasses):
            await self._time_passes()
            return ""
        if isinstance(step, SaveSettings):
            self.grouping = step.grouping
            return await self._save_settings(step.grouping)
        if isinstance(step, ChangeReport):
            return await self._change_report(step)
        if isinstance(step, Replay | Skip | ExportAgain):
            return await self._support(step)
        if isinstance(step, Periods):
            self._control("PUT", "/intacct/periods", {"open_from": CLOSED_FROM if step.closed else OPEN_FROM})
            return ""
        if isinstance(step, RemapTravel):
            return await self._remap_travel(step.account)
        if isinstance(step, MidFlight):
            self._control("POST", "/faults", ArmFault(step.operation, "latency", times=1).spec())
            batch = asyncio.create_task(self._batch("p1", connector, guards))
            await asyncio.sleep(step.delay_ms / 1000)
            changed = await self._play(step.change, connector, guards)
            return f"{changed}; the batch: {_summary(await batch)}"
        return await self._map_meals()

    async def _batch(
        self, owner: str, connector: DestinationConnector, guards: ConnectionGuards, limit: int = max(LIMITS)
    ) -> BatchReport | None:
        """The batch's report; None if it crashed (a worker's job failing: its items keep their leases until they
        expire), which is a problem of its own."""
        try:
            return await ExportEngine(self.database, owner=owner).run_batch(
                connector, tenant_id=self.tenant_id, connection_id=self.destination_id, guards=guards, limit=limit
            )
        except Exception as exc:  # a crash is reported with the schedule, after it has settled
            self.crashes.append(f"CRASH of a batch by {owner}: {type(exc).__name__}: {str(exc)[:300]}")
            return None

    async def _slow_lease_expiry(
        self, step: SlowLeaseExpiry, connector: DestinationConnector, guards: ConnectionGuards
    ) -> str:
        self._control("POST", "/faults", ArmFault(step.operation, "latency", times=1).spec())
        first = asyncio.create_task(self._batch("p1", connector, guards))
        await asyncio.sleep(step.delay_ms / 1000)
        returned = await self._expire_leases()
        second = await self._batch(step.second, connector, guards)
        stale = await first
        return f"{returned} returned; second job: {_summary(second)}; first job: {_summary(stale)}"

    async def _expire_leases(self) -> int:
        async with self.database.tenant_session(self.tenant_id) as session:
            running = select(ExportItem.id).where(ExportItem.state == ExportState.RUNNING.value)
            await session.execute(  # in id order, as the engine locks items: time travel must not deadlock either
                update(ExportItem)
                .where(ExportItem.id.in_(running.order_by(ExportItem.id).with_for_update()))
                .values(lease_expires_at=func.now() - timedelta(seconds=1))
            )
        return await return_expired_leases(self.database)

    async def _time_passes(self) -> None:
        async with self.database.tenant_session(self.tenant_id) as session:
            await session.execute(
                update(ExportItem)
                .where(ExportItem.state == ExportState.PENDING.value)
                .values(next_attempt_at=func.now() - timedelta(seconds=1))
            )
        await self._clear_budget()

    async def _clear_budget(self) -> None:
        await self.redis.delete(*(BUDGET_KEY.format(connection_id=self.destination_id, part=part) for part in BUDGET))

    async def _save_settings(self, grouping: str) -> str:
        async with self.database.tenant_session(self.tenant_id) as session:
            return await self._regroup_with(session, grouping)

    async def _regroup_with(self, session: AsyncSession, grouping: str) -> str:
        """Save the settings of `grouping` and regroup in the same transaction, as the settings API does."""
        repository = TenantRepository(session, self.tenant_id, "schedule:admin")
        destination = await session.get(Connection, self.destination_id)
        assert destination is not None
        stored, _ = await save_settings(
            repository, destination=destination, settings=GROUPINGS[grouping], vocabulary=INTACCT
        )
        result = await regroup(repository, destination=destination, settings=stored.settings)
        return f"created {len(result.created)}, kept {result.kept}, dropped {len(result.dropped)}"

    async def _change_report(self, step: ChangeReport) -> str:
        changed = replace(
            self.expenses[step.expense],
            report_id=step.report,
            state="APPROVED" if step.report else "DRAFT",
            updated_at=datetime.now(UTC),
        )
        self.expenses[step.expense] = changed
        async with self.database.tenant_session(self.tenant_id) as session:
            record = (
                await session.scalars(
                    select(SourceRecord).where(
                        SourceRecord.connection_id == self.source_id, SourceRecord.remote_id == step.expense
                    )
                )
            ).one()
            rewrite(record, expense_to_json(changed))
            record.parent_remote_id = changed.report_id
            record.remote_state = changed.state
        results = await regroup_tenant(self.database, tenant_id=self.tenant_id, actor="schedule:pull")
        result = results[self.destination_id]
        return f"created {len(result.created)}, kept {result.kept}, dropped {len(result.dropped)}"

    async def _needs_action(self) -> list[ExportItem]:
        async with self.database.tenant_session(self.tenant_id) as session:
            items = (
                await session.scalars(
                    select(ExportItem)
                    .where(ExportItem.state == ExportState.NEEDS_ACTION.value)
                    .order_by(ExportItem.group_key, ExportItem.created_at)
                )
            ).all()
            session.expunge_all()
        return list(items)

    async def _support(self, step: Replay | Skip | ExportAgain) -> str:
        waiting = await self._needs_action()
        if not waiting:
            return "nothing needs action"
        item = waiting[step.pick % len(waiting)]
        verb = ""
        if isinstance(step, ExportAgain):
            found = self._control("GET", "/intacct/documents", params={"record_id": item.idempotency_key})["count"]
            verb = "replayed (its bill is there) " if found else "exported again "
        async with self.database.tenant_session(self.tenant_id) as session:
            if isinstance(step, ExportAgain) and verb.startswith("exported"):
                again = await export_again(
                    session,
                    tenant_id=self.tenant_id,
                    item_id=item.id,
                    actor="schedule:support",
                    confirm_duplicate_risk=True,
                    reason="no bill under its reference in Intacct",
                )
                verb += f"as {again.idempotency_key} "
            elif isinstance(step, Replay | ExportAgain):
                await replay_item(session, tenant_id=self.tenant_id, item_id=item.id, actor="schedule:support")
            else:
                await skip_item(
                    session, tenant_id=self.tenant_id, item_id=item.id, actor="schedule:support", reason="by hand"
                )
        return f"{verb}{item.idempotency_key} ({item.error_class}/{item.error_code}, unknown={item.outcome_unknown})"

    async def _remap_travel(self, account: str) -> str:
        attribute_id = self.other_account_id if account == ACCOUNTS[1] else self.account_attribute_id
        async with self.database.tenant_session(self.tenant_id) as session:
            await set_mappings(
                TenantRepository(session, self.tenant_id, "schedule:admin"),
                destination_connection_id=self.destination_id,
                changes=[MappingChange("category", MAPPED, "account", attribute_id)],
                vocabulary=INTACCT,
            )
        return ""

    async def _map_meals(self) -> str:
        async with self.database.tenant_session(self.tenant_id) as session:
            saved = await set_mappings(
                TenantRepository(session, self.tenant_id, "schedule:admin"),
                destination_connection_id=self.destination_id,
                changes=[MappingChange("category", UNMAPPED, "account", self.account_attribute_id)],
                vocabulary=INTACCT,
            )
        return f"{len(saved.released_item_ids)} released"

    # -- settling
    async def _settle(self, connector: DestinationConnector, guards: ConnectionGuards) -> None:
        """Faults stop, the books reopen, the mapping is made; then, round after round, time passes, dead workers'
        leases return, a sync regroups, batches run until nothing is due, and whatever needs action is replayed."""
        self._control("DELETE", "/faults")
        self._control("PUT", "/intacct/periods", {"open_from": OPEN_FROM})
        await self._map_meals()
        self.log.append("  settle: faults cleared, periods open, Meals mapped")
        for round_number in range(1, SETTLE_ROUNDS + 1):
            await self._time_passes()
            if (await self._states()).get(ExportState.RUNNING.value):
                await self._expire_leases()  # no batch is in flight: whatever runs belongs to a dead worker
            await regroup_tenant(self.database, tenant_id=self.tenant_id, actor="schedule:settle")
            reports = []
            for _ in range(10):
                counts = await self._states()
                if not counts.get(ExportState.PENDING.value):
                    break
                report = await self._batch("settle", connector, guards)
                reports.append(_summary(report))
                await self._time_passes()
            self.log.append(f"  settle round {round_number}: {'; '.join(reports) or 'nothing due'} -> {counts}")
            if set(counts) <= {ExportState.SUCCEEDED.value, ExportState.SKIPPED.value}:
                return
            for item in await self._needs_action():
                async with self.database.tenant_session(self.tenant_id) as session:
                    await replay_item(session, tenant_id=self.tenant_id, item_id=item.id, actor="schedule:settle")

    async def _states(self) -> dict[str, int]:
        async with self.database.tenant_session(self.tenant_id) as session:
            rows = await session.execute(select(ExportItem.state, func.count()).group_by(ExportItem.state))
            return {state: count for state, count in rows.all()}

    # -- the check
    async def _observe(self) -> Observed:
        observed = Observed(problems=list(self.crashes))
        answer = self._control("GET", "/intacct/documents", params={"object": "APBILL"})
        for row in answer["data"]:
            lines = [str(line.get("ENTRYDESCRIPTION", "")) for line in row["lines"]]
            observed.documents.append((str(row["RECORDNO"]), str(row.get("RECORDID")), lines))
            observed.accounts[str(row["RECORDNO"])] = {
                (str(line.get("ENTRYDESCRIPTION", "")), str(line.get("ACCOUNTNO"))) for line in row["lines"]
            }
        async with self.database.tenant_session(self.tenant_id) as session:
            items = (await session.scalars(select(ExportItem).order_by(ExportItem.created_at))).all()
            links = (
                await session.execute(
                    select(ExportItemRecord.export_item_id, SourceRecord.remote_id)
                    .join(SourceRecord, SourceRecord.id == ExportItemRecord.source_record_id)
                    .where(ExportItemRecord.released_at.is_(None))
                )
            ).all()
        held: dict[uuid.UUID, set[str]] = {}
        for item_id, expense_id in links:
            held.setdefault(item_id, set()).add(expense_id)
        by_key = {item.idempotency_key: item for item in items}
        for item in items:
            observed.items.append(
                f"    {item.idempotency_key} {item.state:<12} unknown={item.outcome_unknown!s:<5} "
                f"remote={item.remote_id} expenses={sorted(held.get(item.id, set()))} attempts={item.attempt_count}"
                f" error={item.error_class}/{item.error_code} skip={item.skip_reason!r}"
            )
        problems = observed.problems

        bills_of_key: dict[str, list[str]] = {}
        bills_of_expense: dict[str, list[str]] = {}
        for recordno, reference, lines in observed.documents:
            bills_of_key.setdefault(reference, []).append(recordno)
            for expense_id in lines:
                bills_of_expense.setdefault(expense_id, []).append(f"{recordno}:{reference}")
        for reference, recordnos in bills_of_key.items():
            if len(recordnos) > 1:
                problems.append(f"DUPLICATE reference {reference} in {len(recordnos)} bills {recordnos}")
        for expense_id, bills in sorted(bills_of_expense.items()):
            if len(bills) > 1:
                problems.append(f"DUPLICATE expense {expense_id} in {len(bills)} bills {bills}")

        skipped_by_hand = {
            expense_id
            for item in items
            if item.state == ExportState.SKIPPED.value and item.skip_reason != SUPERSEDED_REASON
            for expense_id in held.get(item.id, set())
        }
        for expense_id, current in sorted(self.expenses.items()):
            exportable = current.state == "APPROVED" and current.report_id is not None
            if exportable and expense_id not in skipped_by_hand and expense_id not in bills_of_expense:
                problems.append(f"MISSING expense {expense_id} (approved in {current.report_id}) in no bill")

        for item in items:
            bills = bills_of_key.get(item.idempotency_key, [])
            if item.state == ExportState.SUCCEEDED.value:
                sent = {
                    (str(line.get("description")), str(line.get("account")))
                    for line in (item.document or {}).get("lines", [])
                }
                if item.remote_id in bills and sent != observed.accounts[item.remote_id]:
                    problems.append(
                        f"SENT-DOCUMENT item {item.idempotency_key} records it sent {sorted(sent)}, but its bill "
                        f"{item.remote_id} holds {sorted(observed.accounts[item.remote_id])} (issue 15, path 4)"
                    )
                if item.remote_id not in bills:
                    problems.append(
                        f"SUCCEEDED item {item.idempotency_key} names bill {item.remote_id}, which holds another "
                        f"reference or none (bills with its reference: {bills})"
                    )
                else:
                    on_bill = next(lines for recordno, _, lines in observed.documents if recordno == item.remote_id)
                    if set(on_bill) != held.get(item.id, set()):
                        problems.append(
                            f"SUCCEEDED item {item.idempotency_key} holds {sorted(held.get(item.id, set()))} but its "
                            f"bill {item.remote_id} carries {sorted(on_bill)}"
                        )
            elif item.state in (ExportState.PENDING.value, ExportState.RUNNING.value, ExportState.NEEDS_ACTION.value):
                problems.append(
                    f"UNSETTLED item {item.idempotency_key} still {item.state} after settling "
                    f"({item.error_class}/{item.error_code}: {item.error_message})"
                )
            elif bills and item.skip_reason == SUPERSEDED_REASON:
                problems.append(
                    f"SUPERSEDED item {item.idempotency_key} has bill(s) {bills}: it was regrouped after a send "
                    "that had reached Intacct"
                )
        for reference in bills_of_key:
            if reference not in by_key:
                problems.append(f"UNKNOWN bill reference {reference}: no item of this tenant has that key")
        return observed

    def _control(
        self, method: str, path: str, body: dict[str, Any] | None = None, params: dict[str, str] | None = None
    ) -> dict[str, Any]:
        response = self.control.request(method, path, json=body, params=params)
        response.raise_for_status()
        answer: dict[str, Any] = response.json() if response.content else {}
        return answer


def _summary(report: BatchReport | None) -> str:
    if report is None:
        return "crashed"
    if report.held is not None:
        return f"held ({report.held.value})"
    parts = [
        f"{name} {value}"
        for name, value in (
            ("claimed", report.claimed),
            ("ok", report.succeeded),
            ("adopted", report.adopted),
            ("retrying", report.retrying),
            ("needs action", report.needs_action),
            ("lost lease", report.lost_lease),
        )
        if value
    ]
    error = f" connection error {report.connection_error.code}" if report.connection_error else ""
    return (", ".join(parts) or "nothing due") + error


async def play(
    plan: Plan, *, database: Database, settings: Settings, sandbox: RunningSandbox, redis: Redis
) -> tuple[Observed, str]:
    """Play the plan; what the simulator holds, and the story of the run (for a failure message)."""
    run = ScheduleRun(plan, database=database, settings=settings, sandbox=sandbox, redis=redis)
    try:
        observed = await run.run()
    except Exception as exc:
        story = "\n".join([plan.describe(), "run:", *run.log])
        raise AssertionError(f"schedule crashed: {type(exc).__name__}: {exc}\n{story}") from exc
    story = "\n".join(
        [
            plan.describe(),
            "run:",
            *run.log,
            "bills (RECORDNO, RECORDID, expenses):",
            *(f"    {recordno} {reference} {lines}" for recordno, reference, lines in observed.documents),
            "items:",
            *observed.items,
        ]
    )
    return observed, story
