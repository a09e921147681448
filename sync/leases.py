"""Claiming work and finishing it, fenced on the lease.

A worker claims due items with `UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED) RETURNING`, so concurrent
workers never take the same item and never wait on each other. It finishes an item only `WHERE lease_owner = me`:
a worker whose lease expired (and whose item the reconciler handed to someone else) finds its update refused and
drops its result instead of overwriting the newer one.
"""

import uuid
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

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


async def finish_item(
    session: AsyncSession,
    *,
    item: ExportItem,
    owner: str,
    target: ExportState,
    values: dict[str, Any],
    details: dict[str, Any] | None = None,
    batch: list[Transition] | None = None,
) -> bool:
    """Move a running item we own to `target` with `values`; False when our lease was lost (nothing written).

    Every finish owes the source a fresh export status (an item that needed action may have succeeded since).
    With `batch`, the transition is added to it for the caller to record with the rest (`record_transitions`)."""
    done = await session.scalar(
        update(ExportItem)
        .where(
            ExportItem.id == item.id,
            ExportItem.tenant_id == item.tenant_id,
            ExportItem.lease_owner == owner,
            ExportItem.state == ExportState.RUNNING.value,
        )
        .values(state=target.value, lease_owner=None, lease_expires_at=None, status_written_back_at=None, **values)
        .returning(ExportItem.id)
        .execution_options(synchronize_session=False)
    )
    if done is None:
        return False
    transition = Transition(item.id, ExportState.RUNNING.value, target, details)
    if batch is not None:
        batch.append(transition)
    else:
        await record_transitions(session, tenant_id=item.tenant_id, actor=f"worker:{owner}", transitions=[transition])
    return True
