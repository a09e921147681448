"""Export an item that needs action again, as a new document: a person's deliberate way out of a spent key.

Service surface (async, keyword-only, like `sync.replay`; the session is the caller's tenant session, or a
cross-tenant session for support staff — the change is audited in the item's tenant chain with the person as actor):

    export_again(session, *, tenant_id, item_id, actor, confirm_duplicate_risk, reason) -> ExportItem
        needs_action → pending under a new idempotency key, due now. Raises DuplicateRiskNotConfirmedError,
        ExportAgainReasonRequiredError (both before the item is read), ItemNotFoundError, ExportAgainRefusedError.
    sync.reconciler.ring_export_bell(queue, *, tenant_id, connection_id)  after the caller's commit

Why it exists: a replay keeps the item's key, and the key is what the destination knows the document by (the
reference stored in it, and Intacct's request control id derived from it). The engine never gets stuck on a spent
control id (a settled send gets a new generation, `docs/idempotency.md`), but a person may still want a document
under a new reference: the earlier one was deleted on purpose and must not be matched again, or the connection now
points at other books. A new key is exactly what exactly-once exists to prevent: if the earlier document is still
in the destination after all, exporting again makes a second one. So the person must confirm that risk in words
(`DUPLICATE_RISK`) and say why; the audit event keeps both keys, whether the earlier outcome was unknown, the
confirmation and the reason.

The item forgets everything tied to the old key: the document as first sent and its drift (the next attempt builds
from today's settings and mappings), the send generation, the unknown outcome (the old key is no longer looked up)
and any remote document. It keeps its expenses, attempts and errors for history, and is still never regrouped: its
sent attempts say it may have reached the destination.

New keys are numbered downwards from -1 per group key (`mappings.grouping.idempotency_key` with a negative
generation): grouping numbers its generations upwards from 0 by counting a group's items, so the two never mint the
same key, and the first unused negative generation is free however often an item is exported again.
"""

import uuid
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.models import ExportItem, ExportState
from core.state_machine import record_transition
from mappings.constants import REGROUP_LOCK_NAMESPACE
from mappings.grouping import idempotency_key
from sync.constants import DUPLICATE_RISK, EXPORT_AGAIN_REASON
from sync.replay import ItemNotFoundError

__all__ = [
    "DUPLICATE_RISK",
    "DuplicateRiskNotConfirmedError",
    "ExportAgainReasonRequiredError",
    "ExportAgainRefusedError",
    "ItemNotFoundError",
    "export_again",
]


class DuplicateRiskNotConfirmedError(ValueError):
    """Exporting again may duplicate a document: it is done only when the person has said they accept that."""


class ExportAgainReasonRequiredError(ValueError):
    """Exporting again must say why (the bill was deleted, the company changed…): the next person reads it."""


class ExportAgainRefusedError(ValueError):
    """The item is not waiting for a person; the message says what state it is in and why that matters."""


_REFUSALS = {
    ExportState.PENDING.value: "it is already pending and will be exported shortly",
    ExportState.RUNNING.value: "it is being exported right now",
    ExportState.SUCCEEDED.value: "it was exported successfully; exporting it again would duplicate the document",
    ExportState.SKIPPED.value: "it was skipped on purpose",
}


async def _locked_item(session: AsyncSession, tenant_id: uuid.UUID, item_id: uuid.UUID) -> ExportItem:
    item = await session.scalar(
        select(ExportItem).where(ExportItem.tenant_id == tenant_id, ExportItem.id == item_id).with_for_update()
    )
    if item is None:
        raise ItemNotFoundError(f"No export item {item_id} exists for this tenant.")
    return item


async def _lock_destination_keys(session: AsyncSession, tenant_id: uuid.UUID, item_id: uuid.UUID) -> None:
    """Take grouping's lock of the item's destination, so that neither a regroup nor another export again mints a
    key meanwhile. Taken before the item's row lock, in the order a regroup takes them (it locks the destination,
    then its movable items), so the two never wait on each other in a cycle."""
    destination_id = await session.scalar(
        select(ExportItem.destination_connection_id).where(ExportItem.tenant_id == tenant_id, ExportItem.id == item_id)
    )
    if destination_id is None:
        raise ItemNotFoundError(f"No export item {item_id} exists for this tenant.")
    await session.execute(
        select(func.pg_advisory_xact_lock(REGROUP_LOCK_NAMESPACE, func.hashtext(str(destination_id))))
    )


async def _fresh_key(session: AsyncSession, item: ExportItem) -> str:
    """The first key of a negative generation that no item of this tenant holds (under `_lock_destination_keys`)."""
    siblings = await session.scalar(
        select(func.count()).where(
            ExportItem.tenant_id == item.tenant_id,
            ExportItem.destination_connection_id == item.destination_connection_id,
            ExportItem.group_key == item.group_key,
        )
    )
    # Each of the group's items holds one key, so one of `siblings + 1` candidates is always free.
    candidates = [
        idempotency_key(item.destination_connection_id, item.group_key, -number)
        for number in range(1, (siblings or 0) + 2)
    ]
    taken = set(
        (
            await session.scalars(
                select(ExportItem.idempotency_key).where(
                    ExportItem.tenant_id == item.tenant_id, ExportItem.idempotency_key.in_(candidates)
                )
            )
        ).all()
    )
    return next(key for key in candidates if key not in taken)


async def export_again(
    session: AsyncSession,
    *,
    tenant_id: uuid.UUID,
    item_id: uuid.UUID,
    actor: str,
    confirm_duplicate_risk: bool,
    reason: str,
) -> ExportItem:
    if not confirm_duplicate_risk:
        raise DuplicateRiskNotConfirmedError(
            f"Exporting again needs an explicit confirmation of the duplicate risk: {DUPLICATE_RISK} "
            "Check the destination first; if the earlier document is there, replay the item instead."
        )
    reason = reason.strip()
    if not reason:
        raise ExportAgainReasonRequiredError(
            "Say why the item is exported again (for example, the bill was deleted in the destination); "
            "the reason is kept with the new key and audited."
        )
    await _lock_destination_keys(session, tenant_id, item_id)
    item = await _locked_item(session, tenant_id, item_id)
    if item.state != ExportState.NEEDS_ACTION.value:
        why = _REFUSALS.get(item.state, f"it is {item.state}")
        raise ExportAgainRefusedError(
            f"Export item {item.id} cannot be exported again: {why}. Only items that need action can be."
        )
    previous_key, new_key = item.idempotency_key, await _fresh_key(session, item)
    await record_transition(
        session,
        tenant_id=tenant_id,
        item_id=item.id,
        source=item.state,
        target=ExportState.PENDING,
        actor=actor,
        details={
            "reason": EXPORT_AGAIN_REASON,
            "previous_key": previous_key,
            "new_key": new_key,
            "outcome_unknown": item.outcome_unknown,
            "error_class": item.error_class,
            "error_code": item.error_code,
            "confirmed_duplicate_risk": DUPLICATE_RISK,
            "stated_reason": reason,
        },
    )
    item.idempotency_key = new_key
    item.state = ExportState.PENDING.value
    item.document = item.document_drift = item.remote_id = item.remote_url = None
    item.send_generation = 0
    item.outcome_unknown = False
    item.next_attempt_at = item.replayed_at = datetime.now(UTC)
    await session.flush()
    await session.refresh(item)
    return item
