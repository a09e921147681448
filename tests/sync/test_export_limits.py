"""The export engine within a connection's limits: rate budget, refused credentials, and the circuit breaker.

The Intacct simulator enforces its own rate limit and injects 5xx over real loopback; its request log counts the
calls that reached it. Budgets and breakers live in the real Redis, under the test's own connection id.
"""

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from redis.asyncio import Redis
from sqlalchemy import func, select, update

from api.connecting import _save_connection
from connectors.base import DestinationConnector
from connectors.factory import open_connector
from connectors.registry import connector_class
from core.crypto import CredentialVault
from core.db import Database
from core.models import Attempt, AuditEvent, Connection, ExportItem
from core.repository import TenantRepository
from core.settings import Settings
from sandbox.intacct.constants import SINGLE_ENTITY_COMPANY, USER_ID, USER_PASSWORD
from sync.backoff import BackoffSchedule
from sync.circuit import CircuitBreaker, CircuitPolicy, CircuitStatus
from sync.export_engine import BatchReport, ConnectionGuards, ExportEngine, Hold
from sync.rate_budget import RateBudget
from tests.conftest import REDIS_URL
from tests.sandbox_fixtures import RunningSandbox
from tests.sync.conftest import Books, sandbox_settings

CREDENTIALS = {"user_id": USER_ID, "company_id": SINGLE_ENTITY_COMPANY, "user_password": USER_PASSWORD}


@pytest.fixture
async def redis() -> AsyncIterator[Redis]:
    client = Redis.from_url(REDIS_URL)
    yield client
    await client.aclose()


def intacct_calls(sandbox: RunningSandbox, *, status: int | None = None) -> int:
    with sandbox.control() as control:
        entries = control.get("/requests", params={"system": "intacct", "limit": 10_000}).json()["data"]
    return sum(1 for entry in entries if status is None or entry["status"] == status)


def control(sandbox: RunningSandbox, method: str, path: str, body: dict[str, Any]) -> None:
    with sandbox.control() as client:
        client.request(method, path, json=body).raise_for_status()


async def items(database: Database, books: Books) -> list[ExportItem]:
    async with database.tenant_session(books.tenant.id) as session:
        return list((await session.scalars(select(ExportItem).order_by(ExportItem.idempotency_key))).all())


async def connection(database: Database, books: Books) -> Connection:
    async with database.tenant_session(books.tenant.id) as session:
        row = await session.get(Connection, books.destination_id)
        assert row is not None
        return row


async def run(engine: ExportEngine, books: Books, guards: ConnectionGuards, **kwargs: Any) -> BatchReport:
    return await engine.run_batch(
        books.connector, tenant_id=books.tenant.id, connection_id=books.destination_id, guards=guards, **kwargs
    )


async def test_a_rate_limited_call_defers_every_worker_and_the_items_keep_their_attempts(
    database: Database, books: Books, sandbox: RunningSandbox, redis: Redis
) -> None:
    control(sandbox, "PUT", "/rate_limits/intacct", {"per_minute": 3})  # login, create, read URLs: then 429
    budget = RateBudget.from_spec(redis, books.destination_id, books.connector.spec.rate_limit)
    engine = ExportEngine(database, owner="w1")

    first = await run(engine, books, ConnectionGuards(budget=budget))
    await books.add_reports(database, 3)
    second = await run(engine, books, ConnectionGuards(budget=budget))

    assert (first.claimed, first.succeeded) == (3, 3)
    assert second.held is None and second.claimed == 3 and second.retrying == 3
    assert intacct_calls(sandbox, status=429) == 1
    deferred_until = await budget.deferred_until()
    assert deferred_until is not None and deferred_until > datetime.now(UTC) + timedelta(seconds=30)
    waiting = [item for item in await items(database, books) if item.state == "pending"]
    assert len(waiting) == 3
    assert all(item.attempt_count == 0 and item.error_class == "rate_limited" for item in waiting)
    assert all(abs((item.next_attempt_at - deferred_until).total_seconds()) < 2 for item in waiting)

    # Another worker, with its own budget object on its own Redis client: it claims nothing, and calls nothing.
    async with Redis.from_url(REDIS_URL) as other_redis:
        other = RateBudget.from_spec(other_redis, books.destination_id, books.connector.spec.rate_limit)
        async with database.tenant_session(books.tenant.id) as session:  # due now, were it not for the deferral
            await session.execute(update(ExportItem).values(next_attempt_at=func.now()))
        calls = intacct_calls(sandbox)
        held = await run(ExportEngine(database, owner="w2"), books, ConnectionGuards(budget=other))
    assert (held.held, held.claimed) == (Hold.DEFERRED, 0)
    assert intacct_calls(sandbox) == calls
    assert all(item.attempt_count == 0 for item in await items(database, books) if item.state == "pending")


async def test_the_concurrency_cap_keeps_parallel_workers_under_the_systems_limit(
    database: Database, books: Books, sandbox: RunningSandbox, redis: Redis
) -> None:
    await books.add_reports(database, 5)  # eight bills
    control(sandbox, "PUT", "/rate_limits/intacct", {"concurrency": 1})
    control(sandbox, "POST", "/faults", {"system": "intacct", "mode": "latency", "latency_ms": 100})
    spec = books.connector.spec.rate_limit
    guards = ConnectionGuards(budget=RateBudget.from_spec(redis, books.destination_id, spec, {"concurrency": 1}))

    async def worker(index: int) -> None:
        engine = ExportEngine(database, owner=f"w{index}")
        while (await run(engine, books, guards, limit=1)).claimed:
            pass

    await asyncio.gather(*(worker(index) for index in range(4)))

    assert intacct_calls(sandbox, status=429) == 0
    assert {item.state for item in await items(database, books)} == {"succeeded"}


