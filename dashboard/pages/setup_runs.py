"""Onboarding, the steps that start work: importing the destination's lists, and exporting (now, on a schedule, or
in real time), each showing its runs live with their counts and logs."""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from sqlalchemy import case, func, select

from connectors.registry import UnknownSystemError, connector_class, destination_vocabulary
from core.domain import RecordKind
from core.models import Connection, DestinationAttribute, ExportItem, RunState, SourceRecord, SyncRun
from dashboard.constants import PREFIX, PROGRESS_REFRESH_SECONDS
from dashboard.csrf import CsrfUserDep
from dashboard.pages.common import back
from dashboard.pages.setup_common import SETUP, DestinationView, destination_of, require_admin, steps_context
from dashboard.scope import NotFoundPage, Scope, ScopeDep
from dashboard.session import UserDep
from dashboard.templating import render
from sync.constants import REALTIME_EXPORT_SETTING
from sync.runs import RunKind, RunRefusedError, RunTrigger, enqueue_run, request_run
from web.app_state import queue_of

router = APIRouter(prefix=SETUP + "/destinations/{connection_id}")

SCHEDULES = (
    (None, "Off: only when started here, by the API or by a webhook"),
    (15, "Every 15 minutes"),
    (60, "Every hour"),
    (240, "Every 4 hours"),
    (1440, "Once a day"),
)
RECENT_RUNS = 10
OPEN_STATES = (RunState.PENDING.value, RunState.RUNNING.value)


async def _runs(session: Any, connection_id: uuid.UUID, kinds: tuple[str, ...] | None = None) -> list[SyncRun]:
    query = select(SyncRun).where(SyncRun.connection_id == connection_id)
    if kinds is not None:
        query = query.where(SyncRun.kind.in_(kinds))
    return list((await session.scalars(query.order_by(SyncRun.created_at.desc()).limit(RECENT_RUNS))).all())


def _label(system: str) -> Any:
    try:
        return destination_vocabulary(system).label
    except UnknownSystemError:
        return str


@router.get("/import")
async def import_page(request: Request, connection_id: uuid.UUID, user: UserDep, scope: ScopeDep) -> Response:
    require_admin(user)
    async with scope.reading("setup import") as session:
        destination = await destination_of(session, scope, connection_id)
        rows = (
            await session.execute(
                select(
                    DestinationAttribute.attribute_type,
                    func.count(),
                    func.count(case((DestinationAttribute.active.is_(True), 1))),
                    func.max(DestinationAttribute.updated_at),
                )
                .where(DestinationAttribute.connection_id == connection_id)
                .group_by(DestinationAttribute.attribute_type)
            )
        ).all()
        runs = await _runs(session, connection_id, (RunKind.IMPORT.value, RunKind.PULL.value, RunKind.SYNC.value))
        expenses = await session.scalar(
            select(func.count()).select_from(SourceRecord).where(SourceRecord.kind == RecordKind.EXPENSE.value)
        )
    label = _label(destination.provider)
    counted = {row[0]: row for row in rows}
    declared = _declared_streams(destination.provider)
    types = [
        {
            "type": name,
            "label": label(name),
            "total": counted[name][1] if name in counted else 0,
            "active": counted[name][2] if name in counted else 0,
            "updated_at": counted[name][3] if name in counted else None,
        }
        for name in [*declared, *sorted(set(counted) - set(declared))]
    ]
    running = any(run.state in OPEN_STATES for run in runs)
    context = {
        **steps_context(destination, "import"),
        "types": types,
        "expenses": expenses or 0,
        "runs": runs,
        "live": running,
        "refresh_seconds": PROGRESS_REFRESH_SECONDS,
    }
    return render(request, "setup_import.html", context)


def _declared_streams(system: str) -> tuple[str, ...]:
    try:
        return connector_class(system).spec.streams
    except UnknownSystemError:
        return ()


