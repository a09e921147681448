"""Liveness, readiness and metrics: what an orchestrator and Prometheus poll.

`/metrics` carries counts across every tenant (queue depth, failures, connection health), so outside a development
or test machine it answers only a bearer of `LEDGERLINE_METRICS_TOKEN`, and nobody while that is unset.
"""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import text

from core.db import Database
from core.log import get_logger
from core.metrics import METRICS_CONTENT_TYPE, render_metrics
from core.metrics_access import scrape_refusal
from core.work_gauges import WorkGauges
from sync.jobs import live_workers
from sync.queue import Queue
from web.app_state import database_of, queue_of, settings_of
from web.problems import problem_response, problem_responses

router = APIRouter(tags=["health"])
log = get_logger(__name__)


@router.get("/healthz", summary="The process is up")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


async def _check_database(database: Database) -> str:
    try:
        async with database.app_engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception as exc:  # any failure means not ready; the reason goes to the log, not the response
        log.warning("readiness_database_failed", error=type(exc).__name__)
        return "unavailable"
    return "ok"


async def _check_queue(queue: Queue) -> str:
    try:
        await queue.ping()
    except Exception as exc:  # as above
        log.warning("readiness_redis_failed", error=type(exc).__name__)
        return "unavailable"
    return "ok"


@router.get(
    "/readyz",
    summary="PostgreSQL and Redis answer",
    response_model=None,
    responses=problem_responses({503: "PostgreSQL or Redis is not answering; `checks` says which."}),
)
async def readyz(request: Request) -> Response | dict[str, Any]:
    checks = {
        "database": await _check_database(database_of(request)),
        "redis": await _check_queue(queue_of(request)),
    }
    if any(state != "ok" for state in checks.values()):
        failed = ", ".join(name for name, state in checks.items() if state != "ok")
        return problem_response(503, f"Not ready: {failed} unavailable.", problem="not-ready", checks=checks)
    workers = await live_workers(queue_of(request))
    return {"status": "ok", "checks": checks, "workers": len(workers)}


def _work_gauges(request: Request) -> WorkGauges:
    """The app's gauge reader, made on the first scrape (its throttle must outlive one request)."""
    state = request.app.state
    if getattr(state, "work_gauges", None) is None:
        state.work_gauges = WorkGauges(state.database)
    gauges: WorkGauges = state.work_gauges
    return gauges


def _metrics_refusal(request: Request) -> Response | None:
    refusal = scrape_refusal(env=settings_of(request).env, authorization=request.headers.get("authorization", ""))
    if refusal is None:
        return None
    return problem_response(refusal.status, refusal.detail, problem=refusal.problem, headers=refusal.headers or None)


@router.get(
    "/metrics",
    summary="Prometheus metrics (bearer token outside dev and test)",
    response_class=Response,
    responses={
        200: {"content": {METRICS_CONTENT_TYPE: {"schema": {"type": "string"}}}, "description": "The metrics."},
        **problem_responses(
            {
                401: "No bearer token, or not the scrape token.",
                403: "No scrape token is configured, and this is not a development or test machine.",
            }
        ),
    },
)
async def metrics(request: Request) -> Response:
    """This process's counters, plus the work ledger's gauges (queue depth, oldest due age, connections by health)
    read from PostgreSQL: the API answers for the whole ledger, each worker only for what it did."""
    refused = _metrics_refusal(request)
    if refused is not None:
        return refused
    await _work_gauges(request).refresh()
    return Response(render_metrics(), media_type=METRICS_CONTENT_TYPE)
