import httpx
from fastapi import FastAPI

from ledgerline.app import create_app
from tests.conftest import create_database, drop_database


async def test_healthz_answers_without_dependencies(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_checks_postgres_and_redis(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "redis": "ok"}


async def test_readyz_is_503_problem_when_the_database_is_gone(settings) -> None:  # type: ignore[no-untyped-def]
    doomed = create_database("ledgerline_gone")
    drop_database(doomed)
    app: FastAPI = create_app(settings.model_copy(update={"database_url": doomed}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            response = await client.get("/readyz")
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["checks"] == {"database": "unavailable", "redis": "ok"}
    assert "database" in response.json()["detail"]


async def test_metrics_count_requests_by_route_template(client: httpx.AsyncClient) -> None:
    await client.get("/healthz")
    body = (await client.get("/metrics")).text
    assert 'ledgerline_http_requests_total{method="GET",route="/healthz",status="200"}' in body


async def test_every_response_carries_a_request_id(client: httpx.AsyncClient) -> None:
    echoed = await client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    generated = await client.get("/healthz")
    assert echoed.headers["x-request-id"] == "abc-123"
    assert len(generated.headers["x-request-id"]) == 32
