"""A worker's metrics port asks for the same token as the API's `/metrics`: before, it answered anyone, so the
cross-tenant counts the API guards were open one port over."""

import secrets
from collections.abc import Iterator

import httpx
import pytest

from core.constants import METRICS_TOKEN_VARIABLE
from core.metrics import EXPORTS
from ledgerline.worker_metrics import serve_worker_metrics
from sandbox.server import free_port


def _serving(env: str) -> Iterator[str]:
    port = free_port()
    server = serve_worker_metrics(host="127.0.0.1", port=port, env=env)
    try:
        yield f"http://127.0.0.1:{port}/metrics"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def production_port() -> Iterator[str]:
    yield from _serving("prod")


@pytest.fixture
def test_port() -> Iterator[str]:
    yield from _serving("test")


def test_a_production_worker_serves_its_metrics_only_to_the_token(
    production_port: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    EXPORTS.labels("succeeded", "none").inc(0)  # the series exists, so a served page names it
    token = secrets.token_urlsafe(32)
    monkeypatch.setenv(METRICS_TOKEN_VARIABLE, token)
    anonymous = httpx.get(production_port)
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"] == "application/problem+json"
    assert METRICS_TOKEN_VARIABLE in anonymous.json()["detail"] and "ledgerline_" not in anonymous.text
    assert anonymous.headers["www-authenticate"].lower().startswith("bearer")
    wrong = httpx.get(production_port, headers={"Authorization": "Bearer not-the-token"})
    assert wrong.status_code == 401 and token not in wrong.text
    scraped = httpx.get(production_port, headers={"Authorization": f"Bearer {token}"})
    assert scraped.status_code == 200 and "ledgerline_exports_total" in scraped.text


def test_a_production_worker_without_a_token_serves_nobody(
    production_port: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(METRICS_TOKEN_VARIABLE, raising=False)
    refused = httpx.get(production_port, headers={"Authorization": "Bearer anything"})
    assert refused.status_code == 403 and "ledgerline_" not in refused.text


def test_a_test_machine_worker_serves_metrics_openly(test_port: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(METRICS_TOKEN_VARIABLE, raising=False)
    assert httpx.get(test_port).status_code == 200