async def _start(request: Request, scope: Scope, destination: DestinationView, kind: RunKind) -> tuple[bool, str]:
    """Request a run of `kind` (or join the one waiting); ring the queue once it is committed."""
    async with scope.acting_for(destination.tenant_id) as repository:
        connection = await repository.get(Connection, destination.id)
        if connection is None:
            raise NotFoundPage("destination")
        try:
            run, created = await request_run(
                repository.session,
                connection=connection,
                kind=kind,
                trigger=RunTrigger.MANUAL,
                requested_by=repository.actor,
            )
        except RunRefusedError as exc:
            return False, str(exc)
        await repository.session.commit()
    if created:
        await enqueue_run(queue_of(request), run, job_id=f"run:{run.id}:requested")
    return True, "started" if created else "already waiting or running: joined it"


async def _start_page(
    request: Request, connection_id: uuid.UUID, scope: Scope, kinds: tuple[RunKind, ...], step: str, what: str
) -> Response:
    async with scope.reading(f"setup {step}") as session:
        destination = await destination_of(session, scope, connection_id)
    target = f"{PREFIX}{SETUP}/destinations/{connection_id}/{step}"
    for kind in kinds:
        started, message = await _start(request, scope, destination, kind)
        if not started:
            return back(request, target, f"{what} could not start: {message}", level="error")
    return back(request, target, f"{what} {message}.")


@router.post("/import")
async def start_import(request: Request, connection_id: uuid.UUID, user: CsrfUserDep, scope: ScopeDep) -> Response:
    """The destination's lists, and the source's expenses beside them (read, not yet grouped: that waits for the
    export settings), so the Map step knows which values the expenses use."""
    require_admin(user)
    return await _start_page(request, connection_id, scope, (RunKind.IMPORT, RunKind.PULL), "import", "Import")


@router.get("/export")
async def export_page(request: Request, connection_id: uuid.UUID, user: UserDep, scope: ScopeDep) -> Response:
    require_admin(user)
    async with scope.reading("setup export") as session:
        destination = await destination_of(session, scope, connection_id)
        runs = await _runs(session, connection_id)
        states = dict(
            (
                await session.execute(
                    select(ExportItem.state, func.count())
                    .where(ExportItem.destination_connection_id == connection_id)
                    .group_by(ExportItem.state)
                )
            ).all()
        )
    context = {
        **steps_context(destination, "export"),
        "runs": runs,
        "states": states,
        "schedules": SCHEDULES,
        "realtime": destination.settings.get(REALTIME_EXPORT_SETTING) is True,
        "live": any(run.state in OPEN_STATES for run in runs),
        "refresh_seconds": PROGRESS_REFRESH_SECONDS,
    }
    return render(request, "setup_export.html", context)


@router.post("/export")
async def start_export(request: Request, connection_id: uuid.UUID, user: CsrfUserDep, scope: ScopeDep) -> Response:
    require_admin(user)
    return await _start_page(request, connection_id, scope, (RunKind.SYNC,), "export", "Export")


@router.post("/schedule")
async def set_schedule(
    request: Request,
    connection_id: uuid.UUID,
    user: CsrfUserDep,
    scope: ScopeDep,
    interval: Annotated[str, Form()] = "",
    realtime: Annotated[str, Form()] = "",
) -> Response:
    """The schedule and real-time export, saved together from the export page's one form."""
    require_admin(user)
    allowed = {str(minutes or ""): minutes for minutes, _ in SCHEDULES}
    target = f"{PREFIX}{SETUP}/destinations/{connection_id}/export"
    if interval not in allowed:
        return back(request, target, "Choose one of the schedules offered.", level="error")
    async with scope.reading("setup schedule") as session:
        destination = await destination_of(session, scope, connection_id)
    async with scope.acting_for(destination.tenant_id) as repository:
        connection = await repository.get(Connection, connection_id)
        if connection is None:
            raise NotFoundPage("destination")
        connection.sync_interval_minutes = allowed[interval]
        connection.settings = {**connection.settings, REALTIME_EXPORT_SETTING: realtime == "on"}
        await repository.audit(
            "connection.schedule",
            entity=connection,
            data={"interval_minutes": allowed[interval], REALTIME_EXPORT_SETTING: realtime == "on"},
        )
    schedule = dict(SCHEDULES)[allowed[interval]]
    state = "on" if realtime == "on" else "off"
    return back(request, target, f"Schedule saved: {schedule.split(':')[0].lower()}; real-time export {state}.")
