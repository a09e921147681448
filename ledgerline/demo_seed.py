"""`ledgerline demo`'s tenant: every installed system connected to the sandbox, export settings and most mappings
saved, and a first export under way in which most expenses go through and a handful fail for reasons a support
engineer meets every day — a category nobody mapped, a closed period, a vendor made inactive in the books.

Registry-driven: the systems are the registry's, each one's role is its spec's, and whatever only a simulator knows
(its companies, accounts, vendors, sensible settings) comes from its demo hook (`ledgerline.demo_simulators`).

An expense belongs to one live export item, so destinations share the expenses: the first (in the registry's
order) takes every expense its settings export, and the later ones deal the employees among themselves (a skip rule
added to the settings of each but the last), the last taking whatever is left (with the simulators' settings,
Intacct the reimbursable bills, QuickBooks and Xero the card purchases).

Idempotent: the first run records an audit event (`demo.seeded`) holding what it arranged to fail; a later run
finds it, re-authorizes what no longer opens its system and arranges the same failures in the (fresh, in-memory)
simulators, and creates nothing else.
"""

import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select

from connectors.base import DestinationConnector, SourceConnector
from connectors.factory import open_connector
from connectors.registry import connector_class, destination_vocabulary
from connectors.spec import ConnectorRole
from core.audit import append_event
from core.crypto import CredentialVault
from core.db import Database
from core.destination_vocabulary import DestinationVocabulary
from core.domain import Fund, RecordKind
from core.models import AuditEvent, Connection, DestinationAttribute, ExportItem, ExportState, SourceRecord, Tenant
from core.repository import TenantRepository
from core.settings import Settings
from ledgerline.constants import (
    DEMO_ACTOR,
    DEMO_FAILURE_SHARE,
    DEMO_MIN_FAILURES,
    DEMO_SEEDED_ACTION,
    DEMO_SHARE_RULE_NAME,
    DEMO_TENANT_NAME,
)
from ledgerline.demo_connections import DemoConnection, connect_demo_systems
from ledgerline.demo_simulators import DemoSimulators, SimulatorSeed
from ledgerline.tenants import create_tenant
from mappings.automap import auto_map
from mappings.mapping_store import MappingChange, set_mappings
from mappings.mapping_table import load_mapping_table
from mappings.preview import preview_items
from mappings.requirements import Role
from mappings.settings import ExportSettings
from mappings.settings_store import current_settings, save_settings
from mappings.skip_rules import Condition, SkipRule
from mappings.source_expenses import read_expenses
from mappings.unmapped import open_expenses, unmapped_needs
from sync.grouping_run import regroup_tenant
from sync.import_engine import import_dimensions
from sync.pull_engine import pull_expenses
from sync.queue import Queue
from sync.runs import RunKind, RunTrigger, enqueue_run, request_run

MappingKey = tuple[str, str, str]
"""(source type, source value, destination type)."""


@dataclass
class Arranged:
    """What one destination was set up to fail on, kept in the `demo.seeded` event to arrange it again."""

    system: str
    connection_id: str
    unmapped: list[MappingKey] = field(default_factory=list)
    closed_through: str | None = None
    deactivated: dict[str, str] | None = None

    def as_data(self) -> dict[str, Any]:
        return {
            "system": self.system,
            "connection_id": self.connection_id,
            "unmapped": [list(key) for key in self.unmapped],
            "closed_through": self.closed_through,
            "deactivated": self.deactivated,
        }

    @classmethod
    def of(cls, data: dict[str, Any]) -> "Arranged":
        return cls(
            system=str(data["system"]),
            connection_id=str(data["connection_id"]),
            unmapped=[(str(a), str(b), str(c)) for a, b, c in data.get("unmapped") or []],
            closed_through=data.get("closed_through"),
            deactivated=data.get("deactivated"),
        )


@dataclass
class DemoSeedReport:
    tenant_id: uuid.UUID
    slug: str
    connections: list[DemoConnection]
    seeded: bool
    """True when this run set the tenant up; False when it found it set up (or `empty`)."""
    arranged: list[Arranged] = field(default_factory=list)
    runs: list[uuid.UUID] = field(default_factory=list)


async def ensure_tenant(database: Database, *, slug: str, name: str = DEMO_TENANT_NAME) -> uuid.UUID:
    async with database.owner_session() as session:
        tenant_id = await session.scalar(select(Tenant.id).where(Tenant.slug == slug))
    if tenant_id is not None:
        return tenant_id
    return (await create_tenant(database, name=name, slug=slug, actor=DEMO_ACTOR)).id