async def test_refused_credentials_pause_the_connection_until_it_is_reauthorized(
    database: Database, books: Books, sandbox: RunningSandbox, settings: Settings, redis: Redis
) -> None:
    vault = CredentialVault(settings.vault_key_list())
    async with database.tenant_session(books.tenant.id) as session:
        await session.execute(
            update(Connection)
            .where(Connection.id == books.destination_id)
            .values(credentials=vault.encrypt({**CREDENTIALS, "user_password": "revoked"}))
        )
    configured = sandbox_settings(settings, sandbox)
    refused = await open_connector(
        database=database,
        vault=vault,
        settings=configured,
        tenant_id=books.tenant.id,
        connection_id=books.destination_id,
    )
    assert isinstance(refused, DestinationConnector)
    guards = ConnectionGuards(
        budget=RateBudget.from_spec(redis, books.destination_id, refused.spec.rate_limit),
        breaker=CircuitBreaker(redis, books.destination_id),
    )
    engine = ExportEngine(database, owner="w1")
    async with refused:
        report = await engine.run_batch(
            refused, tenant_id=books.tenant.id, connection_id=books.destination_id, guards=guards
        )

    assert (report.claimed, report.retrying, report.succeeded) == (3, 3, 0)
    paused = await connection(database, books)
    assert paused.status == "needs_reauth" and paused.status_reason
    assert [(item.state, item.attempt_count, item.error_class) for item in await items(database, books)] == [
        ("pending", 0, "auth")
    ] * 3
    async with database.tenant_session(books.tenant.id) as session:
        audited = (
            await session.scalars(select(AuditEvent).where(AuditEvent.action == "connection.needs_reauth"))
        ).all()
        attempts = await session.scalar(select(func.count()).select_from(Attempt))
    assert [event.entity_id for event in audited] == [str(books.destination_id)]
    assert attempts == 0
    assert (await guards.breaker.state()).failures == 0 if guards.breaker else False  # not the system's health

    calls = intacct_calls(sandbox)
    held = await run(ExportEngine(database, owner="w2"), books, guards)  # a job queued before the pause
    assert (held.held, held.claimed) == (Hold.NEEDS_REAUTH, 0)
    assert intacct_calls(sandbox) == calls

    async with database.tenant_session(books.tenant.id) as session:  # the credentials POST's own save
        await _save_connection(
            TenantRepository(session, books.tenant.id, "admin"),
            spec=connector_class("intacct").spec,
            name=paused.name,
            credentials=vault.encrypt(CREDENTIALS),
            action="connection.connect",
        )
    assert (await connection(database, books)).status == "active"
    resumed = await run(engine, books, guards)
    assert (resumed.claimed, resumed.succeeded) == (3, 3)
    assert [(item.state, item.attempt_count) for item in await items(database, books)] == [("succeeded", 1)] * 3


async def test_a_paused_connection_claims_nothing(database: Database, books: Books, sandbox: RunningSandbox) -> None:
    async with database.tenant_session(books.tenant.id) as session:
        await session.execute(update(Connection).where(Connection.id == books.destination_id).values(paused=True))
    report = await run(ExportEngine(database, owner="w1"), books, ConnectionGuards())
    assert (report.held, report.claimed) == (Hold.PAUSED, 0)
    assert intacct_calls(sandbox) == 0


async def test_repeated_5xx_open_the_circuit_then_a_probe_closes_it(
    database: Database, books: Books, sandbox: RunningSandbox, redis: Redis
) -> None:
    control(sandbox, "POST", "/faults", {"system": "intacct", "mode": "error", "status": 503})
    breaker = CircuitBreaker(redis, books.destination_id, CircuitPolicy(failure_threshold=5, cooldown_seconds=1.0))
    guards = ConnectionGuards(
        budget=RateBudget.from_spec(redis, books.destination_id, books.connector.spec.rate_limit), breaker=breaker
    )
    engine = ExportEngine(database, owner="w1", backoff=BackoffSchedule(base_seconds=0))  # retries due at once

    for _ in range(5):
        failed = await run(engine, books, guards)
        assert (failed.claimed, failed.retrying) == (3, 3)
    assert (await breaker.state()).status is CircuitStatus.OPEN
    attempts = [item.attempt_count for item in await items(database, books)]
    calls = intacct_calls(sandbox)

    held = await run(engine, books, guards)
    assert (held.held, held.claimed) == (Hold.CIRCUIT_OPEN, 0)
    assert intacct_calls(sandbox) == calls
    assert [item.attempt_count for item in await items(database, books)] == attempts == [5, 5, 5]

    control(sandbox, "DELETE", "/faults", {})
    await asyncio.sleep(1.1)
    probe = await run(engine, books, guards)
    assert probe.probe and probe.claimed >= 1 and probe.succeeded == probe.claimed
    assert (await breaker.state()).status is CircuitStatus.CLOSED
    rest = await run(engine, books, guards)
    assert not rest.probe and rest.succeeded == rest.claimed == 3 - probe.claimed


async def test_a_refused_document_does_not_count_against_the_circuit(
    database: Database, books: Books, sandbox: RunningSandbox, redis: Redis
) -> None:
    with sandbox.control() as client:  # every bill's posting date falls in a closed period
        client.put("/intacct/periods", json={"open_from": "2030-01-01"}).raise_for_status()
    breaker = CircuitBreaker(redis, books.destination_id, CircuitPolicy(failure_threshold=1))
    report = await run(ExportEngine(database, owner="w1"), books, ConnectionGuards(breaker=breaker))
    assert report.needs_action == 3
    assert (await breaker.state()).status is CircuitStatus.CLOSED
