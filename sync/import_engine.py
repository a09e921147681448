"""Dimension import: the destination's accounts, vendors, projects… into `destination_attributes`, incrementally.

Per dimension type, a cursor (`stream_cursors`, stream `dimensions:<type>`) holds the destination's latest
modification time seen; the next run asks only for what changed since. Values are upserted a page per transaction,
and a page that changes nothing writes nothing.

A destination's "changed since" query never shows a deletion, so a **full pass** (no cursor yet, asked for, or the
last one older than `FULL_IMPORT_EVERY_SECONDS`, kept under stream `dimensions:<type>:full`) reads everything and
marks every active value it did not see as inactive. A value seen again is written as the destination shows it,
so a re-added value comes back active.

Destinations promise no order for their reads, so the cursor only moves in the transaction of a pass's last page:
an interrupted pass is read again from the old cursor, and upserts make that harmless.

After an import that created or changed values, the tenant's auto-map rules run again (`mappings.auto_map`): a new
vendor or account may be the one an employee or category was waiting for, and saving that mapping releases the
export items waiting on it in `needs_action`.

`push_dimensions_to_source` mirrors stored values into the source (Fyle categories, projects, cost centers).
"""

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Boolean, func, literal_column, or_, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from connectors.base import DestinationConnector, SourceConnector
from connectors.registry import destination_vocabulary
from core.audit import append_event
from core.db import Database
from core.destination_vocabulary import DestinationVocabulary
from core.domain import DimensionValue
from core.errors import EngineAction, LedgerlineError
from core.log import get_logger
from core.models import DestinationAttribute, StreamCursor
from core.repository import TenantRepository
from mappings.automap import auto_map
from mappings.settings_store import current_settings
from sync.constants import (
    AUDIT_DIMENSIONS_IMPORTED,
    DIMENSION_FULL_STREAM,
    DIMENSION_PUSHED_STREAM,
    DIMENSION_STREAM,
    FULL_IMPORT_EVERY_SECONDS,
    IMPORT_PAGE_ROWS,
)

log = get_logger(__name__)

_COMPARED = ("name", "code", "active", "detail", "remote_updated_at")
"""The columns an import writes; a row whose values all match is left untouched."""


@dataclass
class TypeImport:
    """What one dimension type's import did."""

    attribute_type: str
    full: bool = False
    read: int = 0
    created: int = 0
    updated: int = 0
    deactivated: int = 0
    """Active values a full pass no longer found in the destination."""
    error: str | None = None
    """Why this type was not imported (a type the company lacks, a permission); the other types went on."""

    @property
    def changed(self) -> int:
        return self.created + self.updated + self.deactivated


@dataclass
class ImportReport:
    types: dict[str, TypeImport] = field(default_factory=dict)
    auto_mapped: int = 0
    """Mappings the auto-map rules could make with the imported values."""
    released_item_ids: tuple[uuid.UUID, ...] = ()
    """Export items that were waiting on those mappings and are pending again."""

    @property
    def changed(self) -> int:
        return sum(counts.changed for counts in self.types.values())


@dataclass
class _Pass:
    counts: TypeImport
    since: datetime | None
    started_at: datetime
    """The database's clock when the pass began: rows written after it by someone else are not this pass's to
    judge."""
    latest: datetime | None = None
    seen: set[str] = field(default_factory=set)
    page: dict[str, DimensionValue] = field(default_factory=dict)


async def import_dimensions(
    database: Database,
    connector: DestinationConnector,
    *,
    tenant_id: uuid.UUID,
    connection_id: uuid.UUID,
    actor: str,
    attribute_types: Sequence[str] | None = None,
    full: bool = False,
) -> ImportReport:
    """Import every dimension type of the connection (or `attribute_types`), incrementally unless `full`.

    A type the destination refuses for good (`needs_action` errors) is reported and skipped; an error of the
    whole connection (auth, rate limit, outage) is raised, with every page read so far kept.
    """
    report = ImportReport()
    types = tuple(attribute_types) if attribute_types is not None else await connector.attribute_types()
    for attribute_type in types:
        counts = TypeImport(attribute_type)
        report.types[attribute_type] = counts
        try:
            await _import_type(database, connector, counts, tenant_id, connection_id, actor, force_full=full)
        except LedgerlineError as exc:
            if exc.action is not EngineAction.NEEDS_ACTION:
                raise
            counts.error = exc.message
            log.warning("dimension_import_refused", attribute_type=attribute_type, error_class=exc.error_class)
    if any(counts.created or counts.updated for counts in report.types.values()):
        await _auto_map(database, report, tenant_id, connection_id, actor, destination_vocabulary(connector.system))
    return report


