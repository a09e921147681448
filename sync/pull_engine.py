"""The pull engine: a source connection's expenses into `source_records`, incrementally by the stream's cursor.

Per page of records (`PULL_PAGE_ROWS`), in one transaction:
1. translate each record with the connector's `to_expense`; one it cannot read is kept anyway, raw, with the reason
   (in `data` and `skip_reason`) and counted — bad input is never lost and never stops the pull;
2. upsert by `(connection_id, kind, remote_id)`, rewriting a row only when its fingerprint (a hash of the canonical
   JSON) changed and the incoming version is not older than the stored one;
3. a changed record that an export item has sent, or may have sent (any item that is not `movable`), is not
   exported again: it is flagged `changed_after_export` for a person, with an audit event;
4. move the stream cursor to the page's latest `updated_at`, in the same transaction as the rows.

The stream comes oldest first, so a crash loses nothing and re-reads at most one page: every record not yet
committed was updated at or after the saved cursor. Records at exactly the cursor are read again by the next pull
(`updated_at >= cursor`), which is harmless because the upsert is idempotent. Pulls of one connection serialise
their page transactions on an advisory lock, and the cursor only moves forward.
"""

import asyncio
import hashlib
import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from connectors.base import SourceConnector
from core.bulk import among
from core.db import Database
from core.domain import Expense, RecordKind, SourceItem
from core.errors import ValidationError
from core.log import get_logger
from core.models import ExportItem, ExportItemRecord, SourceRecord, StreamCursor
from core.repository import TenantRepository
from mappings.expense_cache import EXPENSES
from mappings.expense_json import ExpenseFormatError, expense_from_json, expense_to_json
from mappings.grouping import exclusion_reason
from mappings.settings import ExportSettings
from mappings.settings_store import current_settings
from mappings.source_expenses import movable
from sync.constants import (
    AUDIT_CHANGED_AFTER_EXPORT,
    LIFECYCLE_FIELDS,
    PULL_EXPENSE_STREAM,
    PULL_LOCK_NAMESPACE,
    PULL_PAGE_ROWS,
    UNREADABLE_DATA_KEY,
    UNREADABLE_SOURCE_KEY,
)

log = get_logger(__name__)

UNREADABLE_REASON = "unreadable: {problem}"
"""`skip_reason` of a record the source connector could not translate."""


@dataclass
class PullReport:
    """What one pull did. `created + updated + unchanged` counts distinct records; `unreadable` counts those read
    this time that could not be translated (they are stored too, so they are in the other counts as well)."""

    read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    changed_after_export: int = 0
    unreadable: int = 0
    cursor: datetime | None = None
    """Where the next pull starts: the latest `updated_at` committed (None when nothing was ever pulled)."""


@dataclass(frozen=True, slots=True)
class Incoming:
    """One record read from the stream, ready to store."""

    remote_id: str
    updated_at: datetime
    parent_remote_id: str | None
    state: str | None
    data: dict[str, Any]
    data_json: str
    """`data` as stored (`canonical_json`), written once for the fingerprint and the insert alike."""
    fingerprint: str
    """SHA-256 of `data_json`."""
    expense: Expense | None
    problem: str | None
    """Why the connector could not read it (then `expense` is None and `data` keeps the raw record)."""


@dataclass(frozen=True, slots=True)
class _Stored:
    id: uuid.UUID
    fingerprint: str
    data: dict[str, Any]
    remote_updated_at: datetime | None


@dataclass(frozen=True, slots=True)
class _SentLink:
    item_id: uuid.UUID
    destination_connection_id: uuid.UUID


