"""The webhook benchmark's baseline: a bare FastAPI endpoint that stores each delivery with one INSERT.

Same HTTP stack (uvicorn, as many worker processes as the product), the same driver and role (psycopg 3,
`ledgerline_app`) through `core.db.Database`'s service engine as any plain endpoint would (the configured pool size,
pre-ping on checkout; the product's ingress has a pool of its own, `webhooks.ingress_pool`), and an insert of the
same shape into a table like `webhook_events` (`bench.webhooks.BASELINE_TABLE`, same unique key, `ON CONFLICT DO
NOTHING`). No middleware, no signature check, no rate limit, no tenant scoping, no enqueue: what is left is the
floor any stored-before-2xx endpoint pays.

    LEDGERLINE_…=… uvicorn --factory bench.webhook_baseline:create_baseline_app
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from core.db import Database
from core.settings import get_settings

_INSERT = text(
    "INSERT INTO bench_webhook_events (provider, connection_key, event_id, payload) "
    "VALUES (:provider, :key, :event_id, CAST(:payload AS jsonb)) "
    "ON CONFLICT (provider, connection_key, event_id) DO NOTHING RETURNING id"
)


def create_baseline_app() -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.database = Database(get_settings())
        try:
            yield
        finally:
            await app.state.database.dispose()

    app = FastAPI(lifespan=lifespan)

    @app.get("/")
    async def ready() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/webhooks/{provider}/{connection_key}", status_code=202)
    async def receive(provider: str, connection_key: str, request: Request) -> JSONResponse:
        body = await request.body()
        database: Database = request.app.state.database
        async with database.app_engine.begin() as connection:
            inserted = (
                await connection.execute(
                    _INSERT,
                    {
                        "provider": provider,
                        "key": connection_key,
                        "event_id": request.headers.get("webhook-id", ""),
                        "payload": body.decode(),
                    },
                )
            ).scalar()
        return JSONResponse({"outcome": "accepted" if inserted else "duplicate"}, status_code=202 if inserted else 200)

    return app
