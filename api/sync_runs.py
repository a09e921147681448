"""Sync runs: request one for a destination connection, follow its progress; pause, resume and schedule syncs."""

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from api.connections import ConnectionPublic
from api.deps import QueueDep, RepositoryDep
from core.models import Connection, ConnectionRole, RunState, SyncRun
from core.repository import TenantRepository
from sync.runs import RunKind, RunRefusedError, RunTrigger, enqueue_run, request_run, set_paused
from web.pagination import PageParams, newest_first, page_params
from web.problems import Problem, problem_responses

router = APIRouter(tags=["sync runs"])

MAX_INTERVAL_MINUTES = 7 * 24 * 60


class SyncRunCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: RunKind = Field(
        default=RunKind.SYNC,
        description="`sync` runs every phase: import dimensions, pull, group, export, write back, payments.",
    )


class SyncRunPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    connection_id: uuid.UUID
    kind: str
    trigger: str
    state: str
    phase: str | None
    counts: dict[str, Any]
    log: list[Any]
    error_message: str | None
    requested_by: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class SyncRunsPublic(BaseModel):
    items: list[SyncRunPublic]
    next_cursor: str | None


class ScheduleUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    interval_minutes: int | None = Field(
        ge=5, le=MAX_INTERVAL_MINUTES, description="Minutes between scheduled sync runs; null turns the schedule off."
    )


async def _connection(repository: TenantRepository, connection_id: uuid.UUID) -> Connection:
    row = await repository.get(Connection, connection_id)
    if row is None:
        raise Problem(404, f"No connection {connection_id} exists for this tenant.")
    return row


@router.post(
    "/connections/{connection_id}/sync-runs",
    response_model=SyncRunPublic,
    status_code=202,
    summary="Start a sync run (or join the one already waiting or running)",
    responses={
        200: {"model": SyncRunPublic, "description": "A run of this kind was already waiting or running: joined."},
        **problem_responses({409: "The connection cannot run: it is a source, or waits for re-authorization."}),
    },
)
async def create_sync_run(
    connection_id: uuid.UUID, body: SyncRunCreate, repository: RepositoryDep, queue: QueueDep, response: Response
) -> SyncRunPublic:
    connection = await _connection(repository, connection_id)
    try:
        run, created = await request_run(
            repository.session,
            connection=connection,
            kind=body.kind,
            trigger=RunTrigger.MANUAL,
            requested_by=repository.actor,
        )
    except RunRefusedError as exc:
        raise Problem(409, str(exc), problem="run-refused") from exc
    public = SyncRunPublic.model_validate(run)
    await repository.session.commit()  # a worker must see the run before the bell rings
    if created:
        await enqueue_run(queue, run, job_id=f"run:{run.id}:requested")
    else:
        response.status_code = 200
    return public


@router.get("/sync-runs", response_model=SyncRunsPublic, summary="List sync runs, newest first")
async def list_sync_runs(
    repository: RepositoryDep,
    page: Annotated[PageParams, Depends(page_params)],
    connection_id: Annotated[uuid.UUID | None, Query()] = None,
    state: Annotated[RunState | None, Query()] = None,
) -> SyncRunsPublic:
    query = repository.scoped(SyncRun)
    if connection_id is not None:
        query = query.where(SyncRun.connection_id == connection_id)
    if state is not None:
        query = query.where(SyncRun.state == state.value)
    rows, next_cursor = await newest_first(
        repository.session, query, at=SyncRun.created_at, ident=SyncRun.id, page=page
    )
    return SyncRunsPublic(items=[SyncRunPublic.model_validate(row) for row in rows], next_cursor=next_cursor)


@router.get("/sync-runs/{run_id}", response_model=SyncRunPublic, summary="Read a sync run with its counts and log")
async def read_sync_run(run_id: uuid.UUID, repository: RepositoryDep) -> SyncRunPublic:
    row = await repository.get(SyncRun, run_id)
    if row is None:
        raise Problem(404, f"No sync run {run_id} exists for this tenant.")
    return SyncRunPublic.model_validate(row)


async def _set_paused(repository: TenantRepository, connection_id: uuid.UUID, paused: bool) -> ConnectionPublic:
    connection = await _connection(repository, connection_id)
    if await set_paused(repository.session, connection=connection, paused=paused, actor=repository.actor):
        await repository.session.refresh(connection)
    return ConnectionPublic.of(connection)


@router.post("/connections/{connection_id}/pause", response_model=ConnectionPublic, summary="Pause syncing")
async def pause_connection(connection_id: uuid.UUID, repository: RepositoryDep) -> ConnectionPublic:
    """Nothing of this connection is claimed while paused: its items and runs wait, keeping their attempts."""
    return await _set_paused(repository, connection_id, True)


@router.post("/connections/{connection_id}/resume", response_model=ConnectionPublic, summary="Resume syncing")
async def resume_connection(connection_id: uuid.UUID, repository: RepositoryDep) -> ConnectionPublic:
    return await _set_paused(repository, connection_id, False)


@router.put(
    "/connections/{connection_id}/schedule",
    response_model=ConnectionPublic,
    summary="Set the sync schedule",
    responses=problem_responses({409: "The connection is a source: schedules belong to destinations."}),
)
async def set_schedule(connection_id: uuid.UUID, body: ScheduleUpdate, repository: RepositoryDep) -> ConnectionPublic:
    connection = await _connection(repository, connection_id)
    if connection.role != ConnectionRole.DESTINATION.value:
        raise Problem(409, "Schedules belong to destination connections.", problem="not-a-destination")
    connection.sync_interval_minutes = body.interval_minutes
    await repository.audit("connection.schedule", entity=connection, data={"interval_minutes": body.interval_minutes})
    await repository.session.flush()
    await repository.session.refresh(connection)
    return ConnectionPublic.of(connection)
