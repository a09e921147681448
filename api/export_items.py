"""Export items for the retry dashboard's people: find what failed and why, then replay or skip it.

A tenant admin's key sees its own tenant's items. A support key sees every tenant's, through a cross-tenant
session (whose every opening is audited) — support may act (replay, skip) but never reads credentials.

    GET  /v1/export-items                      filters as query parameters, cursor pagination
    GET  /v1/export-items/{export_item_id}     the item, its expenses, attempts, audit events, missing mappings
    POST /v1/items/{export_item_id}/replay     needs_action → pending (409 otherwise)
    POST /v1/items/{export_item_id}/skip       {"reason": "…"} needs_action → skipped (409 otherwise)
    POST /v1/items/{export_item_id}/export-again
                                               {"confirm_duplicate_risk": true, "reason": "…"} needs_action →
                                               pending under a new idempotency key (422 unconfirmed, 409 otherwise)
"""

import uuid
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.constants import SEARCH_MAX_LENGTH
from api.deps import DatabaseDep, PrincipalDep, QueueDep
from api.timestamps import DateTimeText
from core.models import ApiKeyRole, ExportItem, ExportState
from sync.constants import DUPLICATE_RISK
from sync.export_again import (
    DuplicateRiskNotConfirmedError,
    ExportAgainReasonRequiredError,
    ExportAgainRefusedError,
    export_again,
)
from sync.item_queries import InvalidCursorError, ItemFilter, ItemSort, item_detail, list_items
from sync.reconciler import ring_export_bell
from sync.replay import ItemNotFoundError, ReplayRefusedError, SkipReasonRequiredError, skip_item
from sync.replay import replay_item as replay_one
from web.constants import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from web.pagination import CursorQuery
from web.problems import Problem, problem_responses

router = APIRouter(tags=["export items"])

ANY_STATE = "any"


@dataclass(frozen=True, slots=True)
class ItemScope:
    """The caller's view of export items: one tenant (admin) or every tenant (support, `tenant_id` None)."""

    session: AsyncSession
    tenant_id: uuid.UUID | None
    actor: str


async def get_item_scope(request: Request, database: DatabaseDep, principal: PrincipalDep) -> AsyncIterator[ItemScope]:
    """One transaction per request: the admin's tenant session, or support's audited cross-tenant session."""
    if principal.role is ApiKeyRole.ADMIN and principal.tenant_id is not None:
        async with database.tenant_session(principal.tenant_id) as session:
            yield ItemScope(session, principal.tenant_id, principal.actor)
        return
    reason = f"{request.method} {request.url.path}"
    async with database.cross_tenant_session(actor=principal.actor, reason=reason) as session:
        yield ItemScope(session, None, principal.actor)


ItemScopeDep = Annotated[ItemScope, Depends(get_item_scope, scope="function")]
"""Committed before the response is sent, as `api.deps.RepositoryDep`."""


class ItemRowPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    tenant_id: uuid.UUID
    tenant_name: str
    tenant_slug: str
    connection_id: uuid.UUID
    connection_name: str
    provider: str
    document_type: str
    state: str
    error_class: str | None
    error_code: str | None
    error_message: str | None = Field(description="The start of the message; the item's detail has all of it.")
    attempt_count: int
    outcome_unknown: bool
    group_key: str
    created_at: datetime
    updated_at: datetime


class ItemRowsPublic(BaseModel):
    items: list[ItemRowPublic]
    next_cursor: str | None


class ItemPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    tenant_id: uuid.UUID
    destination_connection_id: uuid.UUID
    destination_provider: str
    document_type: str
    group_key: str
    idempotency_key: str
    state: str
    attempt_count: int
    next_attempt_at: datetime
    outcome_unknown: bool
    error_class: str | None
    error_code: str | None
    error_message: str | None
    error_hint: str | None
    skip_reason: str | None
    missing_mappings: list[Any] | None
    redated_to: date | None = Field(
        description="The day the document was posted on instead of its own, whose period the destination had closed "
        "(export setting post_closed_period_to_first_open_day); null when posted on its own day."
    )
    remote_id: str | None
    remote_url: str | None
    created_at: datetime
    updated_at: datetime


class SourceRecordPublic(BaseModel):
    id: uuid.UUID
    connection_id: uuid.UUID
    kind: str
    remote_id: str = Field(description="The expense id at the source.")
    parent_remote_id: str | None = Field(description="The report id at the source.")
    remote_state: str | None
    data: dict[str, Any]
    skip_reason: str | None
    changed_after_export: bool
    released_at: datetime | None


class AttemptPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    number: int
    worker: str | None
    outcome: str | None
    error_class: str | None
    error_code: str | None
    error_message: str | None
    request_excerpt: dict[str, Any] | None
    response_excerpt: dict[str, Any] | None
    started_at: datetime
    finished_at: datetime | None


class ItemAuditEventPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    actor: str
    action: str
    data: dict[str, Any]
    created_at: datetime


class TraceLinePublic(BaseModel):
    amount: Decimal = Field(description="As the document carries it (net of tax where a tax code applies).")
    expense_ids: list[str] = Field(description="The source expenses behind the line, named in its memo.")