async def _import_type(
    database: Database,
    connector: DestinationConnector,
    counts: TypeImport,
    tenant_id: uuid.UUID,
    connection_id: uuid.UUID,
    actor: str,
    *,
    force_full: bool,
) -> None:
    stream = DIMENSION_STREAM.format(attribute_type=counts.attribute_type)
    full_stream = DIMENSION_FULL_STREAM.format(attribute_type=counts.attribute_type)
    async with database.tenant_session(tenant_id) as session:
        cursors = await _cursors(session, connection_id, (stream, full_stream))
        started_at: datetime = (await session.execute(select(func.now()))).scalar_one()
    since = _parse(cursors.get(stream))
    last_full = _parse(cursors.get(full_stream))
    counts.full = (
        force_full
        or since is None
        or last_full is None
        or started_at - last_full >= timedelta(seconds=FULL_IMPORT_EVERY_SECONDS)
    )
    work = _Pass(counts, since=None if counts.full else since, started_at=started_at)
    async for value in connector.import_dimensions(counts.attribute_type, since=work.since):
        counts.read += 1
        work.page[value.remote_id] = value  # a value read twice in one page: the later read wins
        if value.updated_at is not None and (work.latest is None or value.updated_at > work.latest):
            work.latest = value.updated_at
        if counts.full:
            work.seen.add(value.remote_id)
        if len(work.page) >= IMPORT_PAGE_ROWS:
            async with database.tenant_session(tenant_id) as session:
                await _upsert(session, work, tenant_id, connection_id)
    async with database.tenant_session(tenant_id) as session:
        await _upsert(session, work, tenant_id, connection_id)
        if counts.full:
            await _deactivate_unseen(session, work, connection_id)
            await _save_cursor(session, tenant_id, connection_id, full_stream, started_at.isoformat())
        newest = max((moment for moment in (work.latest, since) if moment is not None), default=None)
        if newest is not None:
            await _save_cursor(session, tenant_id, connection_id, stream, newest.isoformat())
        if counts.changed:
            await append_event(
                session,
                tenant_id=tenant_id,
                actor=actor,
                action=AUDIT_DIMENSIONS_IMPORTED,
                entity_type="connections",
                entity_id=str(connection_id),
                data={
                    "attribute_type": counts.attribute_type,
                    "full": counts.full,
                    "created": counts.created,
                    "updated": counts.updated,
                    "deactivated": counts.deactivated,
                },
            )


async def _cursors(session: AsyncSession, connection_id: uuid.UUID, streams: Sequence[str]) -> dict[str, str]:
    rows = await session.execute(
        select(StreamCursor.stream, StreamCursor.cursor).where(
            StreamCursor.connection_id == connection_id, StreamCursor.stream.in_(streams)
        )
    )
    return {stream: cursor for stream, cursor in rows.all()}


def _parse(cursor: str | None) -> datetime | None:
    if not cursor:
        return None
    moment = datetime.fromisoformat(cursor)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


async def _save_cursor(
    session: AsyncSession, tenant_id: uuid.UUID, connection_id: uuid.UUID, stream: str, cursor: str
) -> None:
    statement = insert(StreamCursor).values(
        tenant_id=tenant_id, connection_id=connection_id, stream=stream, cursor=cursor
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[StreamCursor.connection_id, StreamCursor.stream],
            set_={"cursor": statement.excluded.cursor, "updated_at": func.now()},
        )
    )


def _row(value: DimensionValue, tenant_id: uuid.UUID, connection_id: uuid.UUID) -> dict[str, Any]:
    return {
        "id": uuid.uuid4(),
        "tenant_id": tenant_id,
        "connection_id": connection_id,
        "attribute_type": value.attribute_type,
        "remote_id": value.remote_id,
        "name": value.name,
        "code": value.code,
        "active": value.active,
        "detail": dict(value.detail),
        "remote_updated_at": value.updated_at,
    }


async def _upsert(session: AsyncSession, work: _Pass, tenant_id: uuid.UUID, connection_id: uuid.UUID) -> None:
    """Insert new values, update changed ones, leave equal ones alone; counts from what the database did."""
    if not work.page:
        return
    statement = insert(DestinationAttribute).values(
        [_row(value, tenant_id, connection_id) for value in work.page.values()]
    )
    excluded = statement.excluded
    table = DestinationAttribute.__table__.c
    statement = statement.on_conflict_do_update(
        index_elements=[
            DestinationAttribute.connection_id,
            DestinationAttribute.attribute_type,
            DestinationAttribute.remote_id,
        ],
        set_={**{column: excluded[column] for column in _COMPARED}, "updated_at": func.now()},
        where=or_(*(table[column].is_distinct_from(excluded[column]) for column in _COMPARED)),
    )
    # `xmax = 0` only for a freshly inserted row; untouched (unchanged) rows are not returned at all.
    written = await session.execute(
        statement.returning(DestinationAttribute.remote_id, literal_column("xmax = 0", Boolean))
    )
    for _, inserted in written.all():
        if inserted:
            work.counts.created += 1
        else:
            work.counts.updated += 1
    work.page.clear()


