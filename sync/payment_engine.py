"""Payment sync: a document paid in the destination → its expense reports marked paid in the source.

Two sweeps, each resumable from the rows alone:

1. **Detect.** Succeeded bills and expense reports carrying reimbursable expenses, not yet seen paid
   (`paid_at IS NULL`, the `ix_export_items_unpaid` index), are asked about in chunks of the connector's batch size;
   each one the destination calls fully paid gets `paid_at`, audited.
2. **Write back.** Items paid but not yet told to the source (`paid_written_back_at IS NULL`) give the source
   reports of their expenses. A report is marked paid only when every one of its exportable reimbursable expenses
   is in a paid document (a report may be split over several documents): an expense a person skipped counts as
   settled, one the grouping left out by rule is not exportable, and one in no document yet holds the report back.
   Why a report waits is kept in the run's report. The items are marked told once all their reports are. A failed
   source call leaves them owed, so the next run tries again — the source takes a repeated mark-paid as a no-op.
"""

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from connectors.base import DestinationConnector, SourceConnector
from core.audit import append_event
from core.db import Database
from core.domain import DocumentKind, PaymentState, PaymentStatus, RecordKind
from core.errors import EngineAction, LedgerlineError
from core.log import get_logger
from core.models import ExportItem, ExportItemRecord, ExportState, SourceRecord
from sync.constants import (
    AUDIT_ITEM_PAID,
    AUDIT_ITEM_PAID_WRITTEN_BACK,
    PAYMENT_WRITE_BACK_BATCH,
    WAITING_REASONS_KEPT,
)
from sync.entity_routing import SENT_ENTITY, connector_in, grouped_by_entity

log = get_logger(__name__)

PAID_KINDS: tuple[DocumentKind, ...] = (DocumentKind.BILL, DocumentKind.EXPENSE_REPORT)
"""Documents someone pays in the destination to reimburse employees. Card transactions are settled with the card."""


@dataclass
class PaymentReport:
    checked: int = 0
    """Unpaid items whose status was asked."""
    newly_paid: int = 0
    partially_paid: int = 0
    reports_marked: int = 0
    """Source reports told they are paid."""
    items_written_back: int = 0
    mark_paid_calls: int = 0
    waiting_reports: int = 0
    """Reports with a paid item that wait for another expense of theirs to be in a paid document."""
    waiting: dict[str, str] = field(default_factory=dict)
    """Why some of those reports wait (the first `WAITING_REASONS_KEPT`): report id → a sentence."""
    write_back_error: str | None = None
    """Why the last write-back failed; its items stay owed and the next run retries them."""
    paid_item_ids: list[uuid.UUID] = field(default_factory=list)
    unreadable_entities: dict[str, str] = field(default_factory=dict)
    """Entities whose documents' status could not be read this run → why; their items are asked again next run."""


def _live_link() -> ColumnElement[bool]:
    return and_(
        SourceRecord.tenant_id == ExportItemRecord.tenant_id,
        SourceRecord.id == ExportItemRecord.source_record_id,
        ExportItemRecord.released_at.is_(None),
    )


def _report_of() -> ColumnElement[str | None]:
    """The source report of an expense record: its parent, else the report named in its data."""
    return func.coalesce(SourceRecord.parent_remote_id, SourceRecord.data["report_id"].astext)


def _reimbursable() -> ColumnElement[bool]:
    flag: ColumnElement[bool | None] = SourceRecord.data["is_reimbursable"].as_boolean()
    return flag.is_(True)


def carries_reimbursable(*where: ColumnElement[bool]) -> ColumnElement[bool]:
    """The export item has a live reimbursable expense (also matching `where`): someone owes the employee for it."""
    return exists(
        select(ExportItemRecord.export_item_id)
        .join(SourceRecord, _live_link())
        .where(
            ExportItemRecord.tenant_id == ExportItem.tenant_id,
            ExportItemRecord.export_item_id == ExportItem.id,
            _reimbursable(),
            *where,
        )
    )


async def sync_payments(
    database: Database,
    destination: DestinationConnector,
    source: SourceConnector | None,
    *,
    tenant_id: uuid.UUID,
    destination_connection_id: uuid.UUID,
    actor: str,
) -> PaymentReport:
    """Record what the destination paid, then tell the source (skipped when `source` is None)."""
    report = PaymentReport()
    for kind in PAID_KINDS:
        await _detect(database, destination, report, kind, tenant_id, destination_connection_id, actor)
    if source is not None:
        await _write_back(database, source, report, tenant_id, destination_connection_id, actor)
    return report


