"""Prometheus metrics shared by the API and the workers. Labels stay low-cardinality: never tenant or item ids.

Counters and histograms are incremented where the work happens, so each process exposes its own: the API on
`/metrics`, a worker on `LEDGERLINE_WORKER_METRICS_PORT`. The gauges of the work ledger (`core.work_gauges`) are
read from PostgreSQL when the API's `/metrics` is scraped. `docs/operations.md` says what to alert on.
"""

import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest

from core.errors import LedgerlineError

HTTP_REQUESTS = Counter(
    "ledgerline_http_requests_total",
    "HTTP requests handled, by route template and status.",
    ["method", "route", "status"],
)
HTTP_LATENCY = Histogram(
    "ledgerline_http_request_duration_seconds",
    "Time to answer an HTTP request, by route template.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
JOBS = Counter(
    "ledgerline_jobs_total",
    "Queue and cron jobs finished, by function and outcome (succeeded, failed, cancelled). Not `job`: Prometheus "
    "keeps that label for the scrape target.",
    ["function", "outcome"],
)

EXPORTS = Counter(
    "ledgerline_exports_total",
    "Export items finished by a worker, by outcome (succeeded, adopted, retrying, needs_action, lost_lease) and "
    "error class (none on success).",
    ["outcome", "error_class"],
)
DESTINATION_CALLS = Histogram(
    "ledgerline_destination_call_duration_seconds",
    "Time one connector call to a destination took (a push of a batch, or a lookup by reference), by system, "
    "operation and outcome (answered, or the error class the whole call failed with). Budget waits excluded.",
    ["system", "operation", "outcome"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0),
)
RATE_BUDGET_WAITS = Counter(
    "ledgerline_rate_budget_waits_total",
    "Times a worker slept for a connection's rate budget, by grain (slot: a connector call's concurrency slot; "
    "request: one HTTP request's place in the rates).",
    ["grain"],
)
RATE_BUDGET_WAIT_SECONDS = Counter(
    "ledgerline_rate_budget_wait_seconds_total", "Seconds workers slept for rate budgets, by grain.", ["grain"]
)
RATE_BUDGET_REFUSALS = Counter(
    "ledgerline_rate_budget_refusals_total",
    "Budget waits that would have overrun their limit: the work was deferred instead, by grain.",
    ["grain"],
)
WEBHOOKS = Counter(
    "ledgerline_webhooks_total",
    "Inbound webhook requests by provider and outcome (accepted, duplicate, handshake, or the reason for refusing "
    "them: unauthorized, not_found, unsupported_media_type, malformed, throttled, unavailable).",
    ["provider", "outcome"],
)

WORK_QUEUE_DEPTH = Gauge(
    "ledgerline_work_queue_depth",
    "Units of work in the PostgreSQL ledger, by queue (export_items, sync_runs, webhook_events) and state "
    "(due, waiting for a later attempt, held by a paused or unauthorized connection, running, needs_action).",
    ["queue", "state"],
)
WORK_OLDEST_DUE_AGE = Gauge(
    "ledgerline_work_oldest_due_age_seconds",
    "How long the oldest due unit of work of each queue has been waiting past its due time (0 when none is due).",
    ["queue"],
)
CONNECTIONS = Gauge(
    "ledgerline_connections",
    "Connections by system, role and health (active, paused, needs_reauth, disabled).",
    ["system", "role", "health"],
)
WORK_GAUGES_REFRESHED = Gauge(
    "ledgerline_work_gauges_refreshed_timestamp_seconds",
    "When the ledger gauges were last read from PostgreSQL: stale gauges are worse than none.",
)

METRICS_CONTENT_TYPE = CONTENT_TYPE_LATEST


def render_metrics() -> bytes:
    return generate_latest()


def count_export(*, state: str | None, adopted: bool, error_class: str | None) -> None:
    """One export item finished in `state` (None: the lease was lost, so another worker owns its outcome)."""
    if state is None:
        outcome = "lost_lease"
    elif adopted:
        outcome = "adopted"
    elif state == "pending":
        outcome = "retrying"
    else:
        outcome = state
    EXPORTS.labels(outcome, error_class or "none").inc()


@dataclass(slots=True)
class DestinationCall:
    """How one timed destination call ended: `answered`, or the error class it failed with as a whole."""

    outcome: str = "answered"

    def settle(self, outcomes: Sequence[object]) -> None:
        """A call whose every document came back as an error failed as a whole (e.g. a 503 for the batch)."""
        errors = [outcome for outcome in outcomes if isinstance(outcome, LedgerlineError)]
        if errors and len(errors) == len(outcomes):
            self.outcome = errors[0].error_class


@asynccontextmanager
async def timed_destination_call(system: str, operation: str) -> AsyncIterator[DestinationCall]:
    """Observe the body's duration in `DESTINATION_CALLS`, labelled with how the call ended."""
    call, started = DestinationCall(), time.perf_counter()
    try:
        yield call
    except BaseException as error:  # cancellation included: the call did not answer either
        call.outcome = error.error_class if isinstance(error, LedgerlineError) else "unexpected"
        raise
    finally:
        DESTINATION_CALLS.labels(system, operation, call.outcome).observe(time.perf_counter() - started)
