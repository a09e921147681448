"""The audit log is append-only and hash-chained; `ledgerline audit verify` names the first altered row."""

import asyncio
import json
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.pool import NullPool

from core.audit import append_event, verify_chains
from core.audit_anchors import anchor_chain_heads, anchors_in_system_chain, chain_heads
from core.constants import SYSTEM_AUDIT_CHAIN
from core.db import Database, sqlalchemy_url
from core.models import AuditEvent
from core.settings import Settings
from tests.conftest import LEDGERLINE_CLI, TenantFixture, settings_env


async def _append(
    database: Database, tenant: TenantFixture, count: int, *, actor: str = "api_key:test", amount: str = "12.50"
) -> list[uuid.UUID]:
    ids = []
    async with database.tenant_session(tenant.id) as session:
        for index in range(count):
            event_id = await append_event(
                session,
                tenant_id=tenant.id,
                actor=actor,
                action="mapping.set",
                entity_type="mappings",
                entity_id=str(index),
                data={"amount": amount, "category": f"Travel {index}"},
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


WIDE_TERMINAL = 1000


def _audit_cli(settings: Settings, *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [LEDGERLINE_CLI, "audit", *arguments],
        env=settings_env(settings) | {"COLUMNS": str(WIDE_TERMINAL)},  # a long path is never cut across lines
        capture_output=True,
        text=True,
        timeout=60,
    )


def _verify_cli(settings: Settings) -> subprocess.CompletedProcess[str]:
    return _audit_cli(settings, "verify")


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


@contextmanager
def _cut_from_end(settings: Settings, chain: str, *, keep: int) -> Iterator[None]:
    """Delete a chain's rows after seq `keep`, as an owner bypassing the trigger would; put them back afterwards."""
    assert settings.database_url
    engine = create_engine(sqlalchemy_url(settings.database_url), poolclass=NullPool)
    where = "WHERE chain = :chain AND seq > :keep"
    with engine.begin() as connection:
        cut = connection.execute(text(f"SELECT * FROM audit_events {where}"), {"chain": chain, "keep": keep})
        rows = [dict(row._mapping) for row in cut]
        connection.execute(text("SET LOCAL session_replication_role = replica"))
        connection.execute(text(f"DELETE FROM audit_events {where}"), {"chain": chain, "keep": keep})
    assert rows, "nothing was cut"
    try:
        yield
    finally:
        with engine.begin() as connection:
            connection.execute(AuditEvent.__table__.insert(), rows)
        engine.dispose()


async def _anchor(database: Database) -> None:
    async with database.owner_session() as session:
        await anchor_chain_heads(session, actor="test")


async def test_rows_cut_from_a_chains_end_after_its_head_was_anchored_fail_verify(
    database: Database, settings: Settings, tenant: TenantFixture
) -> None:
    await _append(database, tenant, 4)
    await _anchor(database)
    assert _verify_cli(settings).returncode == 0
    with _cut_from_end(settings, str(tenant.id), keep=2):
        async with database.owner_session() as session:
            anchors = await anchors_in_system_chain(session)
            _, breaks = await verify_chains(session, anchors=anchors)
        assert [(found.chain, found.seq, found.event_id) for found in breaks] == [(str(tenant.id), 3, None)]
        assert "ends at seq 2" in breaks[0].reason and "anchored" in breaks[0].reason
        result = _verify_cli(settings)
        assert result.returncode == 1
        assert "removed from its end" in _said(result)
    assert _verify_cli(settings).returncode == 0  # the rows are back: the same chain verifies again


async def _head(database: Database, chain: str) -> int:
    async with database.owner_session() as session:
        (head,) = [found.seq for found in await chain_heads(session) if found.chain == chain]
    return head


def _said(result: subprocess.CompletedProcess[str]) -> str:
    """The command's output with the terminal's line wrapping undone."""
    return " ".join(result.stdout.split())


async def test_a_chain_rewritten_after_its_head_was_anchored_fails_verify(
    database: Database, settings: Settings, tenant: TenantFixture
) -> None:
    """Rows replaced by others with valid hashes pass the chain check; the anchor catches them."""
    await _append(database, tenant, 3)
    await _anchor(database)
    head = await _head(database, str(tenant.id))
    with _cut_from_end(settings, str(tenant.id), keep=head - 2):
        try:
            await _append(database, tenant, 2, actor="api_key:forger", amount="0.01")  # rows in their place
            async with database.owner_session() as session:
                _, breaks = await verify_chains(session, anchors=await anchors_in_system_chain(session))
            assert [(found.chain, found.seq) for found in breaks] == [(str(tenant.id), head)]
            assert "rewritten" in breaks[0].reason
        finally:
            _tamper(
                settings,
                "DELETE FROM audit_events WHERE chain = :chain AND seq > :keep",
                {"chain": str(tenant.id), "keep": head - 2},
            )


async def test_an_anchor_file_shows_rows_cut_from_the_system_chains_own_end(
    database: Database, settings: Settings, tenant: TenantFixture, tmp_path: Path
) -> None:
    await _append(database, tenant, 2)
    tenant_head, system_head = await _head(database, str(tenant.id)), await _head(database, SYSTEM_AUDIT_CHAIN)
    anchors = tmp_path / "anchors.jsonl"
    anchored = _audit_cli(settings, "anchor", "--export", str(anchors))
    assert anchored.returncode == 0, anchored.stdout + anchored.stderr
    exported = {line["chain"]: line["seq"] for line in map(json.loads, anchors.read_text().splitlines())}
    assert exported[str(tenant.id)] == tenant_head and exported[SYSTEM_AUDIT_CHAIN] > system_head
    with _cut_from_end(settings, SYSTEM_AUDIT_CHAIN, keep=system_head):
        # The anchors recorded in the system chain went with its end: only the file kept outside shows the cut.
        assert _audit_cli(settings, "verify").returncode == 0
        result = _audit_cli(settings, "verify", "--anchors", str(anchors))
        assert result.returncode == 1
        assert "removed from its end" in _said(result) and str(anchors) in _said(result)
    assert _audit_cli(settings, "verify", "--anchors", str(anchors)).returncode == 0


async def test_an_unreadable_anchor_file_is_refused_with_its_line(settings: Settings, tmp_path: Path) -> None:
    anchors = tmp_path / "anchors.jsonl"
    anchors.write_text('{"chain": "system", "seq": 1}\n')
    result = _audit_cli(settings, "verify", "--anchors", str(anchors))
    assert result.returncode == 2
    assert "line 1: not an anchor" in _said(result) and "hash" in _said(result)


async def test_a_change_audited_first_and_one_audited_after_do_not_deadlock(
    database: Database, tenant: TenantFixture
) -> None:
    """One transaction audits, then changes a row; another changes that row, then audits. With the chain's lock
    taken at the append, the first held the chain and waited for the row while the second held the row and waited
    for the chain: PostgreSQL killed one (a settings save against a batch finish, found by the exactly-once
    schedules). The lock is now taken at commit, after every row lock."""
    audited, row_locked = asyncio.Event(), asyncio.Event()
    touch = text("UPDATE tenants SET name = name WHERE id = :id")

    async def audit_then_change() -> None:
        async with database.tenant_session(tenant.id) as session:
            await _audit(session, tenant, "settings.save")
            audited.set()
            await row_locked.wait()
            await session.execute(touch, {"id": tenant.id})  # waits for the other's row lock

    async def change_then_audit() -> None:
        await audited.wait()
        async with database.tenant_session(tenant.id) as session:
            await session.execute(touch, {"id": tenant.id})
            row_locked.set()
            await _audit(session, tenant, "export_item.finish")
            await asyncio.sleep(0.5)  # past the first's row wait: a deadlock would be detected (deadlock_timeout 1 s)

    await asyncio.wait_for(asyncio.gather(audit_then_change(), change_then_audit()), timeout=30)
    async with database.owner_session() as session:
        actions = (
            await session.scalars(
                select(AuditEvent.action).where(AuditEvent.chain == str(tenant.id)).order_by(AuditEvent.seq)
            )
        ).all()
        _, breaks = await verify_chains(session)
    assert actions[-2:] == ["export_item.finish", "settings.save"]  # in commit order
    assert breaks == []


async def _audit(session: AsyncSession, tenant: TenantFixture, action: str) -> None:
    await append_event(
        session, tenant_id=tenant.id, actor="test", action=action, entity_type="tenants", entity_id=str(tenant.id)
    )


async def test_events_of_a_transaction_rolled_back_are_never_written(database: Database, tenant: TenantFixture) -> None:
    before = await _head(database, str(tenant.id))
    with pytest.raises(RuntimeError):
        async with database.tenant_session(tenant.id) as session:
            await _audit(session, tenant, "mapping.set")
            raise RuntimeError("the change failed")
    async with database.tenant_session(tenant.id) as session:  # a later transaction of the same session class
        await _audit(session, tenant, "mapping.set")
    assert await _head(database, str(tenant.id)) == before + 1
