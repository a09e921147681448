"""Append-only, hash-chained audit log: who changed what, in a form where any later edit shows.

Each tenant has its own chain (`chain` = tenant id; operator-level events use the `system` chain). A row's hash covers
its content and the previous row's hash, so changing, removing or reordering a row breaks the chain at that row.
Appends to one chain are serialised by a transaction-scoped advisory lock. The database refuses UPDATE and DELETE on
the table (trigger and grants); `ledgerline audit verify` re-computes every chain.

A chain alone cannot show that rows were cut from its end: what is left still verifies. So chain heads are anchored
elsewhere (`core.audit_anchors`: into the system chain, and into a file the operator keeps), and verify checks each
chain still reaches, unchanged, the last head anchored for it.
"""

import hashlib
import json
import uuid
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event as orm_event
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from core.bulk import insert_statement
from core.constants import AUDIT_CHAIN_LOCK_NAMESPACE, AUDIT_GENESIS_HASH, SYSTEM_AUDIT_CHAIN
from core.models import AuditEvent

VERIFY_BATCH_ROWS = 1000
PENDING_EVENTS = "ledgerline.audit.pending"
"""`Session.info` key of the events appended in the current transaction, written when it commits."""


@dataclass(frozen=True, slots=True)
class ChainBreak:
    """Where verification failed: the first row that does not follow from the rows before it."""

    chain: str
    seq: int
    event_id: uuid.UUID | None
    """None when the break is rows missing from the chain's end: there is no row to name."""
    reason: str

    def describe(self) -> str:
        row = f"audit row {self.event_id}" if self.event_id else "audit chain end"
        return f"{row} (chain {self.chain}, seq {self.seq}): {self.reason}"


@dataclass(frozen=True, slots=True)
class AnchoredHead:
    """A chain's head as recorded at some time outside the chain: the chain must still hold this row, unchanged."""

    chain: str
    seq: int
    hash: str
    anchored_at: datetime
    source: str
    """Where the anchor was kept (the system chain, or an operator's anchor file), to say so in a report."""

    def describe(self) -> str:
        return f"seq {self.seq} was anchored on {self.anchored_at.isoformat()} ({self.source})"


def _chain_of(tenant_id: uuid.UUID | None) -> str:
    return str(tenant_id) if tenant_id else SYSTEM_AUDIT_CHAIN


def _as_stored(data: dict[str, Any]) -> dict[str, Any]:
    """What JSONB will give back, so the hash computed now matches the one re-computed on verify."""
    loaded: dict[str, Any] = json.loads(json.dumps(data, default=str))
    return loaded


def _event_hash(prev_hash: str, fields: dict[str, Any]) -> str:
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(f"{prev_hash}\n{canonical}".encode()).hexdigest()


def _hashed_fields(
    *,
    chain: str,
    seq: int,
    tenant_id: uuid.UUID | None,
    actor: str,
    action: str,
    entity_type: str,
    entity_id: str | None,
    data: dict[str, Any],
    created_at: datetime,
) -> dict[str, Any]:
    return {
        "chain": chain,
        "seq": seq,
        "tenant_id": str(tenant_id) if tenant_id else None,
        "actor": actor,
        "action": action,
        "entity_type": entity_type,
        "entity_id": entity_id,
        "data": data,
        "created_at": created_at.astimezone(UTC).isoformat(),
    }


@dataclass(frozen=True, slots=True)
class EventDraft:
    """One event to append: what happened to which entity."""

    action: str
    entity_type: str
    entity_id: str | None
    data: dict[str, Any] | None = None


async def append_event(
    session: AsyncSession,
    *,
    tenant_id: uuid.UUID | None,
    actor: str,
    action: str,
    entity_type: str,
    entity_id: str | None,
    data: dict[str, Any] | None = None,
) -> uuid.UUID:
    """Append one event to its tenant's chain, inside the caller's transaction (so it commits with the change)."""
    (event_id,) = await append_events(
        session, tenant_id=tenant_id, actor=actor, events=[EventDraft(action, entity_type, entity_id, data)]
    )
    return event_id


