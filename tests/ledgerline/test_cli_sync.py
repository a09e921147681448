"""`ledgerline sync` as a process: clear refusals, pause and resume, runs listed (following a run to its end is in
tests/e2e, with a worker)."""

import secrets
import uuid

from sqlalchemy import select

from core.db import Database
from core.models import AuditEvent, Connection, SyncRun
from core.settings import Settings
from tests.conftest import TenantFixture, make_tenant
from tests.ledgerline.test_cli import run_cli


async def _tenant_with_destinations(database: Database, *names: str) -> TenantFixture:
    tenant = await make_tenant(database, "Cli")
    async with database.tenant_session(tenant.id) as session:
        session.add_all(
            Connection(
                id=uuid.uuid4(),
                tenant_id=tenant.id,
                name=name,
                provider="intacct",
                role="destination",
                webhook_key=secrets.token_hex(8),
            )
            for name in names
        )
    return tenant


def test_unknown_tenants_and_ambiguous_destinations_are_refused_clearly(settings: Settings) -> None:
    unknown = run_cli(settings, "sync", "run", "--tenant", "no-such-tenant")
    assert unknown.returncode == 2
    assert "No tenant 'no-such-tenant'" in unknown.stdout


async def test_a_tenant_with_two_destinations_must_choose(database: Database, settings: Settings) -> None:
    tenant = await _tenant_with_destinations(database, "us-books", "eu-books")
    refused = run_cli(settings, "sync", "run", "--tenant", tenant.slug)
    assert refused.returncode == 2
    assert "several destinations (eu-books, us-books)" in refused.stdout
    chosen = run_cli(settings, "sync", "run", "--tenant", tenant.slug, "--connection", "eu-books", "--kind", "import")
    assert chosen.returncode == 0, chosen.stdout
    assert "Started import run" in chosen.stdout
    listed = run_cli(settings, "sync", "runs", "--tenant", tenant.slug, "--connection", "eu-books")
    async with database.tenant_session(tenant.id) as session:
        run_id = await session.scalar(select(SyncRun.id))
    assert str(run_id) in listed.stdout


async def test_pause_and_resume_from_the_cli_are_audited(database: Database, settings: Settings) -> None:
    tenant = await _tenant_with_destinations(database, "books")
    assert run_cli(settings, "sync", "pause", "--tenant", tenant.slug).returncode == 0
    async with database.tenant_session(tenant.id) as session:
        assert await session.scalar(select(Connection.paused)) is True
    assert run_cli(settings, "sync", "resume", "--tenant", tenant.slug).returncode == 0
    async with database.tenant_session(tenant.id) as session:
        assert await session.scalar(select(Connection.paused)) is False
        actions = (
            await session.scalars(select(AuditEvent.action).where(AuditEvent.actor == "cli").order_by(AuditEvent.seq))
        ).all()
    assert actions == ["connection.paused", "connection.resumed"]