def canonical_json(data: dict[str, Any]) -> str:
    """Sorted keys, no spaces: equal data, equal text, whatever the order. Stored as is, and fingerprinted."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def translate(connector: SourceConnector, item: SourceItem) -> Incoming:
    """The record as stored: the expense's JSON, or — when the connector cannot read it, or what it made would not
    read back the same — the raw record with the reason."""
    expense: Expense | None = None
    problem: str | None = None
    try:
        expense = connector.to_expense(item)
        data = expense_to_json(expense)
        if expense_from_json(data) != expense:
            raise ExpenseFormatError("the translated expense does not read back the same")
    except ValidationError as exc:
        expense, problem = None, exc.message
    except ExpenseFormatError as exc:
        expense, problem = None, f"the translated expense is not storable: {exc}"
    if expense is None:
        data = {UNREADABLE_DATA_KEY: problem, UNREADABLE_SOURCE_KEY: item.data}
    data_json = canonical_json(data)
    fingerprint = hashlib.sha256(data_json.encode()).hexdigest()
    if expense is not None:
        EXPENSES.put(fingerprint, expense)  # grouping reads it next: it need not decode the JSON just written
    return Incoming(
        remote_id=item.remote_id,
        updated_at=item.updated_at,
        parent_remote_id=expense.report_id if expense is not None else item.parent_remote_id,
        state=expense.state if expense is not None else item.state,
        data=data,
        data_json=data_json,
        fingerprint=fingerprint,
        expense=expense,
        problem=problem,
    )


def _readable(data: dict[str, Any]) -> Expense | None:
    try:
        return expense_from_json(data)
    except ExpenseFormatError:
        return None


def material_changes(before: Expense | None, after: Expense | None, settings: ExportSettings | None) -> list[str]:
    """The fields whose change makes an exported expense's document wrong; empty when the change is only the
    expense going on through its life (approved → paid) and it is still exportable under `settings`."""
    if before is None or after is None:
        return ["data"]
    changed = [field.name for field in fields(Expense) if getattr(before, field.name) != getattr(after, field.name)]
    material = [name for name in changed if name not in LIFECYCLE_FIELDS]
    if material:
        return material
    moved = [name for name in changed if name != "updated_at"]
    if moved and (settings is None or exclusion_reason(after, settings) is not None):
        return moved
    return []


async def read_cursor(
    database: Database, *, tenant_id: uuid.UUID, connection_id: uuid.UUID, stream: str = PULL_EXPENSE_STREAM
) -> datetime | None:
    async with database.tenant_session(tenant_id) as session:
        return await _cursor(session, tenant_id, connection_id, stream)


async def _cursor(
    session: AsyncSession, tenant_id: uuid.UUID, connection_id: uuid.UUID, stream: str
) -> datetime | None:
    stored = await session.scalar(
        select(StreamCursor.cursor).where(
            StreamCursor.tenant_id == tenant_id,
            StreamCursor.connection_id == connection_id,
            StreamCursor.stream == stream,
        )
    )
    return datetime.fromisoformat(stored) if stored else None


async def _save_cursor(
    session: AsyncSession, tenant_id: uuid.UUID, connection_id: uuid.UUID, stream: str, moment: datetime
) -> datetime:
    """Move the cursor to `moment`, never backwards (a slower concurrent pull may commit an older page last)."""
    current = await _cursor(session, tenant_id, connection_id, stream)
    if current is not None and current >= moment:
        return current
    statement = insert(StreamCursor).values(
        tenant_id=tenant_id, connection_id=connection_id, stream=stream, cursor=moment.isoformat()
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[StreamCursor.connection_id, StreamCursor.stream],
            set_={"cursor": statement.excluded.cursor, "updated_at": func.now()},
        )
    )
    return moment


async def _stored(session: AsyncSession, connection_id: uuid.UUID, remote_ids: Sequence[str]) -> dict[str, _Stored]:
    rows = await session.execute(
        select(
            SourceRecord.remote_id,
            SourceRecord.id,
            SourceRecord.fingerprint,
            SourceRecord.data,
            SourceRecord.remote_updated_at,
        ).where(
            SourceRecord.connection_id == connection_id,
            SourceRecord.kind == RecordKind.EXPENSE.value,
            among(SourceRecord.remote_id, remote_ids),
        )
    )
    return {remote_id: _Stored(*rest) for remote_id, *rest in rows.all()}


async def _sent_links(
    session: AsyncSession, tenant_id: uuid.UUID, record_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, _SentLink]:
    """The live item of each record, where that item was sent or may have been (it is not movable).

    The items are row-locked first (in id order, as a worker's claim would meet them), so none is claimed and sent
    with the old data between this look and the commit: a claim skips locked rows, and one already made shows."""
    wanted = list(record_ids)
    if not wanted:
        return {}
    link = and_(
        ExportItemRecord.tenant_id == ExportItem.tenant_id,
        ExportItemRecord.export_item_id == ExportItem.id,
        ExportItemRecord.released_at.is_(None),
        among(ExportItemRecord.source_record_id, wanted),
    )
    scoped = ExportItem.tenant_id == tenant_id
    locked = (
        await session.scalars(
            select(ExportItem.id)
            .join(ExportItemRecord, link)
            .where(scoped)
            .order_by(ExportItem.id)
            .with_for_update(of=ExportItem)
        )
    ).all()
    if not locked:
        return {}
    rows = await session.execute(
        select(ExportItemRecord.source_record_id, ExportItem.id, ExportItem.destination_connection_id)
        .join(ExportItemRecord, link)
        .where(scoped, among(ExportItem.id, locked), ~movable())
    )
    return {record_id: _SentLink(item_id, destination_id) for record_id, item_id, destination_id in rows.all()}


_UPSERT = text(
    """
    INSERT INTO source_records (id, tenant_id, connection_id, kind, remote_id, parent_remote_id, remote_state, data,
                                fingerprint, skip_reason, remote_updated_at)
    SELECT page.id, :tenant_id, :connection_id, :kind, page.remote_id, page.parent_remote_id, page.remote_state,
           CAST(page.data AS jsonb), page.fingerprint, page.skip_reason, page.remote_updated_at
    FROM unnest(CAST(:ids AS uuid[]), CAST(:remote_ids AS text[]), CAST(:parent_remote_ids AS text[]),
                CAST(:remote_states AS text[]), string_to_array(CAST(:datas AS text), E'\n'),
                CAST(:fingerprints AS text[]), CAST(:skip_reasons AS text[]),
                CAST(:remote_updated_ats AS timestamptz[]))
         AS page (id, remote_id, parent_remote_id, remote_state, data, fingerprint, skip_reason, remote_updated_at)
    ON CONFLICT (connection_id, kind, remote_id) DO UPDATE SET
        parent_remote_id = excluded.parent_remote_id,
        remote_state = excluded.remote_state,
        data = excluded.data,
        fingerprint = excluded.fingerprint,
        skip_reason = excluded.skip_reason,
        remote_updated_at = excluded.remote_updated_at,
        updated_at = now()
    -- Only a real change, and never an older version over a newer one (a slow concurrent pull).
    WHERE source_records.fingerprint <> excluded.fingerprint
      AND (source_records.remote_updated_at IS NULL OR excluded.remote_updated_at >= source_records.remote_updated_at)
    RETURNING remote_id, id
    """
)
"""One short statement whatever the page's size: the rows go as one array per column. A multi-row VALUES statement
is as long as the page, and the driver parses such a statement anew every time (a quarter of a pull's CPU).

The data go as one text, a line per record: canonical JSON never holds a raw newline, and the driver would escape
every quote of every record to send them as an array (an eighth of a pull's CPU)."""


async def _upsert(
    session: AsyncSession, tenant_id: uuid.UUID, connection_id: uuid.UUID, page: Sequence[Incoming]
) -> dict[str, tuple[uuid.UUID, bool]]:
    """Insert new records, rewrite changed ones; remote id → (row id, inserted) of the rows written."""
    proposed = {incoming.remote_id: uuid.uuid4() for incoming in page}
    written = await session.execute(
        _UPSERT,
        {
            "tenant_id": tenant_id,
            "connection_id": connection_id,
            "kind": RecordKind.EXPENSE.value,
            "ids": [proposed[incoming.remote_id] for incoming in page],
            "remote_ids": [incoming.remote_id for incoming in page],
            "parent_remote_ids": [incoming.parent_remote_id for incoming in page],
            "remote_states": [incoming.state for incoming in page],
            "datas": "\n".join(incoming.data_json for incoming in page),
            "fingerprints": [incoming.fingerprint for incoming in page],
            "skip_reasons": [
                UNREADABLE_REASON.format(problem=incoming.problem) if incoming.problem else None for incoming in page
            ],
            "remote_updated_ats": [incoming.updated_at for incoming in page],
        },
    )
    return {remote_id: (record_id, record_id == proposed[remote_id]) for remote_id, record_id in written.all()}


async def _flag(
    repository: TenantRepository,
    *,
    connection_id: uuid.UUID,
    flagged: dict[uuid.UUID, tuple[_SentLink, list[str]]],
) -> None:
    if not flagged:
        return
    session = repository.session
    await session.execute(
        update(SourceRecord)
        .where(SourceRecord.tenant_id == repository.tenant_id, SourceRecord.id.in_(list(flagged)))
        .values(changed_after_export=True)
    )
    records = await session.scalars(
        repository.scoped(SourceRecord).where(SourceRecord.id.in_(list(flagged))).order_by(SourceRecord.remote_id)
    )
    for record in records:
        link, changed = flagged[record.id]
        await repository.audit(
            AUDIT_CHANGED_AFTER_EXPORT,
            entity=record,
            data={
                "connection_id": str(connection_id),
                "remote_id": record.remote_id,
                "export_item_id": str(link.item_id),
                "destination_connection_id": str(link.destination_connection_id),
                "changed": changed,
            },
        )


async def _write_page(
    database: Database,
    *,
    tenant_id: uuid.UUID,
    connection_id: uuid.UUID,
    actor: str,
    page: Sequence[Incoming],
    report: PullReport,
) -> None:
    async with database.tenant_session(tenant_id) as session:
        repository = TenantRepository(session, tenant_id, actor)
        lock_key = func.hashtext(f"{connection_id}:{PULL_EXPENSE_STREAM}")
        await session.execute(select(func.pg_advisory_xact_lock(PULL_LOCK_NAMESPACE, lock_key)))
        stored = await _stored(session, connection_id, [incoming.remote_id for incoming in page])
        changing = {
            incoming.remote_id: stored[incoming.remote_id]
            for incoming in page
            if incoming.remote_id in stored and stored[incoming.remote_id].fingerprint != incoming.fingerprint
        }
        sent = await _sent_links(session, tenant_id, [row.id for row in changing.values()])
        written = await _upsert(session, tenant_id, connection_id, page)

        settings: dict[uuid.UUID, ExportSettings | None] = {}
        flagged: dict[uuid.UUID, tuple[_SentLink, list[str]]] = {}
        for incoming in page:
            if incoming.remote_id not in written:
                report.unchanged += 1
                continue
            record_id, inserted = written[incoming.remote_id]
            if inserted:
                report.created += 1
                continue
            report.updated += 1
            link = sent.get(record_id)
            if link is None or incoming.remote_id not in changing:
                continue
            if link.destination_connection_id not in settings:
                current = await current_settings(repository, link.destination_connection_id)
                settings[link.destination_connection_id] = current.settings if current is not None else None
            before = _readable(changing[incoming.remote_id].data)
            changed = material_changes(before, incoming.expense, settings[link.destination_connection_id])
            if changed:
                flagged[record_id] = (link, changed)
        await _flag(repository, connection_id=connection_id, flagged=flagged)
        report.changed_after_export += len(flagged)
        newest = max(incoming.updated_at for incoming in page)
        report.cursor = await _save_cursor(session, tenant_id, connection_id, PULL_EXPENSE_STREAM, newest)


async def pull_expenses(
    database: Database,
    connector: SourceConnector,
    *,
    tenant_id: uuid.UUID,
    connection_id: uuid.UUID,
    actor: str,
    page_rows: int = PULL_PAGE_ROWS,
) -> PullReport:
    """Pull the connection's expenses changed since its cursor. A failure of the source (`Transient`, `AuthError`,
    …) propagates after the pages read so far are committed: the next pull resumes from there."""
    report = PullReport()
    since = await read_cursor(database, tenant_id=tenant_id, connection_id=connection_id)
    report.cursor = since
    page: dict[str, Incoming] = {}
    writing: asyncio.Task[None] | None = None

    async def flush() -> None:
        """Write the page while the next one is read: the source, this process and the database work at once.
        Pages are still written one after another, in order, so the saved cursor only moves forward."""
        nonlocal writing
        if writing is not None:
            await writing
        rows = list(page.values())
        page.clear()
        writing = asyncio.create_task(
            _write_page(
                database, tenant_id=tenant_id, connection_id=connection_id, actor=actor, page=rows, report=report
            )
        )

    try:
        async for item in connector.stream(PULL_EXPENSE_STREAM, since=since):
            report.read += 1
            incoming = translate(connector, item)
            if incoming.problem is not None:
                report.unreadable += 1
                log.warning(
                    "pull.unreadable_record",
                    connection_id=str(connection_id),
                    remote_id=item.remote_id,
                    problem=incoming.problem,
                )
            # A record read twice in one page (updated while the stream ran) is written once, as last read.
            page.pop(item.remote_id, None)
            page[item.remote_id] = incoming
            if len(page) >= page_rows:
                await flush()
        if page:
            await flush()
    finally:  # a failing source still leaves the pages read so far committed
        if writing is not None:
            await writing
    log.info("pull.done", connection_id=str(connection_id), **_counts(report))
    return report


def _counts(report: PullReport) -> dict[str, int]:
    return {
        "read": report.read,
        "created": report.created,
        "updated": report.updated,
        "unchanged": report.unchanged,
        "changed_after_export": report.changed_after_export,
        "unreadable": report.unreadable,
    }
