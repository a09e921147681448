"""The books check: do the destination's documents hold each of the source's exportable expenses once, for its amount?

Expenses are matched by the references documents carry (issue 17, point 6): each line names its source expense ids
(`core.traces`), each header its item's reference. The source side is every expense of the tenant that the
destination's current settings export, spent in the range, minus those a person skipped; the destination side is
every document of the kinds those settings export, dated from the range's start on (a document is never dated
before its expenses, but may be dated after the range: export day, a re-dated closed period), whoever created it.
"""

import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from redis.asyncio import Redis
from sqlalchemy import and_, select

from connectors.base import BookedDocument, DestinationConnector
from connectors.factory import ConnectionNotFoundError, open_connector
from connectors.registry import destination_vocabulary
from core.crypto import CredentialVault
from core.db import Database
from core.destination_vocabulary import AttributeRole, DestinationVocabulary
from core.domain import DocumentKind, Expense, RecordKind
from core.errors import LedgerlineError
from core.models import (
    Connection,
    ConnectionRole,
    DestinationAttribute,
    ExportItem,
    ExportItemRecord,
    ExportState,
    Mapping,
    SourceRecord,
)
from core.repository import TenantRepository
from core.settings import Settings
from core.traces import trace_words
from mappings.amounts import to_cents
from mappings.constants import ZERO, Fund
from mappings.expense_json import ExpenseFormatError, expense_from_json
from mappings.grouping import exclusion_reason
from mappings.settings import ExportSettings
from mappings.settings_store import current_settings
from mappings.terms import document_currency, source_amount
from sync.entity_routing import SENT_ENTITY, connector_in
from sync.rate_budget import RateBudget

DEFAULT_RANGE_DAYS = 31
"""A check given no start covers this many days of spend before its end."""


class UnknownConnectionError(LookupError):
    """No destination connection of this id in the tenant (another tenant's is not told apart from none)."""


@dataclass(frozen=True, slots=True)
class MissingExpense:
    expense_id: str
    report_id: str | None
    currency: str
    amount: Decimal
    reference: str | None
    """The reference of the live item holding it, if any: the document it should be in."""


@dataclass(frozen=True, slots=True)
class DuplicatedExpense:
    expense_id: str
    references: tuple[str, ...]
    """The reference field of each document naming it (a person's document holds whatever they typed there)."""
    remote_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AmountDifference:
    expense_id: str
    reference: str
    remote_id: str
    currency: str
    """The source's currency; the document's when the two differ."""
    source: Decimal
    booked: Decimal


@dataclass(frozen=True, slots=True)
class CurrencyTotal:
    currency: str
    source: Decimal
    """What the source's exportable expenses in the range add up to."""
    booked: Decimal
    """What the destination's lines naming them add up to (duplicates counted each time)."""

    @property
    def difference(self) -> Decimal:
        return self.booked - self.source


@dataclass(frozen=True, slots=True)
class UnreadableEntity:
    """An entity of the destination the check could not read: its documents were not compared (an expense sent
    there shows as missing)."""

    entity: str
    reason: str


@dataclass(frozen=True, slots=True)
class BooksReport:
    since: date
    until: date
    expenses: int
    """Exportable expenses of the source in the range."""
    documents: int
    """Destination documents naming at least one of them."""
    missing: list[MissingExpense] = field(default_factory=list)
    duplicated: list[DuplicatedExpense] = field(default_factory=list)
    differences: list[AmountDifference] = field(default_factory=list)
    currencies: list[CurrencyTotal] = field(default_factory=list)
    unreadable: list[UnreadableEntity] = field(default_factory=list)

    @property
    def difference_count(self) -> int:
        unbalanced = sum(1 for total in self.currencies if total.difference != ZERO)
        return len(self.missing) + len(self.duplicated) + len(self.differences) + unbalanced

    @property
    def clean(self) -> bool:
        return self.difference_count == 0


@dataclass(frozen=True, slots=True)
class _Expected:
    expense: Expense
    currency: str
    amount: Decimal
    reference: str | None


@dataclass(slots=True)
class _Booked:
    """One expense in one document: the sum of the lines naming it alone, or None when a line shares it."""

    document: BookedDocument
    amount: Decimal | None = ZERO


