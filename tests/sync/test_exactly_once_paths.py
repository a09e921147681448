"""Deterministic reproductions of paths the randomised schedules (`test_exactly_once_schedules.py`) found beyond
issue 15's numbered ones. Each is the smallest schedule that shows it."""

from sqlalchemy import func, select, update

from core.db import Database
from core.models import Attempt, ExportItem
from sync.export_engine import ExportEngine
from tests.sandbox_fixtures import RunningSandbox
from tests.sync.conftest import Books


async def test_an_unreadable_lookup_answer_with_a_nul_byte_is_recorded_not_a_crash(
    database: Database, books: Books, sandbox: RunningSandbox
) -> None:
    """A garbled answer (the simulator's `malformed` fault ends the body with NUL and 0xFF, as a truncated binary
    reply does) to the lookup of items whose outcome is unknown must end the batch like any failed lookup: each item
    back to pending, still unknown, with an attempt row. The response excerpt kept the NUL, PostgreSQL refuses
    `\\u0000` in jsonb, and the whole finish failed: the batch raised DataError, wrote no attempt and left its items
    running until their lease ran out. (Schedules seeded 1505, 1516, 1517, 1528, 1529, … hit it.)"""
    engine = ExportEngine(database, owner="w1")
    with sandbox.control() as control:  # the bills are created, their answer and the lookup after it are lost
        for operation, mode in (("create:APBILL", "commit_then_fail"), ("query:APBILL", "error")):
            control.post(
                "/faults", json={"system": "intacct", "operation": operation, "mode": mode, "times": 1}
            ).raise_for_status()
    await engine.run_batch(books.connector, tenant_id=books.tenant.id, connection_id=books.destination_id)
    async with database.tenant_session(books.tenant.id) as session:
        assert set((await session.scalars(select(ExportItem.outcome_unknown))).all()) == {True}
        await session.execute(update(ExportItem).values(next_attempt_at=func.now()))
    with sandbox.control() as control:
        control.post(
            "/faults", json={"system": "intacct", "operation": "query:APBILL", "mode": "malformed", "times": 1}
        ).raise_for_status()
    report = await engine.run_batch(books.connector, tenant_id=books.tenant.id, connection_id=books.destination_id)
    assert (report.claimed, report.retrying) == (3, 3)
    async with database.tenant_session(books.tenant.id) as session:
        items = (await session.execute(select(ExportItem.state, ExportItem.outcome_unknown))).all()
        attempts = (await session.scalars(select(Attempt.response_excerpt))).all()
    assert sorted(items) == [("pending", True)] * 3
    assert len(attempts) == 6
    assert all(excerpt is None or "\x00" not in str(excerpt) for excerpt in attempts)
