"""The records of one company, by object, over the shared seed rows; snapshots make `transaction="true"` roll back.

Rows are plain `dict[str, str]` (the wire is all strings) and are never mutated once stored: a change stores a new
dict. That keeps the seed rows shareable across resets and makes a snapshot a copy of a few dictionaries.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from functools import partial

from sandbox.intacct.constants import DEFAULT_OPEN_FROM
from sandbox.intacct.schema import Kind, ObjectDef, build_catalog
from sandbox.intacct.seed import UDD_NAMES, Record, SeedSpec, seed_rows

Lines = tuple[Record, ...]


@dataclass(frozen=True)
class TableState:
    changed: dict[int, Record]
    lines: dict[int, Lines]
    next_recordno: int


class Table:
    """Rows of one object: the seed rows (read-only) plus created and changed rows, in record-number order."""

    def __init__(self, definition: ObjectDef, load_seed: Callable[[], tuple[Record, ...]]) -> None:
        self.definition = definition
        self._load_seed = load_seed
        self._seed_rows: tuple[Record, ...] | None = None
        self._record_field = "id" if definition.kind is Kind.DIMENSION else "RECORDNO"
        self._changed: dict[int, Record] = {}
        self._lines: dict[int, Lines] = {}
        self._next_recordno: int | None = None
        self._keys: dict[str, int] | None = None

    @property
    def _seed(self) -> tuple[Record, ...]:
        """The seed rows, generated (or taken from the cache) the first time the table is read."""
        if self._seed_rows is None:
            self._seed_rows = self._load_seed()
        return self._seed_rows

    @property
    def _next(self) -> int:
        if self._next_recordno is None:
            self._next_recordno = len(self._seed) + 1
        return self._next_recordno

    def rows(self) -> Iterator[Record]:
        for position, row in enumerate(self._seed, start=1):
            yield self._changed.get(position, row)
        for recordno in range(len(self._seed) + 1, self._next):
            created = self._changed.get(recordno)
            if created is not None:
                yield created

    def __len__(self) -> int:
        seeded = len(self._seed)
        return seeded + sum(1 for recordno in self._changed if recordno > seeded)

    def get(self, recordno: int) -> Record | None:
        if recordno in self._changed:
            return self._changed[recordno]
        if 1 <= recordno <= len(self._seed):
            return self._seed[recordno - 1]
        return None

    def find(self, key: str) -> Record | None:
        """The row whose identifier (`VENDORID`, `ACCOUNTNO`, …) is `key`."""
        if self._keys is None:
            self._keys = {row[self.definition.key]: int(row[self._record_field]) for row in self.rows()}
        recordno = self._keys.get(key)
        return None if recordno is None else self.get(recordno)

    def lines(self, recordno: int) -> Lines:
        return self._lines.get(recordno, ())

    def insert(self, row: Record, lines: Lines = ()) -> Record:
        """Store a new row under the next record number (which it receives) and return it."""
        stored = {**row, self._record_field: str(self._next)}
        self._changed[self._next] = stored
        if lines:
            self._lines[self._next] = lines
        self._next_recordno = self._next + 1
        self._keys = None
        return stored

    def replace(self, row: Record) -> None:
        self._changed[int(row[self._record_field])] = row
        self._keys = None

    def delete(self, recordno: int) -> bool:
        """Remove a row created through the API (as a person deleting a document in Intacct); seed rows stay.
        Its record number is never given again. False when there is no such created row."""
        if recordno <= len(self._seed) or self._changed.pop(recordno, None) is None:
            return False
        self._lines.pop(recordno, None)
        self._keys = None
        return True

    def state(self) -> TableState:
        return TableState(dict(self._changed), dict(self._lines), self._next)

    def restore(self, state: TableState) -> None:
        self._changed, self._lines = dict(state.changed), dict(state.lines)
        self._next_recordno = state.next_recordno
        self._keys = None


@dataclass
class OpenPeriods:
    """Months from `open_from` up to `open_to` (inclusive, None = no end) accept postings; the rest are closed."""

    open_from: date = DEFAULT_OPEN_FROM
    open_to: date | None = None

    def is_open(self, day: date) -> bool:
        month = (day.year, day.month)
        if month < (self.open_from.year, self.open_from.month):
            return False
        return self.open_to is None or month <= (self.open_to.year, self.open_to.month)


@dataclass(frozen=True)
class Attachment:
    name: str
    kind: str
    size: int


@dataclass(frozen=True)
class SupportingDocument:
    supdocid: str
    folder: str
    description: str
    attachments: tuple[Attachment, ...]
    created: str


@dataclass(frozen=True)
class StoreState:
    tables: dict[str, TableState]
    folders: frozenset[str]
    supdocs: dict[str, SupportingDocument]


@dataclass
class CompanyStore:
    company_id: str
    entities: tuple[str, ...]
    catalog: dict[str, ObjectDef]
    tables: dict[str, Table]
    udd_names: tuple[str, ...]
    periods: OpenPeriods = field(default_factory=OpenPeriods)
    """The company's periods, which every entity without periods of its own follows."""
    entity_periods: dict[str, OpenPeriods] = field(default_factory=dict)
    """Entities that close their books on their own calendar."""
    folders: set[str] = field(default_factory=set)
    supdocs: dict[str, SupportingDocument] = field(default_factory=dict)

    @classmethod
    def from_seed(cls, spec: SeedSpec) -> "CompanyStore":
        catalog = build_catalog(UDD_NAMES)
        tables = {name: Table(definition, partial(seed_rows, spec, name)) for name, definition in catalog.items()}
        return cls(spec.company_id, spec.entities, catalog, tables, UDD_NAMES)

    def table(self, object_name: str) -> Table | None:
        return self.tables.get(object_name.upper()) or self.tables.get(object_name)

    def state(self) -> StoreState:
        return StoreState(
            {name: table.state() for name, table in self.tables.items()}, frozenset(self.folders), dict(self.supdocs)
        )

    def restore(self, state: StoreState) -> None:
        for name, table_state in state.tables.items():
            self.tables[name].restore(table_state)
        self.folders = set(state.folders)
        self.supdocs = dict(state.supdocs)

    def periods_of(self, entity: str) -> OpenPeriods:
        """The periods postings in `entity` ("" for the top level) are checked against."""
        return self.entity_periods.get(entity, self.periods)


def visible(row: Record, entity: str, show_private: bool) -> bool:
    """Multi-entity visibility: shared rows everywhere; an entity's private rows only in that entity (or with
    `showprivate` at the top level)."""
    owner = row.get("MEGAENTITYID", "")
    return not owner or owner == entity or (not entity and show_private)
