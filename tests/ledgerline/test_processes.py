"""The long-running commands as real processes: a worker, and the demo on embedded and on configured services."""

import json
import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from core import migrate
from core.db import sqlalchemy_url
from core.settings import Settings
from sandbox.app import SYSTEMS
from tests.conftest import LEDGERLINE_CLI, REDIS_URL, create_database, drop_database, settings_env

STARTUP_SECONDS = 90
HEARTBEAT_DEADLINE_SECONDS = 60
"""A first heartbeat comes within a cron period of start-up (10 s); a loaded machine (parallel tests) starts slower."""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_ready(port: int, process: subprocess.Popen[str]) -> httpx.Response:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(
                f"exited early with {process.returncode}: {process.stdout.read() if process.stdout else ''}"
            )
        try:
            response = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2)
            if response.status_code == 200:
                return response
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    raise AssertionError("never became ready")


def _stop(process: subprocess.Popen[str], sig: int) -> tuple[int, str]:
    process.send_signal(sig)
    output, _ = process.communicate(timeout=60)
    return process.returncode, output


@pytest.fixture
def quiet_database() -> Iterator[str]:
    """A migrated database of its own: a worker started on the session's would first take up the due work other
    tests left there, and its heartbeat job could wait behind it."""
    url = create_database("ledgerline_worker")
    migrate.upgrade(url)
    yield url
    drop_database(url)


