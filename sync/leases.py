"""Claiming work and finishing it, fenced on the lease.

A worker claims due items with `UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED) RETURNING`, so concurrent
workers never take the same item and never wait on each other. It finishes an item only `WHERE lease_owner = me`:
a worker whose lease expired (and whose item the reconciler handed to someone else) finds its update refused and
drops its result instead of overwriting the newer one.
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from typing import Any, cast

from sqlalchemy import Table, TextClause, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.bulk import array_parameter, array_values
from core.models import ExportItem, ExportState
from sync.state_machine import Transition, record_transitions


async def claim_due_items(
    session: AsyncSession,
    *,
    tenant_id: uuid.UUID,
    connection_id: uuid.UUID,
    owner: str,
    limit: int,
    lease_seconds: int,
) -> Sequence[ExportItem]:
    """Take up to `limit` due pending items of one destination connection, oldest due first."""
    due = (
        select(ExportItem.id)
        .where(
            ExportItem.tenant_id == tenant_id,
            ExportItem.destination_connection_id == connection_id,
            ExportItem.state == ExportState.PENDING.value,
            ExportItem.next_attempt_at <= func.now(),
        )
        .order_by(ExportItem.next_attempt_at, ExportItem.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
        # Materialised, so the locked selection runs once: as a plain `IN (subquery)` the planner may re-run it
        # (a semi-join), and with SKIP LOCKED each run can pick other rows — claiming more than `limit`.
        .cte("due")
        .prefix_with("MATERIALIZED")
    )
    claimed = (
        await session.scalars(
            update(ExportItem)
            .where(ExportItem.id.in_(select(due.c.id)))
            .values(
                state=ExportState.RUNNING.value,
                lease_owner=owner,
                lease_expires_at=func.now() + timedelta(seconds=lease_seconds),
                attempt_count=ExportItem.attempt_count + 1,
            )
            .returning(ExportItem)
            .execution_options(synchronize_session=False)
        )
    ).all()
    await record_transitions(
        session,
        tenant_id=tenant_id,
        actor=f"worker:{owner}",
        transitions=[
            Transition(item.id, ExportState.PENDING.value, ExportState.RUNNING, {"attempt": item.attempt_count})
            for item in claimed
        ],
    )
    return claimed


@dataclass(frozen=True, slots=True)
class Finish:
    """How one running item ends: its target state, the columns that change, and the audit details."""

    item: ExportItem
    target: ExportState
    values: dict[str, Any]
    details: dict[str, Any] | None = None


@cache
def _finish_statement(columns: tuple[str, ...]) -> TextClause:
    """`UPDATE … FROM unnest(one array per column)` for this set of columns: a short text, the same for any number
    of items, so neither SQLAlchemy nor the driver compiles it anew per batch (a VALUES list was compiled every
    time, a twentieth of an export's CPU)."""
    table = cast(Table, ExportItem.__table__).c
    arrays = [array_parameter(name, table[name].type) for name in columns]
    sets = [f"{name} = given.{name}" for name in columns]
    return text(
        f"""
        UPDATE export_items
        SET state = :state, lease_owner = NULL, lease_expires_at = NULL, status_written_back_at = NULL,
            updated_at = now(), {", ".join(sets)}
        FROM unnest(CAST(:ids AS uuid[]), {", ".join(arrays)}) AS given (id, {", ".join(columns)})
        WHERE export_items.id = given.id AND export_items.tenant_id = :tenant_id
          AND export_items.lease_owner = :owner AND export_items.state = :running
        RETURNING export_items.id
        """  # noqa: S608 (the names are ExportItem's own columns: `table[name]` refused any other)
    )


async def finish_items(
    session: AsyncSession, *, tenant_id: uuid.UUID, owner: str, finishes: Sequence[Finish], batch: list[Transition]
) -> set[uuid.UUID]:
    """Move running items we own to their targets; the ids finished, without those whose lease was lost (nothing
    written for them). Their transitions are added to `batch` for the caller to record (`record_transitions`).

    One `UPDATE` per target and set of columns — usually one for a whole batch — instead of one statement per item.
    Every finish owes the source a fresh export status (an item that needed action may have succeeded since)."""
    groups: dict[tuple[ExportState, tuple[str, ...]], list[Finish]] = {}
    for finish in finishes:
        groups.setdefault((finish.target, tuple(sorted(finish.values))), []).append(finish)
    columns = cast(Table, ExportItem.__table__).c
    finished: set[uuid.UUID] = set()
    for (target, names), members in groups.items():
        done = await session.scalars(
            _finish_statement(names),
            {
                "state": target.value,
                "running": ExportState.RUNNING.value,
                "tenant_id": tenant_id,
                "owner": owner,
                "ids": [finish.item.id for finish in members],
                **{
                    name: array_values(columns[name].type, [finish.values[name] for finish in members])
                    for name in names
                },
            },
        )
        finished.update(done)
    for finish in finishes:
        if finish.item.id in finished:
            batch.append(Transition(finish.item.id, ExportState.RUNNING.value, finish.target, finish.details))
    return finished