async def _seeded_marker(database: Database, tenant_id: uuid.UUID) -> list[Arranged] | None:
    async with database.owner_session() as session:
        data = await session.scalar(
            select(AuditEvent.data)
            .where(AuditEvent.tenant_id == tenant_id, AuditEvent.action == DEMO_SEEDED_ACTION)
            .order_by(AuditEvent.seq.desc())
            .limit(1)
        )
    if data is None:
        return None
    return [Arranged.of(entry) for entry in data.get("destinations", [])]


async def seed_demo(
    database: Database,
    *,
    settings: Settings,
    simulators: DemoSimulators,
    queue: Queue | None,
    slug: str,
    empty: bool = False,
) -> DemoSeedReport:
    """Set up (or find) the demo tenant `slug`; with `empty`, only the tenant. `settings` must send connectors to
    the simulators (`demo_simulators.with_simulator_apps`). The first export is requested, and queued on `queue`
    when given (the worker's start-up reconciliation finds it otherwise)."""
    tenant_id = await ensure_tenant(database, slug=slug)
    if empty:
        return DemoSeedReport(tenant_id, slug, [], seeded=False)
    vault = CredentialVault(settings.vault_key_list())
    seeds = await simulators.seeds()
    connections = await connect_demo_systems(database, settings=settings, vault=vault, tenant_id=tenant_id, seeds=seeds)
    arranged = await _seeded_marker(database, tenant_id)
    if arranged is not None:
        for entry in arranged:
            await _arrange_again(simulators, entry)
        return DemoSeedReport(tenant_id, slug, connections, seeded=False, arranged=arranged)
    book = _Book(database, settings, vault, tenant_id)
    destinations = [connection for connection in connections if connection.role is ConnectorRole.DESTINATION]
    for connection in destinations:
        await book.import_and_configure(connection, seeds[connection.system])
    for connection in connections:
        if connection.role is ConnectorRole.SOURCE:
            await book.pull(connection)
    await book.share_expenses(destinations)
    await regroup_tenant(database, tenant_id=tenant_id, actor=DEMO_ACTOR)
    arranged, counterparties = [], []
    for connection in destinations:
        unmapped, mapped_counterparties = await book.map_most(connection, seeds[connection.system])
        arranged.append(Arranged(connection.system, str(connection.id), unmapped=unmapped))
        counterparties.append(mapped_counterparties)
    for connection, entry, mapped_counterparties in zip(destinations, arranged, counterparties, strict=True):
        await book.arrange_failures(connection, entry, simulators, counterparties=mapped_counterparties)
    runs = await book.request_exports(destinations, queue)
    async with database.owner_session() as session:
        await append_event(
            session,
            tenant_id=tenant_id,
            actor=DEMO_ACTOR,
            action=DEMO_SEEDED_ACTION,
            entity_type="tenants",
            entity_id=str(tenant_id),
            data={"destinations": [entry.as_data() for entry in arranged]},
        )
    return DemoSeedReport(tenant_id, slug, connections, seeded=True, arranged=arranged, runs=runs)


async def _arrange_again(simulators: DemoSimulators, entry: Arranged) -> None:
    """The failures of the first run, in simulators that have forgotten them (the unmapped value stays so in our
    own database until someone maps it)."""
    if entry.closed_through is not None:
        await simulators.close_books(entry.system, through=date.fromisoformat(entry.closed_through))
    if entry.deactivated is not None:
        await simulators.deactivate(entry.system, **entry.deactivated)


