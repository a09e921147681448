"""No re-pointing of a connection at other books (another company or entity) while any of its exports is unsettled.

An item whose send is unsettled — being sent right now, or sent without an answer (`outcome_unknown`) — is settled
by looking its reference up in the books it was sent to. Point the connection elsewhere first and that lookup asks
the wrong books: it finds nothing, so the item is sent again, and the document exists twice (once in each), or a
running send lands in books nobody looks at any more. So the change waits until every such item is settled.

Which credential fields name the books is a fact of each system, declared in its spec
(`CredentialField.identifies_books`); nothing here knows a system.

    refuse_repointing_while_unsettled(session, *, tenant_id, connection, spec, before, after) -> None
        Raises RepointingRefusedError when `after` changes a field naming the books and the connection has
        unsettled items. `before` None: the stored credentials cannot be read, so any field may be changing.
"""

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from connectors.spec import ConnectorSpec
from core.models import Connection, ExportItem, ExportState

__all__ = ["RepointingRefusedError", "refuse_repointing_while_unsettled", "unsettled_items"]


class RepointingRefusedError(ValueError):
    """The books would change under exports that are not settled; the message says how many and what to do."""

    def __init__(self, message: str, *, unsettled: int, fields: tuple[str, ...]) -> None:
        super().__init__(message)
        self.unsettled = unsettled
        self.fields = fields


async def unsettled_items(session: AsyncSession, *, tenant_id: uuid.UUID, connection_id: uuid.UUID) -> int:
    """Items of the connection being sent now, or whose earlier send may have been applied and is not settled.
    A skipped item is settled by the person who skipped it."""
    count = await session.scalar(
        select(func.count()).where(
            ExportItem.tenant_id == tenant_id,
            ExportItem.destination_connection_id == connection_id,
            ExportItem.state != ExportState.SKIPPED.value,
            or_(ExportItem.state == ExportState.RUNNING.value, ExportItem.outcome_unknown.is_(True)),
        )
    )
    return count or 0


def _joined(labels: list[str]) -> str:
    return labels[0] if len(labels) == 1 else f"{', '.join(labels[:-1])} and {labels[-1]}"


async def refuse_repointing_while_unsettled(
    session: AsyncSession,
    *,
    tenant_id: uuid.UUID,
    connection: Connection,
    spec: ConnectorSpec,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any],
) -> None:
    changed = spec.auth.books_changed(before, after)
    if not changed:
        return
    unsettled = await unsettled_items(session, tenant_id=tenant_id, connection_id=connection.id)
    if not unsettled:
        return
    what = _joined([field.label for field in changed])
    items = "export item is" if unsettled == 1 else "export items are"
    raise RepointingRefusedError(
        f"The connection {connection.name!r} cannot change its {what} yet: {unsettled} {items} not settled in the "
        f"{spec.display_name} books it points at now (being exported right now, or sent without an answer, so the "
        "document may exist there). Pointed elsewhere, Ledgerline would look for them in the wrong books and could "
        "export them twice. Wait for the running exports to finish, or settle the items (replay them so that "
        f"Ledgerline looks their documents up, or skip them), then change the {what} again.",
        unsettled=unsettled,
        fields=tuple(field.name for field in changed),
    )
