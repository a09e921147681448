"""A worker's own metrics port (`LEDGERLINE_WORKER_METRICS_PORT`): the API's `/metrics` cannot see what a worker
process counts, so each worker serves its counters. It asks the API's question first (`core.metrics_access`): before,
this port answered anyone, the open side door of a guarded `/metrics`."""

import json
import threading
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

from prometheus_client import make_wsgi_app
from prometheus_client.exposition import ThreadingWSGIServer

from core.metrics_access import scrape_refusal
from web.problems import PROBLEM_MEDIA_TYPE, PROBLEM_TYPE_BASE

StartResponse = Callable[..., Any]


class _QuietHandler(WSGIRequestHandler):
    """No access line on stderr per scrape (the worker logs JSON; this would be the only plain text)."""

    def log_message(self, format: str, *args: Any) -> None:
        return


def guarded_metrics_app(*, env: str) -> Callable[[dict[str, Any], StartResponse], Iterable[bytes]]:
    """Prometheus's exposition app, behind the scrape check."""
    metrics = make_wsgi_app()

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        refusal = scrape_refusal(env=env, authorization=environ.get("HTTP_AUTHORIZATION", ""))
        if refusal is None:
            served: Iterable[bytes] = metrics(environ, start_response)
            return served
        status = HTTPStatus(refusal.status)
        body = json.dumps(
            {
                "type": PROBLEM_TYPE_BASE + refusal.problem,
                "title": status.phrase,
                "status": refusal.status,
                "detail": refusal.detail,
            }
        ).encode()
        headers = [("Content-Type", PROBLEM_MEDIA_TYPE), ("Content-Length", str(len(body))), *refusal.headers.items()]
        start_response(f"{status.value} {status.phrase}", headers)
        return [body]

    return app


def serve_worker_metrics(*, host: str, port: int, env: str) -> ThreadingWSGIServer:
    """Serve in a daemon thread, for the process's lifetime; returns the server so a caller may shut it down."""
    server = make_server(host, port, guarded_metrics_app(env=env), ThreadingWSGIServer, handler_class=_QuietHandler)
    threading.Thread(target=server.serve_forever, name="worker-metrics", daemon=True).start()
    return server
