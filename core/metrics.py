"""Prometheus metrics shared by the API and the workers. Labels stay low-cardinality: never ids."""

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest

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
JOBS = Counter("ledgerline_jobs_total", "Queue jobs finished, by job name and outcome.", ["job", "outcome"])

METRICS_CONTENT_TYPE = CONTENT_TYPE_LATEST


def render_metrics() -> bytes:
    return generate_latest()
