"""The FastAPI application factory: wires settings, database, queue, middleware and routers."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from api import (
    BodyLimitMiddleware,
    IdempotencyMiddleware,
    JsonBodyMiddleware,
    RequestContextMiddleware,
    StorableTextMiddleware,
    health_router,
    install_problem_handlers,
    install_published_contract,
    v1,
)
from connectors.url_policy import check_connector_urls
from core.constants import MAX_REQUEST_BODY_BYTES
from core.crypto import CredentialVault
from core.db import Database
from core.settings import Settings, get_settings
from dashboard import install_dashboard
from ledgerline.heap import tuned_for_serving
from sync.queue import Queue
from web.sign_in_throttle import SignInThrottle
from webhooks.app_ingress import AppWebhookIngress
from webhooks.ingress import WebhookIngress
from webhooks.router import router as webhooks_router


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    check_connector_urls(settings)  # refuse at start, not at the first connector call

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.settings = settings
        app.state.vault = CredentialVault(settings.vault_key_list())
        app.state.database = Database(settings)
        app.state.queue = await Queue.connect(settings.redis_url, settings.queue_name)
        app.state.sign_in_throttle = SignInThrottle(
            redis=app.state.queue.redis,
            namespace=settings.queue_name,
            limit=settings.sign_in_failure_limit,
            window_seconds=settings.sign_in_failure_window_seconds,
        )
        app.state.webhook_ingress = WebhookIngress(
            database=app.state.database,
            queue=app.state.queue,
            vault=app.state.vault,
            # No overflow (`webhooks.ingress_pool`): kept open instead, twice the service engine's pool.
            pool_size=2 * settings.database_pool_size,
        )
        app.state.app_webhook_ingress = AppWebhookIngress(
            app.state.webhook_ingress, app_credentials=settings.connector_app
        )
        try:
            with tuned_for_serving():  # started: what exists now lives as long as the process
                yield
        finally:
            await app.state.webhook_ingress.close()
            await app.state.queue.close()
            await app.state.database.dispose()

    app = FastAPI(
        title="Ledgerline",
        version="0.1.0",
        summary="Moves approved expenses into accounting systems exactly once, and brings changes back.",
        lifespan=lifespan,
    )
    # Outermost first: request ids wrap everything; the size limit runs before anything reads the body.
    app.add_middleware(IdempotencyMiddleware)
    app.add_middleware(StorableTextMiddleware)  # after the size limit has read the body; before any route stores it
    app.add_middleware(JsonBodyMiddleware)  # likewise: a /v1 body that is not JSON is refused (415) before parsing
    app.add_middleware(BodyLimitMiddleware, max_bytes=MAX_REQUEST_BODY_BYTES)
    app.add_middleware(RequestContextMiddleware)
    # Outermost of all: the client address and scheme come from X-Forwarded-* only when a configured proxy sent
    # them (`serve` turns uvicorn's own handling, which trusts 127.0.0.1, off).
    app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)
    install_problem_handlers(app)
    app.include_router(health_router)
    # Outside /v1: senders authenticate by signature, not by API key. Matched before /v1's many routes, since
    # deliveries are the hottest path.
    app.include_router(webhooks_router)
    app.include_router(v1)
    install_dashboard(app)  # /dashboard: HTML pages behind a session cookie and CSRF tokens
    install_published_contract(app)  # /openapi.json states every problem each operation can answer
    return app
