"""Write-back: tell the source what became of each expense — exported (with a link), needing action, or skipped.

Owed statuses are rows, not messages: an item owes one whenever it finishes (`status_written_back_at` is cleared)
and stops owing only after the source accepted it, so a failed or interrupted write-back is simply retried by the
next run. Sources take these writes as upserts on the expense, so sending one twice is harmless.
"""

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Row, select, text

from connectors.base import SourceConnector
from core.bulk import among
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


_MARK_WRITTEN = text(
    """
    UPDATE export_items SET status_written_back_at = :written_at
    FROM unnest(CAST(:ids AS uuid[]), CAST(:seen AS timestamptz[])) AS sent (id, seen_at)
    WHERE export_items.tenant_id = :tenant_id AND export_items.id = sent.id
      -- Only if the item has not finished again meanwhile: a newer outcome stays owed (for the next run).
      AND export_items.updated_at = sent.seen_at
    """
)
"""A page of items in one statement (it was one UPDATE per item)."""


async def write_back_statuses(
    database: Database,
    source: SourceConnector,
    *,
    tenant_id: uuid.UUID,
    source_connection_id: uuid.UUID,
    destination_connection_id: uuid.UUID,
    public_url: str,
) -> WriteBackReport:
    """Send every owed status of `destination_connection_id`'s items whose expenses came from this source.

    The owed items are read a page at a time in id order from their partial index, and each page's links and
    records by their keys, so no plan has to join every record of the source against every owed item (the
    planner does exactly that on freshly loaded tables, whose statistics still say they are empty). An item whose
    expenses came from another source is passed over: that source's write-back sends it."""
    items = statuses = 0
    after: uuid.UUID | None = None
    while True:
        async with database.tenant_session(tenant_id) as session:
            page = (
                await session.execute(
                    select(ExportItem.id, ExportItem.state, ExportItem.remote_url, ExportItem.error_message)
                    .add_columns(ExportItem.updated_at)
                    .where(
                        ExportItem.tenant_id == tenant_id,
                        ExportItem.destination_connection_id == destination_connection_id,
                        ExportItem.state.in_(list(_OUTCOMES)),
                        ExportItem.status_written_back_at.is_(None),
                        *(() if after is None else (ExportItem.id > after,)),
                    )
                    .order_by(ExportItem.id)
                    .limit(WRITE_BACK_BATCH)
                )
            ).all()
            if not page:
                return WriteBackReport(items=items, statuses=statuses)
            after = page[-1].id
            links = (
                await session.execute(
                    select(
                        ExportItemRecord.export_item_id,
                        ExportItemRecord.source_record_id,
                        ExportItemRecord.released_at.is_(None).label("live"),
                    ).where(
                        ExportItemRecord.tenant_id == tenant_id,
                        among(ExportItemRecord.export_item_id, [row.id for row in page]),
                    )
                )
            ).all()
            remote_ids = dict(
                (
                    await session.execute(
                        select(SourceRecord.id, SourceRecord.remote_id).where(
                            SourceRecord.tenant_id == tenant_id,
                            among(SourceRecord.id, {link.source_record_id for link in links if link.live}),
                            SourceRecord.connection_id == source_connection_id,
                            SourceRecord.kind == RecordKind.EXPENSE.value,
                        )
                    )
                ).all()
            )
        expense_ids: dict[uuid.UUID, list[str]] = defaultdict(list)
        for item_id, record_id, live in links:
            if live and record_id in remote_ids:
                expense_ids[item_id].append(remote_ids[record_id])
        # A superseded item's expenses live in other items now: the last word each expense hears is its live item's,
        # so such an item has nothing to say and stops owing.
        released = {link.export_item_id for link in links} - {link.export_item_id for link in links if link.live}
        owed = [row for row in page if row.id in expense_ids]
        if released:
            await _mark_written(database, tenant_id, [row for row in page if row.id in released])
        if not owed:
            continue
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
        await source.write_export_status(batch)
        await _mark_written(database, tenant_id, owed)
        items += len(owed)
        statuses += len(batch)


async def _mark_written(database: Database, tenant_id: uuid.UUID, rows: Sequence[Row[Any]]) -> None:
    """The items of `rows` (id, …, updated_at as read) stop owing, unless one finished again since."""
    async with database.tenant_session(tenant_id) as session:
        await session.execute(
            _MARK_WRITTEN,
            {
                "tenant_id": tenant_id,
                "written_at": datetime.now(UTC),
                "ids": [row.id for row in rows],
                "seen": [row.updated_at for row in rows],
            },
        )