@dataclass(frozen=True, slots=True)
class _PendingEvent:
    chain: str
    tenant_id: uuid.UUID | None
    actor: str
    draft: EventDraft
    event_id: uuid.UUID
    created_at: datetime


async def append_events(
    session: AsyncSession, *, tenant_id: uuid.UUID | None, actor: str, events: Sequence[EventDraft]
) -> list[uuid.UUID]:
    """Append events to one tenant's chain in order, inside the caller's transaction: they are written when it
    commits (`_write_pending_events`), so it commits with the change or not at all."""
    chain = _chain_of(tenant_id)
    created_at = datetime.now(UTC)
    pending = [_PendingEvent(chain, tenant_id, actor, draft, uuid.uuid4(), created_at) for draft in events]
    session.info.setdefault(PENDING_EVENTS, []).extend(pending)
    return [event.event_id for event in pending]


def _chain_rows(session: Session, chain: str, events: Sequence[_PendingEvent]) -> list[dict[str, Any]]:
    """Lock `chain`, read its head, and link `events` after it: one lock, one read and (by the caller) one insert,
    so a batch of a hundred state changes costs what one did."""
    session.execute(select(func.pg_advisory_xact_lock(AUDIT_CHAIN_LOCK_NAMESPACE, func.hashtext(chain))))
    last = session.execute(
        select(AuditEvent.seq, AuditEvent.hash)
        .where(AuditEvent.chain == chain)
        .order_by(AuditEvent.seq.desc())
        .limit(1)  # the head only: without it every append read its whole chain
    ).first()
    seq, prev_hash = (last[0], last[1]) if last else (0, AUDIT_GENESIS_HASH)
    rows: list[dict[str, Any]] = []
    for event in events:
        seq += 1
        draft = event.draft
        stored_data = _as_stored(draft.data or {})
        fields = _hashed_fields(
            chain=chain,
            seq=seq,
            tenant_id=event.tenant_id,
            actor=event.actor,
            action=draft.action,
            entity_type=draft.entity_type,
            entity_id=draft.entity_id,
            data=stored_data,
            created_at=event.created_at,
        )
        event_hash = _event_hash(prev_hash, fields)
        rows.append(
            {
                "id": event.event_id,
                "chain": chain,
                "seq": seq,
                "tenant_id": event.tenant_id,
                "actor": event.actor,
                "action": draft.action,
                "entity_type": draft.entity_type,
                "entity_id": draft.entity_id,
                "data": stored_data,
                "created_at": event.created_at,
                "prev_hash": prev_hash,
                "hash": event_hash,
            }
        )
        prev_hash = event_hash
    return rows


@orm_event.listens_for(Session, "before_commit")
def _write_pending_events(session: Session) -> None:
    """Write a transaction's audit events as its last work, chain by chain in a fixed order.

    A chain's lock is held from the append to the commit. Taken in the middle of a transaction, it deadlocked with
    row locks: a batch finish held its items and waited for the chain, while a settings save held the chain (it had
    audited first) and waited for those items. Taken last, after every row lock, it never waits while holding one;
    taken in sorted order, two chains cannot deadlock either."""
    pending: list[_PendingEvent] = session.info.pop(PENDING_EVENTS, [])
    if not pending:
        return
    session.flush()  # the audited changes go first (a tenant's first event may name the tenant created with it)
    by_chain: dict[str, list[_PendingEvent]] = {}
    for pending_event in pending:
        by_chain.setdefault(pending_event.chain, []).append(pending_event)
    for chain in sorted(by_chain):
        # One statement (`core.bulk`): flushing a hundred new objects, or one INSERT per row, cost several times more.
        statement, parameters = insert_statement(AuditEvent, _chain_rows(session, chain, by_chain[chain]))
        session.execute(statement, parameters)


