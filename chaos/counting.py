"""The verdict, read from the outside: what the Fyle simulator says is exportable against what the destination's
simulator holds (read as `bench.destinations` says for each system), and what the sender was told against what the
inbox kept. Nothing here trusts Ledgerline's own bookkeeping of what it exported; only the lost-webhook count reads
`webhook_events`, the inbox that acknowledged them."""

import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy import select

from bench.destinations import Booked, SandboxDestination
from bench.e2e_setup import fyle_grant, fyle_listing
from core.db import Database
from core.models import WebhookEvent, WebhookState
from mappings.constants import DEFAULT_EXPORTABLE_STATES
from sandbox.constants import CONTROL_PREFIX

CENT = Decimal("0.01")


@dataclass(frozen=True)
class Tally:
    expenses: int
    """Exportable expenses in the source."""
    documents: int
    duplicates: int
    """Documents beyond the first per reference, plus every further reference an expense appears under."""
    missing: int
    """Exportable expenses in no document."""


Exportable = Callable[[dict[str, Any]], bool]
"""Whether a Fyle expense (as the admin API lists it) is one the scenario's export settings must export."""


def exportable(expense: dict[str, Any]) -> bool:
    """What the chaos tenant's settings export: reimbursable, in an exportable state, not zero to the cent."""
    amount = Decimal(str(expense.get("amount") or 0)).quantize(CENT)
    return bool(expense.get("is_reimbursable")) and expense.get("state") in DEFAULT_EXPORTABLE_STATES and amount != 0


def tally(
    expenses: Iterable[dict[str, Any]], documents: Iterable[Booked], *, wanted_if: Exportable = exportable
) -> Tally:
    wanted = {expense["id"] for expense in expenses if wanted_if(expense)}
    listed = list(documents)
    references = Counter(document.reference for document in listed)
    under: defaultdict[str, set[str]] = defaultdict(set)
    for document in listed:
        for expense_id in document.expenses:
            under[expense_id].add(document.reference)
    duplicates = sum(count - 1 for count in references.values()) + sum(len(refs) - 1 for refs in under.values())
    return Tally(expenses=len(wanted), documents=len(listed), duplicates=duplicates, missing=len(wanted - under.keys()))


async def tally_sandbox(
    sandbox_url: str, destination: SandboxDestination, *, wanted_if: Exportable = exportable
) -> Tally:
    """Every expense of the Fyle simulator (those `wanted_if` says must be exported) against every document of the
    destination's simulator."""
    tokens, _ = fyle_grant(sandbox_url)
    expenses = fyle_listing(sandbox_url, tokens["access_token"], "expenses")
    async with httpx.AsyncClient(base_url=f"{sandbox_url}{CONTROL_PREFIX}", timeout=120) as control:
        documents = await destination.documents(control)
    return tally(expenses, documents, wanted_if=wanted_if)


async def lost_webhooks(
    database: Database, *, tenant_id: uuid.UUID, connection_id: uuid.UUID, acknowledged: Iterable[str]
) -> int:
    """Deliveries answered 2xx whose event is not in the inbox, or is there but was never processed."""
    async with database.tenant_session(tenant_id) as session:
        processed = set(
            (
                await session.scalars(
                    select(WebhookEvent.event_id).where(
                        WebhookEvent.connection_id == connection_id,
                        WebhookEvent.state == WebhookState.PROCESSED.value,
                    )
                )
            ).all()
        )
    return len(set(acknowledged) - processed)