@dataclass
class _Book:
    """The steps of a first set-up, for one tenant."""

    database: Database
    settings: Settings
    vault: CredentialVault
    tenant_id: uuid.UUID

    async def _open(self, connection: DemoConnection) -> Any:
        return await open_connector(
            database=self.database,
            vault=self.vault,
            settings=self.settings,
            tenant_id=self.tenant_id,
            connection_id=connection.id,
        )

    def _repository(self, session: Any) -> TenantRepository:
        return TenantRepository(session, self.tenant_id, DEMO_ACTOR)

    async def import_and_configure(self, connection: DemoConnection, seed: SimulatorSeed) -> None:
        """The destination's dimensions imported, then the simulator's sensible export settings saved."""
        async with await self._open(connection) as connector:
            assert isinstance(connector, DestinationConnector)
            await import_dimensions(
                self.database, connector, tenant_id=self.tenant_id, connection_id=connection.id, actor=DEMO_ACTOR
            )
        if seed.export_settings is None:
            return
        spec = connector_class(connection.system).spec
        async with self.database.tenant_session(self.tenant_id) as session:
            destination = await session.get(Connection, connection.id)
            assert destination is not None
            await save_settings(
                self._repository(session),
                destination=destination,
                settings=ExportSettings.model_validate(seed.export_settings),
                vocabulary=destination_vocabulary(connection.system),
                creates={fund: spec.export_kinds(fund) for fund in Fund},
            )

    async def pull(self, connection: DemoConnection) -> None:
        async with await self._open(connection) as connector:
            assert isinstance(connector, SourceConnector)
            await pull_expenses(
                self.database, connector, tenant_id=self.tenant_id, connection_id=connection.id, actor=DEMO_ACTOR
            )

    async def share_expenses(self, destinations: list[DemoConnection]) -> None:
        """The first destination keeps every expense it exports; the employees, busiest first, are dealt over the
        later ones, each but the last skipping the others' employees, so that every destination shows documents."""
        later = destinations[1:]
        if len(later) < 2:
            return
        async with self.database.tenant_session(self.tenant_id) as session:
            repository = self._repository(session)
            records = (
                await session.scalars(
                    repository.scoped(SourceRecord).where(SourceRecord.kind == RecordKind.EXPENSE.value)
                )
            ).all()
            expenses = await read_expenses(repository, {record.id: record.fingerprint for record in records})
            spent = Counter(e.employee_email for e, _ in expenses.values() if e is not None and e.employee_email)
            employees = sorted(spent, key=lambda email: (-spent[email], email))
            for index, connection in enumerate(later[:-1]):
                saved = await current_settings(repository, connection.id)
                others = [email for n, email in enumerate(employees) if n % len(later) != index]
                if saved is None or not others:
                    continue
                rule = SkipRule(
                    name=DEMO_SHARE_RULE_NAME,
                    conditions=[Condition(field="employee_email", operator="in", value=others)],
                )
                destination = await session.get(Connection, connection.id)
                assert destination is not None
                spec = connector_class(connection.system).spec
                await save_settings(
                    repository,
                    destination=destination,
                    settings=saved.settings.model_copy(update={"skip_rules": [*saved.settings.skip_rules, rule]}),
                    vocabulary=destination_vocabulary(connection.system),
                    creates={fund: spec.export_kinds(fund) for fund in Fund},
                )

    async def map_most(
        self, connection: DemoConnection, seed: SimulatorSeed
    ) -> tuple[list[MappingKey], dict[str, str]]:
        """Auto-map what the settings' rules match, then spread the rest over the simulator's suggested records —
        except the category fewest expenses need, left for a person to map. Returns the keys left unmapped, and the
        counterparties mapped here (remote id → attribute type)."""
        vocabulary = destination_vocabulary(connection.system)
        async with self.database.tenant_session(self.tenant_id) as session:
            repository = self._repository(session)
            stored = await current_settings(repository, connection.id)
            if stored is None:
                return [], {}
            await auto_map(
                repository, destination_connection_id=connection.id, settings=stored.settings, vocabulary=vocabulary
            )
            wanted = await _unmapped(repository, connection.id, stored.settings, vocabulary)
            categories = [key for key, (role, _count) in wanted.items() if role is Role.CATEGORY]
            left = [min(categories, key=lambda key: (wanted[key][1], key))] if categories else []
            changes = await _spread(session, connection.id, [key for key in wanted if key not in left], seed)
            if changes:
                await set_mappings(
                    repository,
                    destination_connection_id=connection.id,
                    changes=changes,
                    vocabulary=vocabulary,
                    origin=DEMO_ACTOR,
                )
            mapped = {change.key for change in changes}
            counterparties = {
                str(remote_id): attribute_type
                for remote_id, attribute_type in (
                    await session.execute(
                        select(DestinationAttribute.remote_id, DestinationAttribute.attribute_type).where(
                            DestinationAttribute.id.in_(
                                [c.destination_attribute_id for c in changes if wanted[c.key][0] is Role.COUNTERPARTY]
                            )
                        )
                    )
                )
            }
        return left + sorted(key for key in wanted if key not in left and key not in mapped), counterparties

    async def arrange_failures(
        self,
        connection: DemoConnection,
        entry: Arranged,
        simulators: DemoSimulators,
        *,
        counterparties: dict[str, str],
    ) -> None:
        """Close the destination's books through its earliest document's day, and make inactive there the mapped
        counterparty (of `counterparties`) of the fewest other documents: each fails a handful of exports as the
        books would."""
        vocabulary = destination_vocabulary(connection.system)
        async with self.database.tenant_session(self.tenant_id) as session:
            repository = self._repository(session)
            items = (
                await session.scalars(
                    repository.scoped(ExportItem)
                    .where(
                        ExportItem.destination_connection_id == connection.id,
                        ExportItem.state == ExportState.PENDING.value,
                    )
                    .order_by(ExportItem.created_at, ExportItem.id)
                )
            ).all()
            previews = await preview_items(
                repository, items, export_day=datetime.now(UTC).date(), vocabulary=vocabulary
            )
        documents = [preview.document for preview in previews if preview.document is not None]
        if not documents:
            return
        earliest = min(document.transaction_date for document in documents)
        closed = await simulators.close_books(connection.system, through=earliest, dry_run=True)
        if sum(document.transaction_date <= closed for document in documents) <= _handful(len(documents)):
            await simulators.close_books(connection.system, through=earliest)
            entry.closed_through = closed.isoformat()
        else:  # the system closes coarser periods (whole months) than would leave most documents open
            closed = earliest - timedelta(days=1)
        open_documents = Counter(
            document.counterparty
            for document in documents
            if document.transaction_date > closed and document.counterparty in counterparties
        )
        if not open_documents:
            return
        victim = min(open_documents, key=lambda remote_id: (open_documents[remote_id], remote_id))
        await simulators.deactivate(connection.system, attribute_type=counterparties[victim], remote_id=victim)
        entry.deactivated = {"attribute_type": counterparties[victim], "remote_id": victim}

    async def request_exports(self, destinations: list[DemoConnection], queue: Queue | None) -> list[uuid.UUID]:
        runs = []
        for connection in destinations:
            async with self.database.tenant_session(self.tenant_id) as session:
                row = await session.get(Connection, connection.id)
                assert row is not None
                run, _new = await request_run(
                    session, connection=row, kind=RunKind.EXPORT, trigger=RunTrigger.MANUAL, requested_by=DEMO_ACTOR
                )
            runs.append(run.id)
            if queue is not None:
                await enqueue_run(queue, run)
        return runs