def test_a_worker_process_reports_its_heartbeat_and_stops_on_sigterm(settings: Settings, quiet_database: str) -> None:
    process = subprocess.Popen(
        [LEDGERLINE_CLI, "worker"],
        env={
            **settings_env(settings),
            "LEDGERLINE_DATABASE_URL": quiet_database,
            "LEDGERLINE_QUEUE_NAME": f"{settings.queue_name}:heartbeat",
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    client = redis.Redis.from_url(REDIS_URL)
    try:
        # The queue is this test's own, but look for this process's heartbeat all the same.
        deadline = time.monotonic() + HEARTBEAT_DEADLINE_SECONDS
        ours: list[dict[str, str]] = []
        while time.monotonic() < deadline and not ours:
            beats = [
                json.loads(client.get(key) or b"{}")
                for key in client.scan_iter(match=f"{settings.queue_name}:heartbeat:worker:*")
            ]
            ours = [beat for beat in beats if beat.get("worker_id", "").split(":")[1:2] == [str(process.pid)]]
            time.sleep(0.2)
        assert ours, "the worker never wrote a heartbeat"
        assert ours[0]["started_at"] and ours[0]["seen_at"]
    finally:
        code, output = _stop(process, signal.SIGTERM)
        client.close()
    assert code == 0, output


@pytest.fixture
def demo_env(tmp_path: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("LEDGERLINE_")}
    env["LEDGERLINE_DATA_DIR"] = str(tmp_path / "data")
    return env


def test_demo_serves_ready_on_embedded_services_and_stops_cleanly(demo_env: dict[str, str], tmp_path: Path) -> None:
    port = _free_port()
    process = subprocess.Popen(
        [LEDGERLINE_CLI, "demo", "--port", str(port)],
        env=demo_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        ready = _wait_ready(port, process)
        assert ready.json()["checks"] == {"database": "ok", "redis": "ok"}
        assert (tmp_path / "data" / "postgres" / "postmaster.pid").exists()
    finally:
        code, output = _stop(process, signal.SIGINT)
    assert code == 0, output
    assert "Database: embedded; Redis: embedded; sandbox: started at http://127.0.0.1:" in output
    assert "Tenant 'demo': fyle → intacct, quickbooks, xero (set up now; its first export is running)." in output
    for who in ("the tenant admin", "support"):
        assert re.search(
            rf"Sign in as {who} \(link works once\): +http://127\.0\.0\.1:{port}/dashboard/sign-in/\S+", output
        )
    assert f"API docs:        http://127.0.0.1:{port}/docs" in output
    assert not re.search(r"\bll_[0-9a-f]+_", output), "no API key is printed"
    assert not (tmp_path / "data" / "postgres" / "postmaster.pid").exists(), "embedded PostgreSQL left running"


@pytest.fixture
def configured_database() -> Iterator[str]:
    url = create_database("ledgerline_demo")
    yield url
    drop_database(url)


def test_demo_uses_the_configured_services_when_urls_are_set(
    demo_env: dict[str, str], tmp_path: Path, configured_database: str, settings: Settings
) -> None:
    port = _free_port()
    env = {
        **demo_env,
        "LEDGERLINE_DATABASE_URL": configured_database,
        "LEDGERLINE_REDIS_URL": REDIS_URL,
        "LEDGERLINE_QUEUE_NAME": settings_env(settings)["LEDGERLINE_QUEUE_NAME"] + ":demo",
    }
    process = subprocess.Popen(
        [LEDGERLINE_CLI, "demo", "--port", str(port), "--empty"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        _wait_ready(port, process)
        engine = create_engine(sqlalchemy_url(configured_database), poolclass=NullPool)
        with engine.connect() as connection:
            slugs = connection.execute(text("SELECT slug FROM tenants")).scalars().all()
            connections = connection.execute(text("SELECT count(*) FROM connections")).scalar_one()
        engine.dispose()
    finally:
        code, output = _stop(process, signal.SIGINT)
    assert code == 0, output
    assert (slugs, connections) == (["demo"], 0)
    assert "Database: configured; Redis: configured; sandbox: started" in output
    assert "Tenant 'demo' is empty (--empty)" in output
    assert not (tmp_path / "data").exists(), "nothing embedded should have started"


def _sandbox(demo_env: dict[str, str], *options: str) -> tuple[subprocess.Popen[str], int]:
    """`ledgerline sandbox` with `options` on a free port."""
    port = _free_port()
    process = subprocess.Popen(
        [LEDGERLINE_CLI, "sandbox", "--port", str(port), *options],
        env=demo_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    return process, port


def _sandbox_health(process: subprocess.Popen[str], port: int) -> Any:
    """The sandbox's health once it answers, or None if it never did (or exited)."""
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline and process.poll() is None:
        try:
            return httpx.get(f"http://127.0.0.1:{port}/_sandbox/health", timeout=2).json()
        except httpx.TransportError:
            time.sleep(0.2)
    return None


def test_the_sandbox_command_serves_the_chosen_simulators(demo_env: dict[str, str]) -> None:
    process, port = _sandbox(demo_env, "--systems", "intacct", "--seed", "7")
    try:
        health = _sandbox_health(process, port)
        fyle = httpx.get(f"http://127.0.0.1:{port}/fyle/oauth/cluster", timeout=2)
    finally:
        code, output = _stop(process, signal.SIGINT)
    assert health == {"status": "ok", "systems": ["intacct"], "seed": 7}, output
    assert fyle.status_code == 404
    assert code == 0, output


def test_the_sandbox_command_serves_every_simulator_by_default(demo_env: dict[str, str]) -> None:
    process, port = _sandbox(demo_env)
    try:
        health = _sandbox_health(process, port)
    finally:
        code, output = _stop(process, signal.SIGINT)
    assert health is not None and health["systems"] == list(SYSTEMS), output
    assert code == 0, output


def test_the_sandbox_command_refuses_unknown_systems(demo_env: dict[str, str]) -> None:
    result = subprocess.run(
        [LEDGERLINE_CLI, "sandbox", "--systems", "netsuite"], env=demo_env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert "unknown systems ['netsuite']" in result.stdout


def test_a_worker_serves_its_own_metrics_when_given_a_port(settings: Settings, quiet_database: str) -> None:
    port = _free_port()
    process = subprocess.Popen(
        [LEDGERLINE_CLI, "worker"],
        env={
            **settings_env(settings),
            "LEDGERLINE_DATABASE_URL": quiet_database,
            "LEDGERLINE_QUEUE_NAME": f"{settings.queue_name}:metrics",
            "LEDGERLINE_WORKER_METRICS_PORT": str(port),
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline, body = time.monotonic() + HEARTBEAT_DEADLINE_SECONDS, ""
        # The heartbeat cron runs at start-up: its outcome is counted by this process, so only its endpoint has it.
        while time.monotonic() < deadline and 'function="record_heartbeat",outcome="succeeded"' not in body:
            with suppress(httpx.TransportError):
                body = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=2).text
            time.sleep(0.2)
        assert 'ledgerline_jobs_total{function="record_heartbeat",outcome="succeeded"}' in body
    finally:
        code, output = _stop(process, signal.SIGTERM)
    assert code == 0, output
