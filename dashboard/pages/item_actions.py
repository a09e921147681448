"""Acting on export items: replay one or the selected ones, skip with a reason, save a missing mapping, and export
one again as a new document behind a page that states the duplicate risk and asks for its confirmation.

Every change goes through the service layer (`sync.replay`, `sync.export_again`, `mappings.mapping_store`) in the
item's own tenant session, with the dashboard user as the audited actor; the export bell rings only after the commit.
"""

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from sqlalchemy import select

from connectors.registry import destination_vocabulary
from core.models import Connection, ExportItem
from dashboard.constants import EXPORT_AGAIN_CONFIRMED, MAX_PAGE_SIZE, PREFIX, SKIP_REASON_MAX_LENGTH
from dashboard.csrf import CsrfUserDep
from dashboard.pages.common import back, parse_uuid
from dashboard.scope import NotFoundPage, Scope, ScopeDep
from dashboard.templating import render
from mappings.errors import RejectedChange
from mappings.mapping_store import MappingChange, set_mappings
from sync.constants import DUPLICATE_RISK
from sync.export_again import (
    DuplicateRiskNotConfirmedError,
    ExportAgainReasonRequiredError,
    ExportAgainRefusedError,
    export_again,
)
from sync.item_queries import item_detail
from sync.queue import Queue
from sync.reconciler import ring_export_bell
from sync.replay import (
    ItemNotFoundError,
    ReplayRefusedError,
    SkipReasonRequiredError,
    replay_item,
    skip_item,
)
from web.app_state import queue_of

router = APIRouter()


class ForbiddenPage(Exception):
    """An action this role may not take: answered with the dashboard's 403 page."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class Outcome:
    changed: int = 0
    refused: list[str] = field(default_factory=list)
    bells: set[tuple[uuid.UUID, uuid.UUID]] = field(default_factory=set)

    def summary(self, verb: str) -> tuple[str, str]:
        noun = "item" if self.changed == 1 else "items"
        message = f"{self.changed} {noun} {verb}."
        if self.refused:
            message += f" {len(self.refused)} refused: {self.refused[0]}"
        return message, "error" if self.refused and not self.changed else "info"


async def _locate(scope: Scope, item_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[tuple[uuid.UUID, uuid.UUID]]]:
    """The items this user may see, grouped by tenant: {tenant: [(item, connection), …]}."""
    async with scope.reading("locate export items") as session:
        rows = (
            await session.execute(
                select(ExportItem.id, ExportItem.tenant_id, ExportItem.destination_connection_id).where(
                    ExportItem.id.in_(item_ids)
                )
            )
        ).all()
    grouped: dict[uuid.UUID, list[tuple[uuid.UUID, uuid.UUID]]] = defaultdict(list)
    for row in rows:
        if scope.allows(row.tenant_id):
            grouped[row.tenant_id].append((row.id, row.destination_connection_id))
    return grouped


async def _act(scope: Scope, item_ids: list[uuid.UUID], *, skip_reason: str | None) -> Outcome:
    outcome = Outcome()
    located = await _locate(scope, item_ids)
    missing = len(item_ids) - sum(len(items) for items in located.values())
    if missing:
        outcome.refused.extend(["an item no longer exists or is not yours to act on."] * missing)
    for tenant_id, items in located.items():
        async with scope.acting_for(tenant_id) as repository:
            for item_id, connection_id in items:
                try:
                    async with repository.session.begin_nested():
                        if skip_reason is None:
                            await replay_item(
                                repository.session, tenant_id=tenant_id, item_id=item_id, actor=repository.actor
                            )
                            outcome.bells.add((tenant_id, connection_id))
                        else:
                            await skip_item(
                                repository.session,
                                tenant_id=tenant_id,
                                item_id=item_id,
                                actor=repository.actor,
                                reason=skip_reason,
                            )
                    outcome.changed += 1
                except (ItemNotFoundError, ReplayRefusedError) as exc:
                    outcome.refused.append(str(exc))
    return outcome


async def _ring(request: Request, outcome: Outcome) -> None:
    queue: Queue = queue_of(request)
    for tenant_id, connection_id in outcome.bells:
        await ring_export_bell(queue, tenant_id=tenant_id, connection_id=connection_id)


def _selected(values: list[str]) -> list[uuid.UUID]:
    ids = [parsed for value in values if (parsed := parse_uuid(value)) is not None]
    return list(dict.fromkeys(ids))[:MAX_PAGE_SIZE]


async def _chosen(request: Request) -> list[uuid.UUID]:
    """A row's own button (`only`) acts on that row alone; otherwise the ticked boxes."""
    form = await request.form()
    only = form.get("only")
    if isinstance(only, str) and only:
        return _selected([only])
    return _selected([value for value in form.getlist("item_id") if isinstance(value, str)])


@router.post("/items/replay")
async def replay_selected(
    request: Request, user: CsrfUserDep, scope: ScopeDep, next: Annotated[str, Form()] = ""
) -> Response:
    item_ids = await _chosen(request)
    if not item_ids:
        return back(request, f"{PREFIX}/items", "Tick the items to replay first.", level="error", to=next)
    outcome = await _act(scope, item_ids, skip_reason=None)
    await _ring(request, outcome)
    message, level = outcome.summary("queued for replay")
    return back(request, f"{PREFIX}/items", message, level=level, to=next)


