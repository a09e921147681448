"""Claiming work, keeping it, and finishing it, fenced on the claim.

A worker claims due items with `UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED) RETURNING`, so concurrent
workers never take the same item and never wait on each other. Each claim has a token of its own (`new_claim_token`):
one process runs many jobs, so the worker's id cannot tell a stale job from the current one. While the batch is in
flight the claim renews its lease (`renew_lease`); just before a request goes out it records what it sends, fenced
on the token (`record_sending`); and it finishes only `WHERE lease_owner = token`. A job whose lease expired (and
whose item the reconciler handed to someone else) finds every one of these refused: it sends nothing more and
overwrites nothing.
"""

import json
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
from core.state_machine import Transition, record_transitions
from sync.constants import LEASE_OWNER_WORKER_CHARS


def new_claim_token(worker: str) -> str:
    """A lease owner unique to one claim, readable as the worker that holds it."""
    return f"{worker[:LEASE_OWNER_WORKER_CHARS]}/{uuid.uuid4().hex}"


async def claim_due_items(
    session: AsyncSession,
    *,
    tenant_id: uuid.UUID,
    connection_id: uuid.UUID,
    token: str,
    actor: str,
    limit: int,
    lease_seconds: int,
) -> Sequence[ExportItem]:
    """Take up to `limit` due pending items of one destination connection, oldest due first, under `token`."""
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
                lease_owner=token,
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
        actor=actor,
        transitions=[
            Transition(item.id, ExportState.PENDING.value, ExportState.RUNNING, {"attempt": item.attempt_count})
            for item in claimed
        ],
    )
    return claimed


_LOCK_CLAIMED_IN_ORDER = text(
    """
    SELECT id FROM export_items
    WHERE tenant_id = :tenant_id AND lease_owner = :token AND state = :running
    ORDER BY id
    FOR UPDATE
    """
)


async def _lock_claimed_in_order(session: AsyncSession, *, tenant_id: uuid.UUID, token: str) -> None:
    """Lock the claim's items in id order before a statement that changes several of them.

    An `UPDATE` of many rows locks them in the order its plan meets them; two such updates meeting the same items
    in opposite orders (a stale job's finish and the new claimant's write, or a lease renewal) deadlocked, and
    PostgreSQL killed one, crashing its batch (found by the exactly-once schedules). Every writer of several items
    locks them in one order first; the reconciler skips what is locked (`return_expired_leases`)."""
    await session.execute(
        _LOCK_CLAIMED_IN_ORDER, {"tenant_id": tenant_id, "token": token, "running": ExportState.RUNNING.value}
    )


async def renew_lease(session: AsyncSession, *, tenant_id: uuid.UUID, token: str, lease_seconds: int) -> int:
    """Push the lease of every item the claim still holds `lease_seconds` ahead; how many it still holds."""
    await _lock_claimed_in_order(session, tenant_id=tenant_id, token=token)
    renewed = await session.execute(
        update(ExportItem)
        .where(
            ExportItem.tenant_id == tenant_id,
            ExportItem.lease_owner == token,
            ExportItem.state == ExportState.RUNNING.value,
        )
        .values(lease_expires_at=func.now() + timedelta(seconds=lease_seconds))
        .execution_options(synchronize_session=False)
    )
    return int(getattr(renewed, "rowcount", 0) or 0)


@dataclass(frozen=True, slots=True)
class Sending:
    """One item about to be sent: its document, generation and request key, exactly as they go out."""

    item_id: uuid.UUID
    document: dict[str, Any]
    generation: int
    request_key: str


_RECORD_SENDING = text(
    """
    UPDATE export_items
    SET document = given.document, send_generation = given.generation, request_key = given.request_key,
        lease_expires_at = now() + make_interval(secs => :lease_seconds)
    FROM unnest(
        CAST(:ids AS uuid[]), CAST(:documents AS jsonb[]), CAST(:generations AS integer[]), CAST(:keys AS text[])
    ) AS given (id, document, generation, request_key)
    WHERE export_items.id = given.id AND export_items.tenant_id = :tenant_id
      AND export_items.lease_owner = :token AND export_items.state = :running
    RETURNING export_items.id
    """
)


async def record_sending(
    session: AsyncSession, *, tenant_id: uuid.UUID, token: str, sending: Sequence[Sending], lease_seconds: int
) -> set[uuid.UUID]:
    """Write down, before the request goes out, what each item sends and under which request key; the ids the claim
    still holds, which alone may be sent. An unsettled item resends exactly what it wrote down before (the engine
    reads it back), so what is written here is always what went out last."""
    if not sending:
        return set()
    await _lock_claimed_in_order(session, tenant_id=tenant_id, token=token)
    held = await session.scalars(
        _RECORD_SENDING,
        {
            "tenant_id": tenant_id,
            "token": token,
            "running": ExportState.RUNNING.value,
            "lease_seconds": lease_seconds,
            "ids": [entry.item_id for entry in sending],
            "documents": [json.dumps(entry.document) for entry in sending],
            "generations": [entry.generation for entry in sending],
            "keys": [entry.request_key for entry in sending],
        },
    )
    return set(held)


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
          AND export_items.lease_owner = :token AND export_items.state = :running
        RETURNING export_items.id
        """  # noqa: S608 (the names are ExportItem's own columns: `table[name]` refused any other)
    )


async def finish_items(
    session: AsyncSession, *, tenant_id: uuid.UUID, token: str, finishes: Sequence[Finish], batch: list[Transition]
) -> set[uuid.UUID]:
    """Move running items the claim `token` holds to their targets; the ids finished, without those whose lease was
    lost (nothing written for them). Their transitions are added to `batch` for the caller to record
    (`record_transitions`).

    One `UPDATE` per target and set of columns — usually one for a whole batch — instead of one statement per item.
    Every finish owes the source a fresh export status (an item that needed action may have succeeded since)."""
    await _lock_claimed_in_order(session, tenant_id=tenant_id, token=token)
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
                "token": token,
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
