"""The product as the webhook flood serves it: `ledgerline.app.create_app` under `uvicorn --workers N`, optionally
with the ingress's per-connection rate limit set by the harness (`--ingress-limit`).

Why not `ledgerline serve`: it runs one process, and on a two-core machine that shares its core with the export
workers and the load, one process cannot even accept the product's own limit (1,000 deliveries a second per
connection), so a flood never meets the limiter and backpressure is never shown. Production scales the API out
(DESIGN.md: "workers scale out horizontally"), and the limit is shared across processes through Redis, so several
server processes are the production shape. Everything else is the product: settings from `LEDGERLINE_*`, every
middleware, the real ingress.

    CHAOS_INGRESS_LIMIT=500 uvicorn --factory chaos.flood_app:create_flood_app --workers 2
"""

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace

from fastapi import FastAPI

from chaos.constants import INGRESS_LIMIT_ENV
from core.log import configure_logging
from core.settings import get_settings
from ledgerline.app import create_app
from webhooks.ingress import WebhookIngress


def create_flood_app() -> FastAPI:
    settings = get_settings()
    configure_logging(level=settings.log_level, json=settings.log_json)
    app = create_app(settings)
    limit = os.environ.get(INGRESS_LIMIT_ENV)
    if not limit:
        return app
    product_lifespan = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with product_lifespan(app):
            ingress: WebhookIngress = app.state.webhook_ingress
            ingress.limits = replace(ingress.limits, rate_limit_requests=int(limit))
            yield

    app.router.lifespan_context = lifespan
    return app
