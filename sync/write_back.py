"""Write-back: tell the source what became of each expense — exported (with a link), needing action, or skipped.

Owed statuses are rows, not messages: an item owes one whenever it finishes (`status_written_back_at` is cleared)
and stops owing only after the source accepted it, so a failed or interrupted write-back is simply retried by the
next run. Sources take these writes as upserts on the expense, so sending one twice is harmless.
"""

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import and_, select, update

from connectors.base import SourceConnector
from core.db import Database
from core.domain import ExportOutcome, ExportStatus, RecordKind
from core.models import ExportItem, ExportItemRecord, ExportState, SourceRecord
from sync.constants import WRITE_BACK_BATCH

_OUTCOMES = {
    ExportState.SUCCEEDED.value: ExportOutcome.COMPLETE,
    ExportState.NEEDS_ACTION.value: ExportOutcome.ERROR,
    ExportState.SKIPPED.value: ExportOutcome.SKIPPED,
}


@dataclass(frozen=True, slots=True)
class WriteBackReport:
    items: int
    statuses: int


def item_link(public_url: str, item_id: uuid.UUID) -> str:
    """Where a person sees an item that needs action: its page in the retry dashboard."""
    return f"{public_url.rstrip('/')}/dashboard/items/{item_id}"


async def write_back_statuses(
    database: Database,
    source: SourceConnector,
    *,
    tenant_id: uuid.UUID,
    source_connection_id: uuid.UUID,
    destination_connection_id: uuid.UUID,
    public_url: str,
) -> WriteBackReport:
    """Send every owed status of `destination_connection_id`'s items whose expenses came from this source."""
    items = statuses = 0
    from_source = (
        select(ExportItemRecord.export_item_id)
        .join(
            SourceRecord,
            and_(
                SourceRecord.tenant_id == ExportItemRecord.tenant_id,
                SourceRecord.id == ExportItemRecord.source_record_id,
            ),
        )
        .where(ExportItemRecord.tenant_id == tenant_id, SourceRecord.connection_id == source_connection_id)
    )
    while True:
        async with database.tenant_session(tenant_id) as session:
            owed = (
                await session.execute(
                    select(ExportItem.id, ExportItem.state, ExportItem.remote_url, ExportItem.error_message)
                    .add_columns(ExportItem.updated_at)
                    .where(
                        ExportItem.tenant_id == tenant_id,
                        ExportItem.destination_connection_id == destination_connection_id,
                        ExportItem.state.in_(list(_OUTCOMES)),
                        ExportItem.status_written_back_at.is_(None),
                        ExportItem.id.in_(from_source),
                    )
                    .order_by(ExportItem.id)
                    .limit(WRITE_BACK_BATCH)
                )
            ).all()
            expenses = (
                await session.execute(
                    select(ExportItemRecord.export_item_id, SourceRecord.remote_id)
                    .join(
                        SourceRecord,
                        and_(
                            SourceRecord.tenant_id == ExportItemRecord.tenant_id,
                            SourceRecord.id == ExportItemRecord.source_record_id,
                        ),
                    )
                    .where(
                        ExportItemRecord.tenant_id == tenant_id,
                        ExportItemRecord.export_item_id.in_([row.id for row in owed]),
                        SourceRecord.connection_id == source_connection_id,
                        SourceRecord.kind == RecordKind.EXPENSE.value,
                    )
                )
            ).all()
        if not owed:
            return WriteBackReport(items=items, statuses=statuses)
        expense_ids: dict[uuid.UUID, list[str]] = defaultdict(list)
        for item_id, expense_id in expenses:
            expense_ids[item_id].append(expense_id)
        batch: list[ExportStatus] = []
        for item_id, state, remote_url, error, _ in owed:
            outcome = _OUTCOMES[state]
            batch.extend(
                ExportStatus(
                    source_remote_id=expense_id,
                    kind=RecordKind.EXPENSE,
                    outcome=outcome,
                    url=remote_url if outcome is ExportOutcome.COMPLETE else item_link(public_url, item_id),
                    error=error if outcome is ExportOutcome.ERROR else None,
                )
                for expense_id in sorted(expense_ids[item_id])
            )
        if batch:
            await source.write_export_status(batch)
        async with database.tenant_session(tenant_id) as session:
            for item_id, *_, seen_at in owed:
                # Only if the item has not finished again meanwhile: a newer outcome stays owed.
                await session.execute(
                    update(ExportItem)
                    .where(
                        ExportItem.tenant_id == tenant_id, ExportItem.id == item_id, ExportItem.updated_at == seen_at
                    )
                    .values(status_written_back_at=datetime.now(UTC))
                    .execution_options(synchronize_session=False)
                )
        items += len(owed)
        statuses += len(batch)