async def check_books(
    *,
    database: Database,
    connector: DestinationConnector,
    tenant_id: uuid.UUID,
    connection_id: uuid.UUID,
    since: date,
    until: date,
) -> BooksReport:
    """Compare the source's exportable expenses spent from `since` to `until` with the destination's documents."""
    settings, expected = await _expected(database, tenant_id, connection_id, since, until)
    kinds = sorted({kind for fund in Fund if (kind := settings.export_type(fund)) is not None})
    found: dict[str, dict[str, _Booked]] = defaultdict(dict)
    documents: set[tuple[DocumentKind, str]] = set()
    seen: set[tuple[DocumentKind, str]] = set()
    booked_totals: dict[str, Decimal] = defaultdict(lambda: ZERO)
    unreadable: list[UnreadableEntity] = []
    for entity in await _entities(database, tenant_id, connection_id, destination_vocabulary(connector.system)):
        reader = connector_in(connector, entity)
        try:
            for kind in kinds:
                async for document in reader.booked_documents(kind, since=since):
                    if (kind, document.remote_id) in seen:  # a document shared by entities shows in each of them
                        continue
                    seen.add((kind, document.remote_id))
                    if _record(document, expected, found, booked_totals):
                        documents.add((kind, document.remote_id))
        except LedgerlineError as error:
            if entity is None:  # the connection's own books: nothing can be said without them
                raise
            # What was read of it counts; what was not shows as missing, and this says why.
            unreadable.append(UnreadableEntity(entity, error.message))
    report = _report(since, until, expected, found, booked_totals, len(documents))
    report.unreadable.extend(unreadable)
    return report


async def _entities(
    database: Database, tenant_id: uuid.UUID, connection_id: uuid.UUID, vocabulary: DestinationVocabulary
) -> list[str | None]:
    """Where the connection's documents may be: its own entity (None), and every entity it knows of: imported (even
    inactive now), sent to, or mapped to. Each is read from inside, since an entity's documents show only there; a
    document left in an entity nothing routes to any more is found all the same. Entities are attributes of the
    type `vocabulary` says plays that role (none when the destination has none)."""
    entity_type = vocabulary.first_with(AttributeRole.ENTITY)
    async with database.tenant_session(tenant_id) as session:
        sent = await session.scalars(
            select(SENT_ENTITY)
            .where(ExportItem.tenant_id == tenant_id, ExportItem.destination_connection_id == connection_id)
            .where(SENT_ENTITY.is_not(None))
            .distinct()
        )
        mapped = await session.scalars(
            select(DestinationAttribute.remote_id)
            .join(
                Mapping,
                and_(
                    Mapping.tenant_id == DestinationAttribute.tenant_id,
                    Mapping.destination_attribute_id == DestinationAttribute.id,
                ),
            )
            .where(
                Mapping.tenant_id == tenant_id,
                Mapping.destination_connection_id == connection_id,
                Mapping.destination_type == entity_type,
            )
        )
        imported = await session.scalars(
            select(DestinationAttribute.remote_id).where(
                DestinationAttribute.tenant_id == tenant_id,
                DestinationAttribute.connection_id == connection_id,
                DestinationAttribute.attribute_type == entity_type,
            )
        )
        return [None, *sorted({*sent, *mapped, *imported} - {None})]


async def check_connection_books(
    *, database: Database, settings: Settings, tenant_id: uuid.UUID, connection_id: uuid.UUID, since: date, until: date
) -> BooksReport:
    """`check_books` through a connector opened for the connection: what the CLI and the API run.

    `UnknownConnectionError` when the tenant has no such destination; a `LedgerlineError` when the destination
    cannot be read (refused credentials, an outage, a kind it cannot read back)."""
    if until < since:
        raise ValueError(f"the range ends ({until}) before it starts ({since})")
    # A source's connector is never opened: the generic webhook sender has none (a 500), and opening Fyle's asked
    # for an OAuth client only to be refused afterwards as not a destination.
    async with database.tenant_session(tenant_id) as session:
        role = await session.scalar(select(Connection.role).where(Connection.id == connection_id))
    if role != ConnectionRole.DESTINATION.value:
        raise UnknownConnectionError(f"No destination connection {connection_id}.")
    vault = CredentialVault(settings.vault_key_list())
    try:
        connector = await open_connector(
            database=database, vault=vault, settings=settings, tenant_id=tenant_id, connection_id=connection_id
        )
    except ConnectionNotFoundError as exc:
        raise UnknownConnectionError(f"No destination connection {connection_id}.") from exc
    async with connector:
        if not isinstance(connector, DestinationConnector):
            raise UnknownConnectionError(f"No destination connection {connection_id}.")
        async with _metered(connector, connection_id, settings.redis_url):
            return await check_books(
                database=database,
                connector=connector,
                tenant_id=tenant_id,
                connection_id=connection_id,
                since=since,
                until=until,
            )


@asynccontextmanager
async def _metered(
    connector: DestinationConnector, connection_id: uuid.UUID, redis_url: str | None
) -> AsyncIterator[None]:
    """The check's calls take their turns in the connection's shared rate budget, as the workers' do: it reads every
    document, and unpaced under a busy allowance (60 calls a minute) it met a 429 at every try and never finished."""
    if redis_url is None:
        yield
        return
    redis = Redis.from_url(redis_url)
    try:
        RateBudget.of_connection(redis, connection_id, connector).meter(connector.http, connector.spec.rate_limit)
        yield
    finally:
        await redis.aclose()


