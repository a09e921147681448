"""Webhook events: what arrived and what failed, with replay. The replay is the API's (`sync.webhook_events`)."""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from sqlalchemy import select, tuple_

from core.models import Connection, WebhookEvent, WebhookState
from dashboard.constants import PAGE_SIZE, PREFIX
from dashboard.csrf import CsrfUserDep
from dashboard.pages.common import back, drop_empty, parse_uuid, tenant_names
from dashboard.scope import NotFoundPage, ScopeDep
from dashboard.templating import render
from sync.queue import Queue
from sync.webhook_events import REPLAYABLE_STATES, NotReplayableError, enqueue_event, replay_event, replay_job_id
from web.app_state import queue_of
from web.pagination import decode_cursor, encode_cursor
from web.problems import Problem

router = APIRouter()

COLUMNS = (
    WebhookEvent.id,
    WebhookEvent.tenant_id,
    WebhookEvent.connection_id,
    WebhookEvent.provider,
    WebhookEvent.event_id,
    WebhookEvent.event_type,
    WebhookEvent.state,
    WebhookEvent.error_message,
    WebhookEvent.attempt_count,
    WebhookEvent.received_at,
    WebhookEvent.processed_at,
)


def _cursor(value: str | None) -> Any:
    try:
        return decode_cursor(value or None)
    except Problem:
        return None


@router.get("/webhooks", name="dashboard_webhooks")
async def webhooks_page(
    request: Request,
    scope: ScopeDep,
    state: str | None = None,
    tenant: str | None = None,
    connection: str | None = None,
    cursor: str | None = None,
) -> Response:
    states = [s.value for s in WebhookState]
    chosen_state = state if state in states else None
    query = (
        select(*COLUMNS, Connection.name.label("connection_name"))
        .join(Connection, Connection.id == WebhookEvent.connection_id)
        .order_by(WebhookEvent.received_at.desc(), WebhookEvent.id.desc())
        .limit(PAGE_SIZE + 1)
    )
    if chosen_state:
        query = query.where(WebhookEvent.state == chosen_state)
    if (tenant_id := parse_uuid(tenant)) is not None:
        query = query.where(WebhookEvent.tenant_id == tenant_id)
    if (connection_id := parse_uuid(connection)) is not None:
        query = query.where(WebhookEvent.connection_id == connection_id)
    if (after := _cursor(cursor)) is not None:
        query = query.where(tuple_(WebhookEvent.received_at, WebhookEvent.id) < tuple_(*after))
    async with scope.reading("webhook events") as session:
        rows = (await session.execute(query)).all()
        names = await tenant_names(session)
    page = rows[:PAGE_SIZE]
    next_cursor = encode_cursor((page[-1].received_at, page[-1].id)) if len(rows) > PAGE_SIZE else None
    filters = drop_empty({"state": chosen_state, "tenant": tenant_id, "connection": connection_id})
    return render(
        request,
        "webhooks.html",
        {
            "events": [{**row._asdict(), "tenant_name": names.get(row.tenant_id, "")} for row in page],
            "states": states,
            "filters": filters,
            "tenants": sorted(names.items(), key=lambda pair: pair[1]),
            "next_query": {**filters, "cursor": next_cursor} if next_cursor else None,
            "replayable": REPLAYABLE_STATES,
            "live": True,
        },
    )


@router.post("/webhooks/{event_id}/replay")
async def replay_webhook(
    request: Request,
    event_id: uuid.UUID,
    user: CsrfUserDep,
    scope: ScopeDep,
    next: Annotated[str, Form()] = "",
) -> Response:
    async with scope.reading("locate webhook event") as session:
        tenant_id = await session.scalar(select(WebhookEvent.tenant_id).where(WebhookEvent.id == event_id))
    if tenant_id is None:
        raise NotFoundPage("webhook event")
    async with scope.acting_for(tenant_id) as repository:
        event = await repository.get(WebhookEvent, event_id)
        if event is None:
            raise NotFoundPage("webhook event")
        try:
            replayed = await replay_event(repository, event=event)
        except NotReplayableError as exc:
            return back(request, f"{PREFIX}/webhooks", str(exc), level="error", to=next)
        await repository.session.commit()  # a worker must see the event received before the bell rings
    queue: Queue = queue_of(request)
    await enqueue_event(queue, replayed, job_id=replay_job_id(replayed.id))
    return back(request, f"{PREFIX}/webhooks", f"Webhook event {replayed.event_id} queued again.", to=next)