async def _detect(
    database: Database,
    destination: DestinationConnector,
    report: PaymentReport,
    kind: DocumentKind,
    tenant_id: uuid.UUID,
    destination_connection_id: uuid.UUID,
    actor: str,
) -> None:
    after: uuid.UUID | None = None
    while True:
        async with database.tenant_session(tenant_id) as session:
            query = (
                select(ExportItem.id, ExportItem.remote_id, SENT_ENTITY)
                .where(
                    ExportItem.tenant_id == tenant_id,
                    ExportItem.destination_connection_id == destination_connection_id,
                    ExportItem.state == ExportState.SUCCEEDED.value,
                    ExportItem.paid_at.is_(None),
                    ExportItem.document_type == kind.value,
                    ExportItem.remote_id.is_not(None),
                    carries_reimbursable(),
                )
                .order_by(ExportItem.id)
                .limit(destination.spec.batch_size)
            )
            if after is not None:
                query = query.where(ExportItem.id > after)
            chunk = [
                (item_id, remote_id, entity)
                for item_id, remote_id, entity in (await session.execute(query)).all()
                if remote_id
            ]
        if not chunk:
            return
        after = chunk[-1][0]
        report.checked += len(chunk)
        statuses: dict[uuid.UUID, PaymentStatus] = {}
        for entity, rows in grouped_by_entity(chunk, lambda row: row[2]):
            # Read where each document was posted: an entity's documents are seen only from inside it.
            try:
                read = await connector_in(destination, entity).payment_status(
                    kind, [remote_id for _, remote_id, _ in rows]
                )
            except LedgerlineError as error:
                if entity is None:  # the connection itself: the run fails as before
                    raise
                report.unreadable_entities[entity] = error.message  # one entity must not hold the others up
                continue
            by_remote_id = {status.remote_id: status for status in read}
            statuses.update(
                (item_id, by_remote_id[remote_id]) for item_id, remote_id, _ in rows if remote_id in by_remote_id
            )
        paid = [(item_id, status) for item_id, status in statuses.items() if _is_paid(status)]
        report.partially_paid += sum(1 for status in statuses.values() if status.state is PaymentState.PARTIALLY_PAID)
        if paid:
            async with database.tenant_session(tenant_id) as session:
                for item_id, status in paid:
                    data = {
                        "remote_id": status.remote_id,
                        "paid_amount": str(status.paid_amount),
                        "paid_on": status.paid_on.isoformat() if status.paid_on else None,
                    }
                    if await mark_item_paid(
                        session, tenant_id, item_id, actor=actor, action=AUDIT_ITEM_PAID, data=data
                    ):
                        report.newly_paid += 1
                        report.paid_item_ids.append(item_id)


def _is_paid(status: PaymentStatus | None) -> bool:
    return status is not None and status.state is PaymentState.PAID


async def mark_item_paid(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    item_id: uuid.UUID,
    *,
    actor: str,
    action: str,
    data: dict[str, Any],
    source_knows: bool = False,
) -> bool:
    """Set `paid_at` once, audited as `action`; False when another run saw it first. `source_knows` also settles the
    write-back, for a payment the source made itself."""
    values: dict[str, Any] = {"paid_at": func.now()}
    if source_knows:
        values["paid_written_back_at"] = func.now()
    marked = await session.scalar(
        update(ExportItem)
        .where(ExportItem.tenant_id == tenant_id, ExportItem.id == item_id, ExportItem.paid_at.is_(None))
        .values(values)
        .returning(ExportItem.id)
        .execution_options(synchronize_session=False)
    )
    if marked is None:  # another run saw it first
        return False
    await append_event(
        session,
        tenant_id=tenant_id,
        actor=actor,
        action=action,
        entity_type="export_items",
        entity_id=str(item_id),
        data=data,
    )
    return True


async def _write_back(
    database: Database,
    source: SourceConnector,
    report: PaymentReport,
    tenant_id: uuid.UUID,
    destination_connection_id: uuid.UUID,
    actor: str,
) -> None:
    source_connection_id = source.context.connection_id
    after: uuid.UUID | None = None
    while True:
        async with database.tenant_session(tenant_id) as session:
            items = await _owed_items(session, tenant_id, destination_connection_id, source_connection_id, after)
            if not items:
                return
            after = items[-1]
            reports_of = await _reports_of_items(session, tenant_id, source_connection_id, items)
            waiting = await _waiting_reports(
                session,
                tenant_id,
                source_connection_id,
                {report_id for ids in reports_of.values() for report_id in ids},
            )
        wanted = sorted({report_id for ids in reports_of.values() for report_id in ids})
        ready = [report_id for report_id in wanted if report_id not in waiting]
        report.waiting_reports += len(wanted) - len(ready)
        for report_id, reason in sorted(waiting.items())[: max(0, WAITING_REASONS_KEPT - len(report.waiting))]:
            report.waiting[report_id] = reason
        told = await _tell(source, ready, report) if ready else set()
        if told is None:
            return  # the source is unwell: everything stays owed for the next run
        done = [item_id for item_id in items if set(reports_of.get(item_id, ())) <= told]
        if done:
            async with database.tenant_session(tenant_id) as session:
                for item_id in done:
                    await _mark_written_back(session, tenant_id, item_id, sorted(reports_of.get(item_id, ())), actor)
            report.items_written_back += len(done)