def _handful(documents: int) -> int:
    return max(DEMO_MIN_FAILURES, int(documents * DEMO_FAILURE_SHARE))


async def _unmapped(
    repository: TenantRepository, connection_id: uuid.UUID, settings: ExportSettings, vocabulary: DestinationVocabulary
) -> dict[MappingKey, tuple[Role, int]]:
    """Each required, unmapped key of the expenses the settings export, with its role and how many reports (or
    unreported expenses) need it: about how many documents would wait for it."""
    table = await load_mapping_table(repository, connection_id)
    records = await open_expenses(repository, connection_id)
    roles: dict[MappingKey, Role] = {}
    groups: defaultdict[MappingKey, set[str]] = defaultdict(set)
    for need, expense in unmapped_needs(records, settings, table, vocabulary):
        key = (need.source_type, need.source_value, need.destination_type)
        roles[key] = need.role
        groups[key].add(expense.report_id or expense.id)
    return {key: (roles[key], len(groups[key])) for key in sorted(roles)}


async def _spread(
    session: Any, connection_id: uuid.UUID, keys: list[MappingKey], seed: SimulatorSeed
) -> list[MappingChange]:
    """Round-robin over the simulator's suggested records of each destination type, in a stable order, so that
    values of one kind get different records while there are enough of them."""
    by_type: defaultdict[tuple[str, str], list[MappingKey]] = defaultdict(list)
    for key in keys:
        by_type[key[0], key[2]].append(key)
    changes: list[MappingChange] = []
    for (_source_type, destination_type), group in sorted(by_type.items()):
        suggested = seed.mapping_choices.get(destination_type, [])
        rows = await session.execute(
            select(DestinationAttribute.remote_id, DestinationAttribute.id).where(
                DestinationAttribute.connection_id == connection_id,
                DestinationAttribute.attribute_type == destination_type,
                DestinationAttribute.remote_id.in_(suggested),
                DestinationAttribute.active.is_(True),
            )
        )
        ids = {remote_id: attribute_id for remote_id, attribute_id in rows}
        choices = [ids[remote_id] for remote_id in suggested if remote_id in ids]
        if not choices:
            continue
        changes.extend(
            MappingChange(source_type, value, kind, choices[index % len(choices)])
            for index, (source_type, value, kind) in enumerate(group)
        )
    return changes