class ItemTracePublic(BaseModel):
    """What the destination's document names, for tracing a posted line back to its expense."""

    reference: str = Field(description="The `ll-…` reference the document stores.")
    report_ids: list[str]
    lines: list[TraceLinePublic] = Field(description="Per line of the document as first sent; none before it is built.")


class ItemDetailPublic(BaseModel):
    item: ItemPublic
    trace: ItemTracePublic
    tenant_name: str
    tenant_slug: str
    connection_name: str
    records: list[SourceRecordPublic]
    attempts: list[AttemptPublic]
    audit_events: list[ItemAuditEventPublic]
    missing_mappings: list[Any]


class SkipBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=2000, description="Why the item is not exported; kept and audited.")


class ExportAgainBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    confirm_duplicate_risk: bool = Field(
        description=f"Must be true: you accept that {DUPLICATE_RISK} Check the destination first; if the earlier "
        "document is there, replay the item instead."
    )
    reason: str = Field(
        min_length=1, max_length=2000, description="Why the item is exported again; kept with both keys and audited."
    )


def item_filter(
    scope: ItemScope,
    *,
    tenant_id: uuid.UUID | None = None,
    connection_id: uuid.UUID | None = None,
    provider: str | None = None,
    error_class: str | None = None,
    state: str = ExportState.NEEDS_ACTION.value,
    created_from: datetime | None = None,
    created_to: datetime | None = None,
    updated_from: datetime | None = None,
    updated_to: datetime | None = None,
    search: str | None = None,
    expense_id: str | None = None,
    reference: str | None = None,
) -> ItemFilter:
    """The caller's filter, pinned to the admin's tenant (an admin's `tenant_id` cannot widen it)."""
    if state != ANY_STATE and state not in ExportState._value2member_map_:
        allowed = ", ".join([*ExportState._value2member_map_, ANY_STATE])
        raise Problem(422, f"state must be one of: {allowed}.", problem="validation-failed")
    return ItemFilter(
        tenant_id=scope.tenant_id or tenant_id,
        connection_id=connection_id,
        provider=provider,
        error_class=error_class,
        state=None if state == ANY_STATE else ExportState(state),
        created_from=created_from,
        created_to=created_to,
        updated_from=updated_from,
        updated_to=updated_to,
        search=search,
        expense_id=expense_id,
        reference=reference,
    )


async def _item_tenant(scope: ItemScope, item_id: uuid.UUID) -> uuid.UUID:
    """The item's tenant, as far as the caller may see it (row-level security hides the rest): 404 otherwise."""
    query = select(ExportItem.tenant_id).where(ExportItem.id == item_id)
    if scope.tenant_id is not None:
        query = query.where(ExportItem.tenant_id == scope.tenant_id)
    tenant_id = await scope.session.scalar(query)
    if tenant_id is None:
        raise Problem(404, f"No export item {item_id} exists for this key.")
    return tenant_id


@router.get("/export-items", response_model=ItemRowsPublic, summary="List export items; those needing action first")
async def list_export_items(
    scope: ItemScopeDep,
    tenant_id: Annotated[uuid.UUID | None, Query(description="Support keys: one tenant only.")] = None,
    connection_id: Annotated[uuid.UUID | None, Query(description="The destination connection.")] = None,
    provider: Annotated[str | None, Query(max_length=32)] = None,
    error_class: Annotated[str | None, Query(max_length=32)] = None,
    state: Annotated[
        str,
        Query(
            description="An item state, or `any`.",
            json_schema_extra={"enum": [*ExportState._value2member_map_, ANY_STATE]},
        ),
    ] = ExportState.NEEDS_ACTION.value,
    created_from: Annotated[DateTimeText | None, Query()] = None,
    created_to: Annotated[DateTimeText | None, Query()] = None,
    updated_from: Annotated[DateTimeText | None, Query()] = None,
    updated_to: Annotated[DateTimeText | None, Query()] = None,
    search: Annotated[str | None, Query(max_length=SEARCH_MAX_LENGTH, description="Words of the error.")] = None,
    expense_id: Annotated[str | None, Query(max_length=255, description="An expense or report id.")] = None,
    reference: Annotated[str | None, Query(max_length=255, description="Idempotency key or remote id.")] = None,
    sort: Annotated[ItemSort, Query()] = ItemSort.UPDATED_AT,
    cursor: CursorQuery = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
) -> ItemRowsPublic:
    chosen = item_filter(
        scope,
        tenant_id=tenant_id,
        connection_id=connection_id,
        provider=provider,
        error_class=error_class,
        state=state,
        created_from=created_from,
        created_to=created_to,
        updated_from=updated_from,
        updated_to=updated_to,
        search=search,
        expense_id=expense_id,
        reference=reference,
    )
    try:
        rows, next_cursor = await list_items(scope.session, chosen, sort=sort, cursor=cursor, limit=limit)
    except InvalidCursorError as exc:
        raise Problem(
            400,
            "The cursor is not one issued for this sort; start again without it.",
            problem="invalid-cursor",
        ) from exc
    return ItemRowsPublic(items=[ItemRowPublic.model_validate(row) for row in rows], next_cursor=next_cursor)