def _record(
    document: BookedDocument,
    expected: dict[str, _Expected],
    found: dict[str, dict[str, _Booked]],
    booked_totals: dict[str, Decimal],
) -> bool:
    """Add the document's lines naming expected expenses; whether it named any."""
    named_any = False
    for line in document.lines:
        named = sorted(trace_words(line.trace) & expected.keys())
        if not named:
            continue
        named_any = True
        booked_totals[document.currency] += line.amount
        for expense_id in named:
            entry = found[expense_id].setdefault(document.remote_id, _Booked(document))
            if len(named) > 1 or entry.amount is None:
                entry.amount = None
            else:
                entry.amount += line.amount
    return named_any


def _report(
    since: date,
    until: date,
    expected: dict[str, _Expected],
    found: dict[str, dict[str, _Booked]],
    booked_totals: dict[str, Decimal],
    documents: int,
) -> BooksReport:
    report = BooksReport(since=since, until=until, expenses=len(expected), documents=documents)
    source_totals: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for expense_id, wanted in sorted(expected.items()):
        source_totals[wanted.currency] += wanted.amount
        booked = list(found.get(expense_id, {}).values())
        if not booked:
            report.missing.append(
                MissingExpense(expense_id, wanted.expense.report_id, wanted.currency, wanted.amount, wanted.reference)
            )
        elif len(booked) > 1:
            report.duplicated.append(
                DuplicatedExpense(
                    expense_id,
                    tuple(entry.document.reference for entry in booked),
                    tuple(entry.document.remote_id for entry in booked),
                )
            )
        else:
            [entry] = booked
            if entry.amount is not None and (entry.document.currency, entry.amount) != (wanted.currency, wanted.amount):
                report.differences.append(
                    AmountDifference(
                        expense_id,
                        entry.document.reference,
                        entry.document.remote_id,
                        entry.document.currency,
                        wanted.amount,
                        entry.amount,
                    )
                )
    for currency in sorted(source_totals.keys() | booked_totals.keys()):
        report.currencies.append(CurrencyTotal(currency, source_totals[currency], booked_totals[currency]))
    return report


async def _expected(
    database: Database, tenant_id: uuid.UUID, connection_id: uuid.UUID, since: date, until: date
) -> tuple[ExportSettings, dict[str, _Expected]]:
    """The destination's settings, and the source expenses they export that were spent in the range, by id."""
    async with database.tenant_session(tenant_id) as session:
        destination = await session.scalar(
            select(Connection.id).where(
                Connection.tenant_id == tenant_id,
                Connection.id == connection_id,
                Connection.role == ConnectionRole.DESTINATION.value,
            )
        )
        if destination is None:
            raise UnknownConnectionError(f"No destination connection {connection_id}.")
        stored = await current_settings(TenantRepository(session, tenant_id, "books-check"), connection_id)
        settings = stored.settings if stored is not None else ExportSettings()
        rows = await session.execute(
            select(SourceRecord.remote_id, SourceRecord.data, ExportItem.idempotency_key, ExportItem.state)
            .outerjoin(
                ExportItemRecord,
                and_(
                    ExportItemRecord.tenant_id == SourceRecord.tenant_id,
                    ExportItemRecord.source_record_id == SourceRecord.id,
                    ExportItemRecord.released_at.is_(None),
                ),
            )
            .outerjoin(
                ExportItem,
                and_(
                    ExportItem.tenant_id == ExportItemRecord.tenant_id,
                    ExportItem.id == ExportItemRecord.export_item_id,
                    ExportItem.destination_connection_id == connection_id,
                ),
            )
            .where(SourceRecord.tenant_id == tenant_id, SourceRecord.kind == RecordKind.EXPENSE.value)
        )
        return settings, dict(_exportable(rows.all(), settings, since, until))


def _exportable(
    rows: Iterable[tuple[str, dict[str, object], str | None, str | None]],
    settings: ExportSettings,
    since: date,
    until: date,
) -> Iterable[tuple[str, _Expected]]:
    for remote_id, data, reference, state in rows:
        if state == ExportState.SKIPPED.value:
            continue  # a person decided it stays out of the books
        try:
            expense = expense_from_json(dict(data))
        except ExpenseFormatError:
            continue  # unreadable: the pull engine already reports it
        if not since <= expense.spent_on <= until or exclusion_reason(expense, settings) is not None:
            continue
        currency, _ = document_currency(expense, settings)
        yield remote_id, _Expected(expense, currency, to_cents(source_amount(expense, settings)), reference)
