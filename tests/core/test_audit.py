"""The audit log is append-only and hash-chained; `ledgerline audit verify` names the first altered row."""

import subprocess
import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from core.audit import append_event, verify_chains
from core.db import Database, sqlalchemy_url
from core.settings import Settings
from tests.conftest import LEDGERLINE_CLI, TenantFixture, settings_env


async def _append(database: Database, tenant: TenantFixture, count: int) -> list[uuid.UUID]:
    ids = []
    async with database.tenant_session(tenant.id) as session:
        for index in range(count):
            event_id = await append_event(
                session,
                tenant_id=tenant.id,
                actor="api_key:test",
                action="mapping.set",
                entity_type="mappings",
                entity_id=str(index),
                data={"amount": "12.50", "category": f"Travel {index}"},
            )
            ids.append(event_id)
    return ids


def _tamper(settings: Settings, statement: str, params: dict[str, object]) -> None:
    """What a malicious superuser could do: bypass the append-only trigger and edit a row."""
    assert settings.database_url
    engine = create_engine(sqlalchemy_url(settings.database_url), poolclass=NullPool)
    with engine.begin() as connection:
        connection.execute(text("SET LOCAL session_replication_role = replica"))
        connection.execute(text(statement), params)
    engine.dispose()


def _verify_cli(settings: Settings) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [LEDGERLINE_CLI, "audit", "verify"], env=settings_env(settings), capture_output=True, text=True, timeout=60
    )


async def test_chains_verify_and_sequence_per_tenant(
    database: Database, tenant: TenantFixture, other_tenant: TenantFixture
) -> None:
    await _append(database, tenant, 3)
    await _append(database, other_tenant, 2)
    async with database.owner_session() as session:
        checked, breaks = await verify_chains(session)
        seqs = (
            (
                await session.execute(
                    text("SELECT seq FROM audit_events WHERE tenant_id = :t ORDER BY seq"), {"t": tenant.id}
                )
            )
            .scalars()
            .all()
        )
    assert breaks == []
    assert checked >= 5
    assert seqs == list(range(1, len(seqs) + 1))


async def test_the_owner_cannot_update_or_delete_audit_rows(database: Database, tenant: TenantFixture) -> None:
    await _append(database, tenant, 1)
    for statement in ("UPDATE audit_events SET actor = 'x'", "DELETE FROM audit_events"):
        with pytest.raises(DBAPIError, match="append-only"):
            async with database.owner_session() as session:
                await session.execute(text(statement))


async def test_altering_a_row_fails_verify_and_names_it(
    database: Database, settings: Settings, tenant: TenantFixture
) -> None:
    ids = await _append(database, tenant, 4)
    assert _verify_cli(settings).returncode == 0
    _tamper(settings, 'UPDATE audit_events SET data = \'{"amount": "1250.00"}\' WHERE id = :id', {"id": ids[2]})
    try:
        result = _verify_cli(settings)
        assert result.returncode == 1
        assert str(ids[2]) in result.stdout
        assert "altered" in result.stdout
    finally:
        _tamper(settings, "DELETE FROM audit_events WHERE chain = :chain", {"chain": str(tenant.id)})


async def test_deleting_a_row_fails_verify_and_names_the_row_after_the_gap(
    database: Database, settings: Settings, tenant: TenantFixture
) -> None:
    ids = await _append(database, tenant, 4)
    _tamper(settings, "DELETE FROM audit_events WHERE id = :id", {"id": ids[1]})
    try:
        async with database.owner_session() as session:
            _, breaks = await verify_chains(session)
        assert [found.event_id for found in breaks] == [ids[2]]
        assert "missing" in breaks[0].reason
    finally:
        _tamper(settings, "DELETE FROM audit_events WHERE chain = :chain", {"chain": str(tenant.id)})