@router.post("/items/skip")
async def skip_selected(
    request: Request,
    user: CsrfUserDep,
    scope: ScopeDep,
    reason: Annotated[str, Form(max_length=SKIP_REASON_MAX_LENGTH)] = "",
    next: Annotated[str, Form()] = "",
) -> Response:
    item_ids = await _chosen(request)
    if not item_ids:
        return back(request, f"{PREFIX}/items", "Tick the items to skip first.", level="error", to=next)
    if not reason.strip():
        return back(request, f"{PREFIX}/items", "Say why the items are skipped.", level="error", to=next)
    outcome = await _act(scope, item_ids, skip_reason=reason)
    message, level = outcome.summary("skipped")
    return back(request, f"{PREFIX}/items", message, level=level, to=next)


@router.post("/items/{item_id}/replay")
async def replay_one(request: Request, item_id: uuid.UUID, user: CsrfUserDep, scope: ScopeDep) -> Response:
    outcome = await _act(scope, [item_id], skip_reason=None)
    if not outcome.changed and not await _locate(scope, [item_id]):
        raise NotFoundPage("export item")
    await _ring(request, outcome)
    message, level = outcome.summary("queued for replay")
    return back(request, f"{PREFIX}/items/{item_id}", message, level=level)


@router.post("/items/{item_id}/skip")
async def skip_one(
    request: Request,
    item_id: uuid.UUID,
    user: CsrfUserDep,
    scope: ScopeDep,
    reason: Annotated[str, Form(max_length=SKIP_REASON_MAX_LENGTH)] = "",
) -> Response:
    if not await _locate(scope, [item_id]):
        raise NotFoundPage("export item")
    try:
        if not reason.strip():
            raise SkipReasonRequiredError("Say why the item is skipped; the reason is kept with it and audited.")
        outcome = await _act(scope, [item_id], skip_reason=reason)
    except SkipReasonRequiredError as exc:
        return back(request, f"{PREFIX}/items/{item_id}", str(exc), level="error")
    message, level = outcome.summary("skipped")
    return back(request, f"{PREFIX}/items/{item_id}", message, level=level)


@router.post("/items/{item_id}/mappings")
async def save_mapping(
    request: Request,
    item_id: uuid.UUID,
    user: CsrfUserDep,
    scope: ScopeDep,
    source_type: Annotated[str, Form(max_length=64)],
    source_value: Annotated[str, Form(max_length=1000)],
    destination_type: Annotated[str, Form(max_length=64)],
    destination_attribute_id: Annotated[uuid.UUID, Form()],
) -> Response:
    """The tenant admin's fix for a missing mapping; saving it releases every item waiting on it, not just this one."""
    located = await _locate(scope, [item_id])
    if not located:
        raise NotFoundPage("export item")
    if user.is_support:
        raise ForbiddenPage("Mappings belong to the tenant: its admin saves them. Support can replay or skip.")
    [(tenant_id, [(_, connection_id)])] = located.items()
    change = MappingChange(source_type, source_value, destination_type, destination_attribute_id)
    try:
        async with scope.acting_for(tenant_id) as repository:
            destination = await repository.get(Connection, connection_id)
            if destination is None:
                raise NotFoundPage("destination connection")
            saved = await set_mappings(
                repository,
                destination_connection_id=connection_id,
                changes=[change],
                vocabulary=destination_vocabulary(destination.provider),
            )
    except RejectedChange as exc:
        return back(request, f"{PREFIX}/items/{item_id}", f"The mapping was not saved: {exc}.", level="error")
    released = len(saved.released_item_ids)
    if released:
        await _ring(request, Outcome(bells={(tenant_id, connection_id)}))
    message = f"Mapping saved. {released} waiting item{'' if released == 1 else 's'} went back to pending."
    return back(request, f"{PREFIX}/items/{item_id}", message)


@router.get("/items/{item_id}/export-again", name="dashboard_export_again")
async def export_again_page(request: Request, item_id: uuid.UUID, scope: ScopeDep) -> Response:
    """The confirmation page: exporting again defeats the duplicate protection, so it is never one click away."""
    async with scope.reading(f"export item {item_id}") as session:
        detail = await item_detail(session, item_id)
    if detail is None or not scope.allows(detail.item.tenant_id):
        raise NotFoundPage("export item")
    return render(
        request,
        "export_again.html",
        {
            "d": detail,
            "item": detail.item,
            "risk": DUPLICATE_RISK,
            "confirmed_value": EXPORT_AGAIN_CONFIRMED,
            "reason_max_length": SKIP_REASON_MAX_LENGTH,
        },
    )


@router.post("/items/{item_id}/export-again")
async def export_one_again(
    request: Request,
    item_id: uuid.UUID,
    user: CsrfUserDep,
    scope: ScopeDep,
    confirm_duplicate_risk: Annotated[str, Form(max_length=16)] = "",
    reason: Annotated[str, Form(max_length=SKIP_REASON_MAX_LENGTH)] = "",
) -> Response:
    located = await _locate(scope, [item_id])
    if not located:
        raise NotFoundPage("export item")
    [(tenant_id, [(_, connection_id)])] = located.items()
    item_page = f"{PREFIX}/items/{item_id}"
    try:
        async with scope.acting_for(tenant_id) as repository:
            item = await export_again(
                repository.session,
                tenant_id=tenant_id,
                item_id=item_id,
                actor=repository.actor,
                confirm_duplicate_risk=confirm_duplicate_risk == EXPORT_AGAIN_CONFIRMED,
                reason=reason,
            )
            new_key = item.idempotency_key
    except (DuplicateRiskNotConfirmedError, ExportAgainReasonRequiredError) as exc:
        return back(request, f"{item_page}/export-again", str(exc), level="error")
    except (ItemNotFoundError, ExportAgainRefusedError) as exc:
        return back(request, item_page, str(exc), level="error")
    await _ring(request, Outcome(bells={(tenant_id, connection_id)}))
    return back(
        request, item_page, f"Exported again as a new document: the item is pending under the new key {new_key}."
    )
