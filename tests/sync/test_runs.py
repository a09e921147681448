"""Sync runs as units of work: requests coalesce, claims are leased and fenced, paused connections wait, expired
runs resume, schedules create one run per interval, and discovery skips what may not run."""

import secrets
import uuid

import pytest
from sqlalchemy import select, text, update

from core.db import Database
from core.models import AuditEvent, Connection, RunState, SyncRun
from sync.reconciler import return_expired_runs, schedule_due_runs
from sync.runs import RunKind, RunPhase, RunRefusedError, RunTrigger, claim_run, next_phase, request_run, save_step
from tests.conftest import TenantFixture, make_tenant


async def _destination(database: Database, *, role: str = "destination") -> tuple[TenantFixture, Connection]:
    tenant = await make_tenant(database, "Runs")
    async with database.tenant_session(tenant.id) as session:
        connection = Connection(
            id=uuid.uuid4(),
            tenant_id=tenant.id,
            name="books",
            provider="intacct",
            role=role,
            webhook_key=secrets.token_hex(8),
        )
        session.add(connection)
    return tenant, connection


async def _request(database: Database, tenant: TenantFixture, connection_id: uuid.UUID) -> tuple[SyncRun, bool]:
    async with database.tenant_session(tenant.id) as session:
        connection = await session.get(Connection, connection_id)
        assert connection is not None
        return await request_run(
            session, connection=connection, kind=RunKind.SYNC, trigger=RunTrigger.MANUAL, requested_by="test"
        )


def test_phases_follow_in_order_and_end() -> None:
    assert next_phase(RunKind.SYNC, None) is RunPhase.IMPORT
    assert next_phase(RunKind.SYNC, RunPhase.EXPORT) is RunPhase.WRITE_BACK
    assert next_phase(RunKind.SYNC, RunPhase.PAYMENTS) is None
    assert next_phase(RunKind.EXPORT, None) is RunPhase.GROUP


async def test_requests_coalesce_into_the_open_run(database: Database) -> None:
    tenant, connection = await _destination(database)
    first, created = await _request(database, tenant, connection.id)
    again, created_again = await _request(database, tenant, connection.id)
    assert created and not created_again
    assert again.id == first.id
    async with database.tenant_session(tenant.id) as session:
        actions = (await session.scalars(select(AuditEvent.action).where(AuditEvent.entity_id == str(first.id)))).all()
    assert actions == ["sync_run.requested"]


async def test_runs_are_refused_for_sources_and_connections_needing_reauthorization(database: Database) -> None:
    tenant, source = await _destination(database, role="source")
    with pytest.raises(RunRefusedError, match="destination"):
        await _request(database, tenant, source.id)
    tenant, destination = await _destination(database)
    async with database.tenant_session(tenant.id) as session:
        await session.execute(
            update(Connection)
            .where(Connection.id == destination.id)
            .values(status="needs_reauth", status_reason="password changed")
        )
    with pytest.raises(RunRefusedError, match="password changed"):
        await _request(database, tenant, destination.id)


async def test_a_claimed_run_is_fenced_on_its_lease(database: Database) -> None:
    tenant, connection = await _destination(database)
    run, _ = await _request(database, tenant, connection.id)
    async with database.tenant_session(tenant.id) as session:
        claimed = await claim_run(session, run_id=run.id, owner="w1", lease_seconds=60)
        assert claimed is not None and claimed.state == RunState.RUNNING.value
        assert await claim_run(session, run_id=run.id, owner="w2", lease_seconds=60) is None
        stolen = await save_step(
            session, run=claimed, owner="w2", state=RunState.SUCCEEDED, phase=None, counts={}, log_lines=[]
        )
        assert not stolen
        saved = await save_step(
            session,
            run=claimed,
            owner="w1",
            state=RunState.PENDING,
            phase=RunPhase.EXPORT,
            counts={"export": {"remaining": 3}},
            log_lines=[{"message": "waiting"}],
        )
        assert saved
        row = await session.get(SyncRun, run.id, populate_existing=True)
        assert row is not None
        assert (row.state, row.phase, row.counts, row.lease_owner) == (
            "pending",
            "export",
            {"export": {"remaining": 3}},
            None,
        )
        assert row.log == [{"message": "waiting"}]


async def test_a_paused_connection_keeps_its_runs_waiting(database: Database) -> None:
    tenant, connection = await _destination(database)
    run, _ = await _request(database, tenant, connection.id)
    async with database.tenant_session(tenant.id) as session:
        await session.execute(update(Connection).where(Connection.id == connection.id).values(paused=True))
    async with database.unscoped_session() as session:
        due = (await session.execute(text("SELECT run_id FROM ledgerline_due_sync_runs(1000)"))).scalars().all()
    assert run.id not in due
    async with database.tenant_session(tenant.id) as session:
        assert await claim_run(session, run_id=run.id, owner="w1", lease_seconds=60) is None
        await session.execute(update(Connection).where(Connection.id == connection.id).values(paused=False))
    async with database.tenant_session(tenant.id) as session:
        assert await claim_run(session, run_id=run.id, owner="w1", lease_seconds=60) is not None


async def test_a_run_whose_worker_died_resumes_at_its_phase(database: Database) -> None:
    tenant, connection = await _destination(database)
    run, _ = await _request(database, tenant, connection.id)
    async with database.tenant_session(tenant.id) as session:
        claimed = await claim_run(session, run_id=run.id, owner="dead", lease_seconds=60)
        assert claimed is not None
        await session.execute(
            update(SyncRun)
            .where(SyncRun.id == run.id)
            .values(phase="export", lease_expires_at=text("now() - interval '1 second'"))
        )
    assert await return_expired_runs(database) >= 1
    async with database.tenant_session(tenant.id) as session:
        row = await session.get(SyncRun, run.id)
        assert row is not None
        assert (row.state, row.phase, row.lease_owner) == ("pending", "export", None)
        assert await claim_run(session, run_id=run.id, owner="w2", lease_seconds=60) is not None


async def test_a_schedule_creates_one_run_per_interval(database: Database) -> None:
    tenant, connection = await _destination(database)
    async with database.tenant_session(tenant.id) as session:
        await session.execute(update(Connection).where(Connection.id == connection.id).values(sync_interval_minutes=60))

    async def runs() -> list[SyncRun]:
        async with database.tenant_session(tenant.id) as session:
            return list((await session.scalars(select(SyncRun).where(SyncRun.connection_id == connection.id))).all())

    await schedule_due_runs(database)
    await schedule_due_runs(database)
    scheduled = await runs()
    assert [(run.trigger, run.kind, run.state) for run in scheduled] == [("schedule", "sync", "pending")]
    # Finished within the interval: still not due. An hour later: due again.
    async with database.tenant_session(tenant.id) as session:
        await session.execute(update(SyncRun).where(SyncRun.id == scheduled[0].id).values(state="succeeded"))
    await schedule_due_runs(database)
    assert len(await runs()) == 1
    async with database.tenant_session(tenant.id) as session:
        await session.execute(
            update(SyncRun)
            .where(SyncRun.id == scheduled[0].id)
            .values(created_at=text("now() - interval '61 minutes'"))
        )
    await schedule_due_runs(database)
    assert len(await runs()) == 2
