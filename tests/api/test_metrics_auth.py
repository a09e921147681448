"""`/metrics` reads cross-tenant counts (every tenant's queue depth, failures and connection health), so outside a
development or test machine it answers only a scraper holding `LEDGERLINE_METRICS_TOKEN`."""

import secrets
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from core.constants import METRICS_TOKEN_VARIABLE


@pytest.fixture
async def production(app: FastAPI) -> AsyncIterator[None]:
    """The session's app, judged as production for the duration of a test."""
    settings = app.state.settings
    app.state.settings = settings.model_copy(update={"env": "prod"})
    yield
    app.state.settings = settings


def _problem(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    detail: str = response.json()["detail"]
    return detail


async def test_production_metrics_need_the_token(
    client: httpx.AsyncClient, production: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = secrets.token_urlsafe(32)
    monkeypatch.setenv(METRICS_TOKEN_VARIABLE, token)
    assert "ledgerline_" not in _problem(await client.get("/metrics"), 401)
    wrong = await client.get("/metrics", headers={"Authorization": "Bearer not-the-token"})
    assert _problem(wrong, 401) and token not in wrong.text
    assert wrong.headers["www-authenticate"].lower().startswith("bearer")
    scraped = await client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
    assert scraped.status_code == 200 and "ledgerline_" in scraped.text


async def test_production_without_a_token_serves_no_metrics_and_says_how_to(
    client: httpx.AsyncClient, production: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(METRICS_TOKEN_VARIABLE, raising=False)
    assert METRICS_TOKEN_VARIABLE in _problem(await client.get("/metrics"), 403)


async def test_a_test_machine_without_a_token_serves_metrics_openly(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(METRICS_TOKEN_VARIABLE, raising=False)
    assert (await client.get("/metrics")).status_code == 200
