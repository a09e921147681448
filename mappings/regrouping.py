"""Regrouping: turn the open expenses of one destination into export items, per the current settings.

Only what was never sent moves. An item whose expenses and key still match the plan is kept as it is; any other
movable item is dropped (deleted if it was never attempted, otherwise kept as `skipped` for its history) and its
expenses are released into new items. Items that were sent, or may have been, are never touched.
"""

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, func, select, text, update

from core.bulk import among, insert_rows
from core.models import Connection, ExportItem, ExportItemRecord, ExportState
from core.repository import TenantRepository
from core.state_machine import Transition, record_transitions
from mappings.constants import AUDIT_REGROUP, REGROUP_LOCK_NAMESPACE
from mappings.grouping import Group, Skipped, idempotency_key, plan_groups
from mappings.settings import ExportSettings
from mappings.source_expenses import OpenExpense, load_open_expenses, movable_item_ids

SUPERSEDED_REASON = "superseded: the export settings or the expenses changed, and its expenses were regrouped"


@dataclass(frozen=True, slots=True)
class RegroupResult:
    created: tuple[uuid.UUID, ...]
    kept: int
    dropped: tuple[uuid.UUID, ...]
    skipped: tuple[Skipped, ...]
    """Expenses left out, each with its reason (also stored in `source_records.skip_reason`)."""


def _usable(records: list[OpenExpense]) -> tuple[dict[str, OpenExpense], list[tuple[OpenExpense, str]]]:
    """Readable expenses by id; the unreadable and the duplicates (two sources, one id) with their reasons."""
    by_id: dict[str, OpenExpense] = {}
    refused: list[tuple[OpenExpense, str]] = []
    for record in records:
        if record.expense is None:
            refused.append((record, record.problem or "unreadable"))
        elif record.expense.id in by_id:
            refused.append((record, f"another source record already holds expense {record.expense.id!r}"))
        else:
            by_id[record.expense.id] = record
    return by_id, refused


async def _drop(repository: TenantRepository, item_ids: list[uuid.UUID], now: datetime) -> None:
    """Release the items' expenses; delete the items never claimed, and keep the others as `skipped` (audited)."""
    session = repository.session
    await session.execute(
        update(ExportItemRecord)
        .where(ExportItemRecord.tenant_id == repository.tenant_id, among(ExportItemRecord.export_item_id, item_ids))
        .where(ExportItemRecord.released_at.is_(None))
        .values(released_at=now)
    )
    scoped = (ExportItem.tenant_id == repository.tenant_id, among(ExportItem.id, item_ids))
    await session.execute(delete(ExportItem).where(*scoped, ExportItem.attempt_count == 0))
    superseded = (await session.execute(select(ExportItem.id, ExportItem.state).where(*scoped))).all()
    await session.execute(
        update(ExportItem)
        .where(*scoped)
        .values(state=ExportState.SKIPPED.value, skip_reason=SUPERSEDED_REASON, missing_mappings=None)
    )
    await record_transitions(
        session,
        tenant_id=repository.tenant_id,
        actor=repository.actor,
        transitions=[
            Transition(item_id, state, ExportState.SKIPPED, {"reason": SUPERSEDED_REASON})
            for item_id, state in superseded
        ],
    )


async def _generations(
    repository: TenantRepository, destination_connection_id: uuid.UUID, keys: list[str]
) -> dict[str, int]:
    """How many items each group key already has in this destination: the next item's generation."""
    query = (
        select(ExportItem.group_key, func.count())
        .where(
            ExportItem.tenant_id == repository.tenant_id,
            ExportItem.destination_connection_id == destination_connection_id,
            among(ExportItem.group_key, keys),
        )
        .group_by(ExportItem.group_key)
    )
    return dict((await repository.session.execute(query)).all())


_STORE_SKIP_REASONS = text(
    """
    UPDATE source_records SET skip_reason = given.reason, updated_at = now()
    FROM unnest(CAST(:ids AS uuid[]), CAST(:reasons AS text[])) AS given (id, reason)
    WHERE source_records.tenant_id = :tenant_id AND source_records.id = given.id
    """
)
"""One statement for any number of records: a first regroup stores thousands of reasons, and one UPDATE per record
cost more than the grouping itself."""


