"""The product as the webhook benchmark serves it: `ledgerline.app.create_app` with two backpressure limits raised.

Everything else is production: settings from `LEDGERLINE_*`, logging configured as `ledgerline serve` does, all
middleware, the real ingress. Raised for the benchmark only (the load is one connection flooding on purpose):
- the per-connection rate limit (`RATE_LIMIT_REQUESTS`, 1000/s): the closed-loop phase asks for as much as the
  server can give. The limiter still runs on every delivery and its verdict is always yes; as it takes the budget
  from Redis in slices of a hundredth of the limit, a process here asks Redis about once a second, where at the
  production limit it would ask once per 10 deliveries;
- the inbox limit (`INBOX_LIMIT`, 10 000 waiting): no dispatcher runs during the benchmark, so every stored event
  stays `received`; the inbox is still counted once a second.

    LEDGERLINE_…=… uvicorn --factory bench.webhook_app:create_bench_app
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace

from fastapi import FastAPI

from core.log import configure_logging
from core.settings import get_settings
from ledgerline.app import create_app
from webhooks.ingress import WebhookIngress

BENCH_RATE_LIMIT = 1_000_000
BENCH_INBOX_LIMIT = 1_000_000


def create_bench_app() -> FastAPI:
    settings = get_settings()
    configure_logging(level=settings.log_level, json=settings.log_json)
    app = create_app(settings)
    product_lifespan = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with product_lifespan(app):
            ingress: WebhookIngress = app.state.webhook_ingress
            ingress.limits = replace(
                ingress.limits, rate_limit_requests=BENCH_RATE_LIMIT, inbox_limit=BENCH_INBOX_LIMIT
            )
            yield

    app.router.lifespan_context = lifespan
    return app
