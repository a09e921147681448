"""Bulk replays: replay everything matching the failures filter as one tracked job, and watch its progress.

The job is `sync.replay`'s: a row worked in batches by the workers. Its page refreshes itself (a meta refresh, so
it needs no JavaScript) until the job is finished.
"""

import uuid
from dataclasses import replace
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from core.models import Replay, RunState
from dashboard.constants import PAGE_SIZE, PREFIX, PROGRESS_REFRESH_SECONDS
from dashboard.csrf import CsrfUserDep
from dashboard.pages.common import back, tenant_names
from dashboard.pages.items import FilterForm
from dashboard.scope import NotFoundPage, ScopeDep
from dashboard.templating import render
from sync.queue import Queue
from sync.replay import ReplayFilterError, enqueue_replay, get_replay, request_replay
from web.app_state import queue_of

router = APIRouter()

FINISHED = (RunState.SUCCEEDED.value, RunState.FAILED.value, RunState.CANCELLED.value)


async def _posted_filter(request: Request) -> FilterForm:
    """The failures filter, posted back as hidden fields of the "replay all matching" form."""
    form = await request.form()
    values = {name: form.get(name) for name in FilterForm.__dataclass_fields__}
    return FilterForm(**{name: value if isinstance(value, str) else None for name, value in values.items()})


@router.post("/replays")
async def start_replay(
    request: Request, user: CsrfUserDep, scope: ScopeDep, form: Annotated[FilterForm, Depends(_posted_filter)]
) -> Response:
    item_filter = replace(form.item_filter(scope), state=None)
    try:
        if item_filter.tenant_id is not None:
            async with scope.acting_for(item_filter.tenant_id) as repository:
                replay = await request_replay(repository.session, item_filter=item_filter, actor=user.actor)
        else:  # support, across tenants: only a cross-tenant session may ask for that
            async with scope.reading("bulk replay across tenants") as session:
                replay = await request_replay(session, item_filter=item_filter, actor=user.actor)
    except ReplayFilterError as exc:
        return back(request, f"{PREFIX}/items", str(exc), level="error")
    queue: Queue = queue_of(request)
    await enqueue_replay(queue, replay)
    return RedirectResponse(f"{PREFIX}/replays/{replay.id}", status_code=303)


@router.get("/replays", name="dashboard_replays")
async def replays_page(request: Request, scope: ScopeDep) -> Response:
    async with scope.reading("bulk replays") as session:
        rows = list(
            (
                await session.scalars(
                    select(Replay).order_by(Replay.created_at.desc(), Replay.id.desc()).limit(PAGE_SIZE)
                )
            ).all()
        )
        names = await tenant_names(session)
    rows = [row for row in rows if row.tenant_id is None or scope.allows(row.tenant_id)]
    running = any(row.state not in FINISHED for row in rows)
    return render(
        request,
        "replays.html",
        {"replays": rows, "names": names, "finished": FINISHED, "live": running, "refresh_seconds": 3},
    )


@router.get("/replays/{replay_id}", name="dashboard_replay")
async def replay_page(request: Request, replay_id: uuid.UUID, scope: ScopeDep) -> Response:
    async with scope.reading(f"bulk replay {replay_id}") as session:
        replay = await get_replay(session, replay_id)
        names = await tenant_names(session)
    if replay is None or (replay.tenant_id is not None and not scope.allows(replay.tenant_id)):
        raise NotFoundPage("bulk replay")
    if replay.tenant_id is None and not scope.user.is_support:
        raise NotFoundPage("bulk replay")
    running = replay.state not in FINISHED
    return render(
        request,
        "replay.html",
        {
            "replay": replay,
            "tenant_name": names.get(replay.tenant_id, "every tenant") if replay.tenant_id else "every tenant",
            "running": running,
            # The progress region refreshes itself (dashboard.js): a page-wide meta refresh would take the reader's
            # place and focus away every few seconds.
            "live": running,
            "refresh_seconds": PROGRESS_REFRESH_SECONDS,
        },
    )