async def write_appended_events(session: AsyncSession) -> None:
    """Write the transaction's appended events now, for a read of the audit trail that must see them (a route that
    answers with the history it just added to). Call it once the transaction's row changes are done: from here the
    chain's lock is held to the commit."""
    await session.run_sync(_write_pending_events)


@orm_event.listens_for(Session, "after_rollback")
def _drop_pending_events(session: Session) -> None:
    """Events of a transaction that did not commit never happened."""
    session.info.pop(PENDING_EVENTS, None)


async def _rows_in_chain_order(session: AsyncSession) -> AsyncIterator[AuditEvent]:
    result = await session.stream_scalars(
        select(AuditEvent).order_by(AuditEvent.chain, AuditEvent.seq).execution_options(yield_per=VERIFY_BATCH_ROWS)
    )
    async for row in result:
        yield row


def _anchors_by_chain(anchors: Iterable[AnchoredHead]) -> dict[str, list[AnchoredHead]]:
    by_chain: dict[str, list[AnchoredHead]] = {}
    for anchor in anchors:
        by_chain.setdefault(anchor.chain, []).append(anchor)
    return by_chain


def _truncation(chain: str, last_seq: int, anchors: Sequence[AnchoredHead]) -> ChainBreak | None:
    """The break of a chain whose end lies before a head anchored for it."""
    beyond = [anchor for anchor in anchors if anchor.seq > last_seq]
    if not beyond:
        return None
    anchor = max(beyond, key=lambda found: found.seq)
    reason = f"the chain ends at seq {last_seq}, but {anchor.describe()}: rows were removed from its end"
    return ChainBreak(chain=chain, seq=last_seq + 1, event_id=None, reason=reason)


async def verify_chains(session: AsyncSession, *, anchors: Iterable[AnchoredHead] = ()) -> tuple[int, list[ChainBreak]]:
    """Re-compute every chain the session can see. Returns the rows checked and the first break of each chain.

    Each of `anchors` must still be in its chain with the hash it was anchored with; a chain that ends before one,
    or is gone altogether, was truncated."""
    unchecked = _anchors_by_chain(anchors)
    checked = 0
    breaks: list[ChainBreak] = []
    chain: str | None = None
    chain_anchors: list[AnchoredHead] = []
    expected_seq, expected_prev, broken = 1, AUDIT_GENESIS_HASH, False

    def end_of_chain() -> None:
        if chain is not None and not broken and (cut := _truncation(chain, expected_seq - 1, chain_anchors)):
            breaks.append(cut)

    async for row in _rows_in_chain_order(session):
        if row.chain != chain:
            end_of_chain()
            chain, expected_seq, expected_prev, broken = row.chain, 1, AUDIT_GENESIS_HASH, False
            chain_anchors = unchecked.pop(chain, [])
        checked += 1
        if broken:
            continue
        fields = _hashed_fields(
            chain=row.chain,
            seq=row.seq,
            tenant_id=row.tenant_id,
            actor=row.actor,
            action=row.action,
            entity_type=row.entity_type,
            entity_id=row.entity_id,
            data=row.data,
            created_at=row.created_at,
        )
        reason = None
        if row.seq != expected_seq:
            reason = f"expected seq {expected_seq}: rows are missing or reordered"
        elif row.prev_hash != expected_prev:
            reason = "prev_hash does not match the hash of the row before it"
        elif row.hash != _event_hash(row.prev_hash, fields):
            reason = "content does not match its hash: the row was altered"
        elif rewritten := [anchor for anchor in chain_anchors if anchor.seq == row.seq and anchor.hash != row.hash]:
            reason = f"{rewritten[0].describe()} with another hash: the chain was rewritten up to here"
        if reason:
            breaks.append(ChainBreak(chain=row.chain, seq=row.seq, event_id=row.id, reason=reason))
            broken = True
        expected_seq, expected_prev = row.seq + 1, row.hash
    end_of_chain()
    for lost_chain, lost_anchors in sorted(unchecked.items()):
        if cut := _truncation(lost_chain, 0, lost_anchors):
            breaks.append(cut)
    return checked, breaks