@router.get(
    "/export-items/{export_item_id}",
    response_model=ItemDetailPublic,
    summary="Read an export item: why it failed, its expenses, attempts and history",
)
async def read_export_item(export_item_id: uuid.UUID, scope: ItemScopeDep) -> ItemDetailPublic:
    await _item_tenant(scope, export_item_id)
    detail = await item_detail(scope.session, export_item_id)
    if detail is None:
        raise Problem(404, f"No export item {export_item_id} exists for this key.")
    return ItemDetailPublic(
        item=ItemPublic.model_validate(detail.item),
        trace=ItemTracePublic.model_validate(asdict(detail.trace)),
        tenant_name=detail.tenant_name,
        tenant_slug=detail.tenant_slug,
        connection_name=detail.connection_name,
        records=[SourceRecordPublic.model_validate(record) for record in detail.records],
        attempts=[AttemptPublic.model_validate(attempt) for attempt in detail.attempts],
        audit_events=[ItemAuditEventPublic.model_validate(event) for event in detail.audit_events],
        missing_mappings=detail.missing_mappings,
    )


@router.post("/items/{export_item_id}/replay", response_model=ItemPublic, summary="Replay an item that needs action")
async def replay_export_item(export_item_id: uuid.UUID, scope: ItemScopeDep, queue: QueueDep) -> ItemPublic:
    """Back to pending, due now, with the same idempotency key: the destination never gets a second document."""
    tenant_id = await _item_tenant(scope, export_item_id)
    try:
        item = await replay_one(scope.session, tenant_id=tenant_id, item_id=export_item_id, actor=scope.actor)
    except ItemNotFoundError as exc:
        raise Problem(404, str(exc)) from exc
    except ReplayRefusedError as exc:
        raise Problem(409, str(exc), problem="not-replayable", state=await _state(scope, export_item_id)) from exc
    public = ItemPublic.model_validate(item)
    await scope.session.commit()  # a worker must see the item pending before the bell rings
    await ring_export_bell(queue, tenant_id=tenant_id, connection_id=item.destination_connection_id)
    return public


@router.post("/items/{export_item_id}/skip", response_model=ItemPublic, summary="Skip an item that needs action")
async def skip_export_item(export_item_id: uuid.UUID, body: SkipBody, scope: ItemScopeDep) -> ItemPublic:
    """The item is not exported; its expenses stay linked to it so that no later grouping exports them either."""
    tenant_id = await _item_tenant(scope, export_item_id)
    try:
        item = await skip_item(
            scope.session, tenant_id=tenant_id, item_id=export_item_id, actor=scope.actor, reason=body.reason
        )
    except ItemNotFoundError as exc:
        raise Problem(404, str(exc)) from exc
    except SkipReasonRequiredError as exc:
        raise Problem(422, str(exc), problem="validation-failed") from exc
    except ReplayRefusedError as exc:
        raise Problem(409, str(exc), problem="not-skippable", state=await _state(scope, export_item_id)) from exc
    return ItemPublic.model_validate(item)


@router.post(
    "/items/{export_item_id}/export-again",
    response_model=ItemPublic,
    summary="Export an item that needs action again, as a new document under a new idempotency key",
    responses=problem_responses(
        {
            404: "No such item for this key (another tenant's item looks the same).",
            409: "The item does not need action; `state` says what it is.",
            422: "The duplicate risk is not confirmed, or the reason is missing.",
        }
    ),
)
async def export_item_again(
    export_item_id: uuid.UUID, body: ExportAgainBody, scope: ItemScopeDep, queue: QueueDep
) -> ItemPublic:
    """For an item whose key is spent while its document is gone (deleted in the destination, or the connection
    now points at other books): a replay would meet the same refusal. The new key gets past it — and past the
    destination's protection against duplicates, hence the confirmation. Audited with both keys and the reason."""
    tenant_id = await _item_tenant(scope, export_item_id)
    try:
        item = await export_again(
            scope.session,
            tenant_id=tenant_id,
            item_id=export_item_id,
            actor=scope.actor,
            confirm_duplicate_risk=body.confirm_duplicate_risk,
            reason=body.reason,
        )
    except ItemNotFoundError as exc:
        raise Problem(404, str(exc)) from exc
    except DuplicateRiskNotConfirmedError as exc:
        raise Problem(422, str(exc), problem="duplicate-risk-not-confirmed") from exc
    except ExportAgainReasonRequiredError as exc:
        raise Problem(422, str(exc), problem="validation-failed") from exc
    except ExportAgainRefusedError as exc:
        raise Problem(409, str(exc), problem="not-exportable-again", state=await _state(scope, export_item_id)) from exc
    public = ItemPublic.model_validate(item)
    await scope.session.commit()  # a worker must see the item pending before the bell rings
    await ring_export_bell(queue, tenant_id=tenant_id, connection_id=item.destination_connection_id)
    return public


async def _state(scope: ItemScope, item_id: uuid.UUID) -> str | None:
    return await scope.session.scalar(select(ExportItem.state).where(ExportItem.id == item_id))
