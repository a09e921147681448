"""Bulk replays: every item needing action that matches a filter goes back to pending, in the background.

    POST /v1/replays                 a filter → 202 with the replay (its `total`; `done` grows as it works)
    GET  /v1/replays/{replay_id}     its progress

An admin's replay covers its own tenant. A support key's covers the tenant it names, or every tenant when it names
none.
"""

import uuid
from datetime import datetime
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from api.constants import SEARCH_MAX_LENGTH
from api.deps import QueueDep
from api.export_items import ItemScopeDep, item_filter
from api.timestamps import DateTimeText
from core.models import ExportState
from sync.replay import ReplayFilterError, enqueue_replay, get_replay, request_replay
from web.problems import Problem

router = APIRouter(tags=["replays"])


class ReplayCreate(BaseModel):
    """Which items to replay: the filters of `GET /v1/export-items`. Only items that need action are replayed."""

    model_config = ConfigDict(extra="forbid")

    tenant_id: uuid.UUID | None = Field(default=None, description="Support keys: one tenant; none for every tenant.")
    connection_id: uuid.UUID | None = None
    provider: str | None = Field(default=None, max_length=32)
    error_class: str | None = Field(default=None, max_length=32)
    state: str = Field(
        default=ExportState.NEEDS_ACTION.value,
        description="Only `needs_action` can be replayed.",
        json_schema_extra={"enum": [ExportState.NEEDS_ACTION.value]},
    )
    created_from: DateTimeText | None = None
    created_to: DateTimeText | None = None
    updated_from: DateTimeText | None = None
    updated_to: DateTimeText | None = None
    search: str | None = Field(default=None, max_length=SEARCH_MAX_LENGTH)
    expense_id: str | None = Field(default=None, max_length=255)
    reference: str | None = Field(default=None, max_length=255)


class ReplayPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    tenant_id: uuid.UUID | None = Field(description="None: a replay across every tenant.")
    filter: dict[str, Any]
    state: str
    total: int = Field(description="Items that matched when the replay was requested.")
    done: int = Field(description="Items replayed so far.")
    failed: int
    error_message: str | None
    requested_by: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


@router.post("/replays", response_model=ReplayPublic, status_code=202, summary="Replay every matching item")
async def create_replay(body: ReplayCreate, scope: ItemScopeDep, queue: QueueDep) -> ReplayPublic:
    chosen = item_filter(scope, **body.model_dump())
    try:
        replay = await request_replay(scope.session, item_filter=chosen, actor=scope.actor)
    except ReplayFilterError as exc:
        raise Problem(422, str(exc), problem="validation-failed") from exc
    public = ReplayPublic.model_validate(replay)
    await scope.session.commit()  # a worker must see the replay before the bell rings
    await enqueue_replay(queue, replay)
    return public


@router.get("/replays/{replay_id}", response_model=ReplayPublic, summary="Read a replay's progress")
async def read_replay(replay_id: uuid.UUID, scope: ItemScopeDep) -> ReplayPublic:
    replay = await get_replay(scope.session, replay_id)
    if replay is None or (scope.tenant_id is not None and replay.tenant_id != scope.tenant_id):
        raise Problem(404, f"No replay {replay_id} exists for this key.")
    return ReplayPublic.model_validate(replay)
