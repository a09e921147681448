"""The expenses still open for export to one destination: in no live item, or in one that was never sent.

An item is movable (may be regrouped, and its expenses count as waiting) while it is pending or needs action,
has no remote document, no unknown outcome and no attempt that succeeded or was adopted. Anything else may
exist in the destination, so its expenses stay where they are.
"""

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, exists, or_, select

from core.bulk import among
from core.domain import Expense, RecordKind
from core.models import Attempt, AttemptOutcome, ExportItem, ExportItemRecord, ExportState, SourceRecord
from core.repository import TenantRepository
from mappings.expense_cache import EXPENSES
from mappings.expense_json import ExpenseFormatError, expense_from_json

_SENT_OUTCOMES = (AttemptOutcome.SUCCEEDED, AttemptOutcome.ADOPTED, AttemptOutcome.OUTCOME_UNKNOWN)


@dataclass(frozen=True, slots=True)
class OpenExpense:
    record_id: uuid.UUID
    expense: Expense | None
    problem: str | None
    """Why the record's data is not a readable expense (then `expense` is None)."""
    item_id: uuid.UUID | None
    """The movable item it is linked to, if any."""
    skip_reason: str | None


def movable() -> ColumnElement[bool]:
    """SQL: this export item was never sent, so its expenses may be regrouped."""
    sent = exists(
        select(Attempt.id).where(
            Attempt.tenant_id == ExportItem.tenant_id,
            Attempt.export_item_id == ExportItem.id,
            Attempt.outcome.in_([outcome.value for outcome in _SENT_OUTCOMES]),
        )
    )
    return and_(
        ExportItem.state.in_([ExportState.PENDING.value, ExportState.NEEDS_ACTION.value]),
        ExportItem.remote_id.is_(None),
        ExportItem.outcome_unknown.is_(False),
        ~sent,
    )


async def movable_item_ids(
    repository: TenantRepository, destination_connection_id: uuid.UUID, *, lock: bool
) -> list[uuid.UUID]:
    """The destination's movable items; with `lock`, row-locked so no worker claims one while it is regrouped."""
    query = select(ExportItem.id).where(
        ExportItem.tenant_id == repository.tenant_id,
        ExportItem.destination_connection_id == destination_connection_id,
        movable(),
    )
    if lock:
        query = query.with_for_update(of=ExportItem)
    return list((await repository.session.scalars(query)).all())


async def load_open_expenses(repository: TenantRepository, item_ids: Sequence[uuid.UUID]) -> list[OpenExpense]:
    """The tenant's expense records in no live item or in one of `item_ids` (the destination's movable items)."""
    link = and_(
        ExportItemRecord.tenant_id == SourceRecord.tenant_id,
        ExportItemRecord.source_record_id == SourceRecord.id,
        ExportItemRecord.released_at.is_(None),
    )
    query = (
        select(SourceRecord.id, SourceRecord.fingerprint, SourceRecord.skip_reason, ExportItemRecord.export_item_id)
        .outerjoin(ExportItemRecord, link)
        .where(
            SourceRecord.tenant_id == repository.tenant_id,
            SourceRecord.kind == RecordKind.EXPENSE.value,
            or_(ExportItemRecord.export_item_id.is_(None), among(ExportItemRecord.export_item_id, item_ids)),
        )
        .order_by(SourceRecord.id)
    )
    rows = (await repository.session.execute(query)).all()
    read = await read_expenses(repository, {record_id: fingerprint for record_id, fingerprint, *_ in rows})
    return [
        OpenExpense(record_id, *read[record_id], item_id, skip_reason) for record_id, _, skip_reason, item_id in rows
    ]


async def read_expenses(
    repository: TenantRepository, fingerprints: Mapping[uuid.UUID, str]
) -> dict[uuid.UUID, tuple[Expense | None, str | None]]:
    """Each record's expense, or why it has none, for every record asked: from the cache by fingerprint, else from
    its stored JSON (one query for all that missed)."""
    read: dict[uuid.UUID, tuple[Expense | None, str | None]] = {}
    for record_id, fingerprint in fingerprints.items():
        cached = EXPENSES.get(fingerprint)
        if cached is not None:
            read[record_id] = (cached, None)
    missed = [record_id for record_id in fingerprints if record_id not in read]
    if missed:
        stored = await repository.session.execute(
            select(SourceRecord.id, SourceRecord.fingerprint, SourceRecord.data).where(
                SourceRecord.tenant_id == repository.tenant_id, among(SourceRecord.id, missed)
            )
        )
        for record_id, fingerprint, data in stored:
            try:
                expense = expense_from_json(data)
            except ExpenseFormatError as exc:
                read[record_id] = (None, f"the source record is not a readable expense: {exc}")
                continue
            EXPENSES.put(fingerprint, expense)  # the fingerprint read with the data: the pair is one row version
            read[record_id] = (expense, None)
    for record_id in missed:
        read.setdefault(record_id, (None, "the source record was removed"))
    return read
