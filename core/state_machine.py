"""The export item state machine of DESIGN.md. Every transition is checked here and written to the audit log.

pending ──claim──▶ running ──▶ succeeded
   ▲  │              │  └────▶ needs_action ──replay, mappings saved, export again──▶ pending
   │  │              │                └─────skip, regroup──▶ skipped
   │  └──regroup─────┼─────────────────────────────────────▶ skipped
   └──backoff────────┘

It lives in `core` because every package that moves an item uses it: the engine and the reconciler (`sync`), and
the regrouping and mapping saves (`mappings`), which may import nothing above `core`. A regroup only ever moves an
item that was never sent (`mappings.source_expenses.movable`).
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.audit import EventDraft, append_events
from core.models import ExportState

ALLOWED: dict[ExportState, frozenset[ExportState]] = {
    ExportState.PENDING: frozenset({ExportState.RUNNING, ExportState.SKIPPED}),
    ExportState.RUNNING: frozenset({ExportState.SUCCEEDED, ExportState.PENDING, ExportState.NEEDS_ACTION}),
    ExportState.NEEDS_ACTION: frozenset({ExportState.PENDING, ExportState.SKIPPED}),
    ExportState.SUCCEEDED: frozenset(),
    ExportState.SKIPPED: frozenset(),
}


class IllegalTransitionError(ValueError):
    """A move the state machine does not allow (a bug, or a stale view of the item)."""


def check_transition(current: str, target: ExportState) -> None:
    if target not in ALLOWED[ExportState(current)]:
        raise IllegalTransitionError(f"an export item cannot go from {current} to {target.value}")


async def record_transition(
    session: AsyncSession,
    *,
    tenant_id: uuid.UUID,
    item_id: uuid.UUID,
    source: str,
    target: ExportState,
    actor: str,
    details: dict[str, Any] | None = None,
) -> None:
    """Check a transition and write its audit event, in the caller's transaction (with the state change)."""
    await record_transitions(
        session, tenant_id=tenant_id, actor=actor, transitions=[Transition(item_id, source, target, details)]
    )


@dataclass(frozen=True, slots=True)
class Transition:
    item_id: uuid.UUID
    source: str
    target: ExportState
    details: dict[str, Any] | None = None


async def record_transitions(
    session: AsyncSession, *, tenant_id: uuid.UUID, actor: str, transitions: Sequence[Transition]
) -> None:
    """Check and audit a batch of one tenant's transitions with one append (see `core.audit.append_events`)."""
    for transition in transitions:
        check_transition(transition.source, transition.target)
    await append_events(
        session,
        tenant_id=tenant_id,
        actor=actor,
        events=[
            EventDraft(
                action=f"export_item.{transition.target.value}",
                entity_type="export_items",
                entity_id=str(transition.item_id),
                data={"from": transition.source, **(transition.details or {})},
            )
            for transition in transitions
        ],
    )