async def _deactivate_unseen(session: AsyncSession, work: _Pass, connection_id: uuid.UUID) -> None:
    """After a full pass: every active value of the type that the pass did not see is gone from the destination."""
    active = await session.scalars(
        select(DestinationAttribute.remote_id).where(
            DestinationAttribute.connection_id == connection_id,
            DestinationAttribute.attribute_type == work.counts.attribute_type,
            DestinationAttribute.active.is_(True),
            DestinationAttribute.updated_at < work.started_at,
        )
    )
    gone = sorted(set(active.all()) - work.seen)
    for start in range(0, len(gone), IMPORT_PAGE_ROWS):
        await session.execute(
            update(DestinationAttribute)
            .where(
                DestinationAttribute.connection_id == connection_id,
                DestinationAttribute.attribute_type == work.counts.attribute_type,
                DestinationAttribute.remote_id.in_(gone[start : start + IMPORT_PAGE_ROWS]),
            )
            .values(active=False, updated_at=func.now())
            .execution_options(synchronize_session=False)
        )
    work.counts.deactivated += len(gone)


async def _auto_map(
    database: Database,
    report: ImportReport,
    tenant_id: uuid.UUID,
    connection_id: uuid.UUID,
    actor: str,
    vocabulary: DestinationVocabulary,
) -> None:
    """Run the tenant's auto-map rules again; saving what they match releases the items waiting on it."""
    async with database.tenant_session(tenant_id) as session:
        repository = TenantRepository(session, tenant_id, actor)
        stored = await current_settings(repository, connection_id)
        if stored is None:
            return
        rules = stored.settings.auto_map
        if rules.employees is None and rules.categories is None:
            return
        result, saved = await auto_map(
            repository, destination_connection_id=connection_id, settings=stored.settings, vocabulary=vocabulary
        )
    report.auto_mapped = len(result.mapped)
    report.released_item_ids = saved.released_item_ids if saved is not None else ()


async def push_dimensions_to_source(
    database: Database,
    source: SourceConnector,
    *,
    tenant_id: uuid.UUID,
    destination_connection_id: uuid.UUID,
    pushes: Mapping[str, str],
) -> dict[str, int]:
    """Mirror imported values into the source: `pushes` maps a destination type to the source's dimension
    (`{"account": "categories", "project": "projects", "department": "cost_centers"}` for Fyle).

    Only values changed since the last push of the type are sent (cursor `dimensions:<type>:pushed`), inactive ones
    included so the source disables them too. Sources take these writes as upserts by name, so a push interrupted
    before its cursor moved is simply sent again. Returns how many values went out per destination type.
    """
    sent: dict[str, int] = {}
    for attribute_type, source_type in pushes.items():
        stream = DIMENSION_PUSHED_STREAM.format(attribute_type=attribute_type)
        async with database.tenant_session(tenant_id) as session:
            after = _position((await _cursors(session, destination_connection_id, (stream,))).get(stream))
        sent[attribute_type] = 0
        while True:
            async with database.tenant_session(tenant_id) as session:
                query = (
                    select(DestinationAttribute)
                    .where(
                        DestinationAttribute.connection_id == destination_connection_id,
                        DestinationAttribute.attribute_type == attribute_type,
                    )
                    .order_by(DestinationAttribute.updated_at, DestinationAttribute.id)
                    .limit(IMPORT_PAGE_ROWS)
                )
                if after is not None:
                    query = query.where(tuple_(DestinationAttribute.updated_at, DestinationAttribute.id) > after)
                rows = (await session.scalars(query)).all()
            if not rows:
                break
            await source.push_dimensions(source_type, [_dimension_value(row) for row in rows])
            sent[attribute_type] += len(rows)
            after = (rows[-1].updated_at, rows[-1].id)
            async with database.tenant_session(tenant_id) as session:
                cursor = f"{after[0].isoformat()}{_POSITION_SEPARATOR}{after[1]}"
                await _save_cursor(session, tenant_id, destination_connection_id, stream, cursor)
    return sent


_POSITION_SEPARATOR = "|"
"""A push cursor is `<updated_at>|<id>`: values written in one transaction share a stamp, so the stamp alone
cannot say where a page ended."""


def _position(cursor: str | None) -> tuple[datetime, uuid.UUID] | None:
    if not cursor:
        return None
    stamp, _, row_id = cursor.partition(_POSITION_SEPARATOR)
    moment = _parse(stamp)
    return (moment, uuid.UUID(row_id)) if moment is not None and row_id else None


def _dimension_value(row: DestinationAttribute) -> DimensionValue:
    return DimensionValue(
        attribute_type=row.attribute_type,
        remote_id=row.remote_id,
        name=row.name,
        active=row.active,
        code=row.code,
        detail=dict(row.detail or {}),
        updated_at=row.remote_updated_at,
    )