async def _store_skip_reasons(repository: TenantRepository, reasons: dict[uuid.UUID, str | None]) -> None:
    if reasons:
        await repository.session.execute(
            _STORE_SKIP_REASONS,
            {"tenant_id": repository.tenant_id, "ids": list(reasons), "reasons": list(reasons.values())},
        )


async def _current_items(
    repository: TenantRepository, records: list[OpenExpense]
) -> dict[tuple[str, str, frozenset[uuid.UUID]], uuid.UUID]:
    """The movable items as (group key, document type, their records) → item id."""
    members: dict[uuid.UUID, set[uuid.UUID]] = defaultdict(set)
    for record in records:
        if record.item_id is not None:
            members[record.item_id].add(record.record_id)
    query = select(ExportItem.id, ExportItem.group_key, ExportItem.document_type).where(
        ExportItem.tenant_id == repository.tenant_id, among(ExportItem.id, members)
    )
    rows = (await repository.session.execute(query)).all()
    return {(key, kind, frozenset(members[item_id])): item_id for item_id, key, kind in rows}


async def _create(
    repository: TenantRepository, destination: Connection, wanted: list[tuple[Group, frozenset[uuid.UUID]]]
) -> list[uuid.UUID]:
    if not wanted:
        return []
    generations = await _generations(repository, destination.id, [group.key for group, _ in wanted])
    created = [uuid.uuid4() for _ in wanted]
    tenant_id = repository.tenant_id
    items = [
        {
            "id": item_id,
            "tenant_id": tenant_id,
            "destination_connection_id": destination.id,
            "destination_provider": destination.provider,
            "document_type": group.kind.value,
            "group_key": group.key,
            "idempotency_key": idempotency_key(destination.id, group.key, generations.get(group.key, 0)),
        }
        for item_id, (group, _) in zip(created, wanted, strict=True)
    ]
    links = [
        {"tenant_id": tenant_id, "export_item_id": item_id, "source_record_id": record_id}
        for item_id, (_, members) in zip(created, wanted, strict=True)
        for record_id in members
    ]
    # One statement each however many (`core.bulk`): a first grouping of thousands of expenses sent them a row at a
    # time, and the database's per-statement work was most of the grouping's time.
    await insert_rows(repository.session, ExportItem, items)
    await insert_rows(repository.session, ExportItemRecord, links)
    return created


async def regroup(repository: TenantRepository, *, destination: Connection, settings: ExportSettings) -> RegroupResult:
    """Bring the destination's export items in line with `settings` and the open expenses, in the caller's
    transaction. Serialised per destination by an advisory lock; the movable items are row-locked."""
    await repository.session.execute(
        select(func.pg_advisory_xact_lock(REGROUP_LOCK_NAMESPACE, func.hashtext(str(destination.id))))
    )
    records = await load_open_expenses(repository, await movable_item_ids(repository, destination.id, lock=True))
    by_id, refused = _usable(records)
    plan = plan_groups((record.expense for record in by_id.values() if record.expense is not None), settings)
    existing = await _current_items(repository, records)

    wanted: list[tuple[Group, frozenset[uuid.UUID]]] = []
    kept: list[uuid.UUID] = []
    for group in plan.groups:
        members = frozenset(by_id[expense_id].record_id for expense_id in group.expense_ids)
        match = existing.get((group.key, group.kind.value, members))
        if match is None:
            wanted.append((group, members))
        else:
            kept.append(match)
    dropped = sorted(set(existing.values()) - set(kept))
    if dropped:
        await _drop(repository, dropped, datetime.now(UTC))
    created = await _create(repository, destination, wanted)

    skipped = [
        *plan.skipped,
        *(
            Skipped(record.expense.id if record.expense else str(record.record_id), reason)
            for record, reason in refused
        ),
    ]
    reasons: dict[uuid.UUID, str | None] = {record.record_id: None for record in records}
    reasons.update({by_id[item.expense_id].record_id: item.reason for item in plan.skipped})
    reasons.update({record.record_id: reason for record, reason in refused})
    previous = {record.record_id: record.skip_reason for record in records}
    await _store_skip_reasons(repository, {key: value for key, value in reasons.items() if previous[key] != value})

    await repository.audit(
        AUDIT_REGROUP,
        entity=destination,
        data={
            "created": len(created),
            "kept": len(kept),
            "dropped": [str(item_id) for item_id in dropped],
            "skipped": len(skipped),
        },
    )
    return RegroupResult(created=tuple(created), kept=len(kept), dropped=tuple(dropped), skipped=tuple(skipped))