async def _tell(source: SourceConnector, ready: list[str], report: PaymentReport) -> set[str] | None:
    """Mark `ready` paid in the source; the reports it accepted, or None when the source is failing as a whole.

    The source may refuse a whole batch for one report it cannot pay (Fyle's bulk writes are all or nothing): then
    each report goes alone, so one refusal does not hold the others back."""
    batches = [ready]
    told: set[str] = set()
    while batches:
        batch = batches.pop()
        report.mark_paid_calls += 1
        try:
            await source.mark_paid(batch)
        except LedgerlineError as exc:
            report.write_back_error = exc.message
            log.warning("mark_paid_failed", error_class=exc.error_class, reports=len(batch))
            if exc.action is not EngineAction.NEEDS_ACTION:
                return None
            if len(batch) > 1:
                batches.extend([report_id] for report_id in reversed(batch))
            continue
        told.update(batch)
        report.reports_marked += len(batch)
    return told


async def _owed_items(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    destination_connection_id: uuid.UUID,
    source_connection_id: uuid.UUID,
    after: uuid.UUID | None,
) -> list[uuid.UUID]:
    """Paid items not yet told to the source, exporting expenses of this source."""
    from_source = (
        select(ExportItemRecord.export_item_id)
        .join(SourceRecord, _live_link())
        .where(ExportItemRecord.tenant_id == tenant_id, SourceRecord.connection_id == source_connection_id)
    )
    query = (
        select(ExportItem.id)
        .where(
            ExportItem.tenant_id == tenant_id,
            ExportItem.destination_connection_id == destination_connection_id,
            ExportItem.paid_at.is_not(None),
            ExportItem.paid_written_back_at.is_(None),
            ExportItem.id.in_(from_source),
        )
        .order_by(ExportItem.id)
        .limit(PAYMENT_WRITE_BACK_BATCH)
    )
    if after is not None:
        query = query.where(ExportItem.id > after)
    return list((await session.scalars(query)).all())


async def _reports_of_items(
    session: AsyncSession, tenant_id: uuid.UUID, source_connection_id: uuid.UUID, items: Sequence[uuid.UUID]
) -> dict[uuid.UUID, set[str]]:
    """item → the source reports of its reimbursable expenses (none for expenses outside any report)."""
    rows = await session.execute(
        select(ExportItemRecord.export_item_id, _report_of())
        .join(SourceRecord, _live_link())
        .where(
            ExportItemRecord.tenant_id == tenant_id,
            ExportItemRecord.export_item_id.in_(items),
            SourceRecord.connection_id == source_connection_id,
            SourceRecord.kind == RecordKind.EXPENSE.value,
            _reimbursable(),
        )
    )
    found: dict[uuid.UUID, set[str]] = defaultdict(set)
    for item_id, report_id in rows.all():
        if report_id:
            found[item_id].add(report_id)
    return found


async def _waiting_reports(
    session: AsyncSession, tenant_id: uuid.UUID, source_connection_id: uuid.UUID, report_ids: set[str]
) -> dict[str, str]:
    """Of `report_ids`, those with an exportable reimbursable expense not yet in a paid document, and why.

    Settled: an expense in a paid document, or in an item a person skipped. Not exportable: an expense the grouping
    left out by rule (`skip_reason`). Waiting: an expense in an unpaid document, or exportable and in no document."""
    if not report_ids:
        return {}
    report = _report_of()
    in_item = ExportItem.id.is_not(None)
    unpaid = func.count().filter(in_item, ExportItem.state != ExportState.SKIPPED.value, ExportItem.paid_at.is_(None))
    unexported = func.count().filter(ExportItem.id.is_(None), SourceRecord.skip_reason.is_(None))
    rows = await session.execute(
        select(report, unpaid, unexported)
        .select_from(SourceRecord)
        .outerjoin(ExportItemRecord, _live_link())
        .outerjoin(
            ExportItem,
            and_(ExportItem.tenant_id == ExportItemRecord.tenant_id, ExportItem.id == ExportItemRecord.export_item_id),
        )
        .where(
            SourceRecord.tenant_id == tenant_id,
            SourceRecord.connection_id == source_connection_id,
            SourceRecord.kind == RecordKind.EXPENSE.value,
            _reimbursable(),
            report.in_(sorted(report_ids)),
        )
        .group_by(report)
    )
    waiting: dict[str, str] = {}
    for report_id, in_unpaid, in_none in rows.all():
        reasons = [
            *([f"{_expenses(in_unpaid)} in a document not paid yet"] if in_unpaid else []),
            *([f"{_expenses(in_none)} in no document yet"] if in_none else []),
        ]
        if report_id and reasons:
            waiting[report_id] = " and ".join(reasons).capitalize() + "."
    return waiting


def _expenses(count: int) -> str:
    return f"{count} expense" if count == 1 else f"{count} expenses"


async def _mark_written_back(
    session: AsyncSession, tenant_id: uuid.UUID, item_id: uuid.UUID, report_ids: list[str], actor: str
) -> None:
    await session.execute(
        update(ExportItem)
        .where(ExportItem.tenant_id == tenant_id, ExportItem.id == item_id)
        .values(paid_written_back_at=datetime.now(UTC))
        .execution_options(synchronize_session=False)
    )
    await append_event(
        session,
        tenant_id=tenant_id,
        actor=actor,
        action=AUDIT_ITEM_PAID_WRITTEN_BACK,
        entity_type="export_items",
        entity_id=str(item_id),
        data={"reports": report_ids},
    )
