"""Inbound webhook events: what arrived, what became of it, and replay for the ones that failed (or to redo one)."""

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict

from api.deps import QueueDep, RepositoryDep
from core.audit import write_appended_events
from core.models import AuditEvent, WebhookEvent, WebhookState
from core.repository import TenantRepository
from sync.webhook_events import NotReplayableError, enqueue_event, replay_event, replay_job_id
from web.pagination import PageParams, newest_first, page_params
from web.problems import Problem

router = APIRouter(tags=["webhook events"])


class WebhookEventPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    connection_id: uuid.UUID
    provider: str
    event_id: str
    event_type: str | None
    state: str
    error_message: str | None
    attempt_count: int
    next_attempt_at: datetime
    received_at: datetime
    processed_at: datetime | None


class WebhookEventsPublic(BaseModel):
    items: list[WebhookEventPublic]
    next_cursor: str | None


class WebhookEventHistory(BaseModel):
    """One audited step of the event: each attempt's outcome or error, and each replay."""

    model_config = ConfigDict(from_attributes=True)

    action: str
    actor: str
    data: dict[str, Any]
    created_at: datetime


class WebhookEventDetail(WebhookEventPublic):
    payload: dict[str, Any]
    history: list[WebhookEventHistory]


async def _event(repository: TenantRepository, event_id: uuid.UUID) -> WebhookEvent:
    row = await repository.get(WebhookEvent, event_id)
    if row is None:
        raise Problem(404, f"No webhook event {event_id} exists for this tenant.")
    return row


async def _detail(repository: TenantRepository, event: WebhookEvent) -> WebhookEventDetail:
    await write_appended_events(repository.session)  # a replay answers with the history it has just added to
    history = (
        await repository.session.scalars(
            repository.scoped(AuditEvent)
            .where(AuditEvent.entity_type == WebhookEvent.__tablename__, AuditEvent.entity_id == str(event.id))
            .order_by(AuditEvent.seq)
        )
    ).all()
    public = WebhookEventPublic.model_validate(event)
    return WebhookEventDetail(
        **public.model_dump(),
        payload=event.payload,
        history=[WebhookEventHistory.model_validate(row) for row in history],
    )


@router.get("/webhook-events", response_model=WebhookEventsPublic, summary="List webhook events, newest first")
async def list_webhook_events(
    repository: RepositoryDep,
    page: Annotated[PageParams, Depends(page_params)],
    connection_id: Annotated[uuid.UUID | None, Query()] = None,
    state: Annotated[WebhookState | None, Query()] = None,
) -> WebhookEventsPublic:
    query = repository.scoped(WebhookEvent)
    if connection_id is not None:
        query = query.where(WebhookEvent.connection_id == connection_id)
    if state is not None:
        query = query.where(WebhookEvent.state == state.value)
    rows, next_cursor = await newest_first(
        repository.session, query, at=WebhookEvent.received_at, ident=WebhookEvent.id, page=page
    )
    return WebhookEventsPublic(items=[WebhookEventPublic.model_validate(row) for row in rows], next_cursor=next_cursor)


@router.get(
    "/webhook-events/{webhook_event_id}",
    response_model=WebhookEventDetail,
    summary="Read a webhook event with its payload and what became of it",
)
async def read_webhook_event(webhook_event_id: uuid.UUID, repository: RepositoryDep) -> WebhookEventDetail:
    return await _detail(repository, await _event(repository, webhook_event_id))


@router.post(
    "/webhook-events/{webhook_event_id}/replay",
    response_model=WebhookEventDetail,
    status_code=202,
    summary="Handle a processed or failed event again, with fresh attempts",
)
async def replay_webhook_event(
    webhook_event_id: uuid.UUID, repository: RepositoryDep, queue: QueueDep
) -> WebhookEventDetail:
    event = await _event(repository, webhook_event_id)
    try:
        replayed = await replay_event(repository, event=event)
    except NotReplayableError as exc:
        raise Problem(409, str(exc), problem="not-replayable") from exc
    detail = await _detail(repository, replayed)
    await repository.session.commit()  # a worker must see the event received before the bell rings
    await enqueue_event(queue, replayed, job_id=replay_job_id(replayed.id))
    return detail
