"""`make demo`'s tenant (issue 20, "`make demo` shows the product working"): seeded against the test database and the
sandbox, a real worker exports most expenses to every installed destination while a handful fail for the reasons
the seeding arranged — a category left unmapped, a closed period, a vendor made inactive in the books; a second
seeding creates nothing; `--empty` connects nothing."""

import asyncio
import time
import uuid
from collections import Counter
from pathlib import Path

from sqlalchemy import func, select

from connectors.registry import available_systems, connector_class
from connectors.spec import ConnectorRole
from core.db import Database
from core.errors import DestinationRejected, MappingError
from core.models import (
    AuditEvent,
    Connection,
    DestinationAttribute,
    ExportItem,
    ExportState,
    Mapping,
    SourceRecord,
    SyncRun,
)
from core.settings import Settings
from ledgerline.demo_seed import DemoSeedReport, seed_demo
from ledgerline.demo_simulators import DemoSimulators
from tests.e2e.conftest import tail
from tests.sandbox_fixtures import RunningSandbox

EXPORT_DEADLINE_SECONDS = 90
SETTLED = (ExportState.SUCCEEDED.value, ExportState.NEEDS_ACTION.value, ExportState.SKIPPED.value)


async def seed(database: Database, settings: Settings, sandbox: RunningSandbox, slug: str) -> DemoSeedReport:
    async with DemoSimulators(sandbox.url) as simulators:
        return await seed_demo(database, settings=settings, simulators=simulators, queue=None, slug=slug)


async def settled_items(database: Database, tenant_id: uuid.UUID, worker: Path) -> list[ExportItem]:
    """The tenant's export items once the worker has settled every one and finished every run."""
    deadline = time.monotonic() + EXPORT_DEADLINE_SECONDS
    while True:
        async with database.tenant_session(tenant_id) as session:
            items = list((await session.scalars(select(ExportItem).where(ExportItem.tenant_id == tenant_id))).all())
            open_runs = await session.scalar(
                select(func.count()).select_from(SyncRun).where(SyncRun.state.in_(("pending", "running")))
            )
            session.expunge_all()
        if items and all(item.state in SETTLED for item in items) and not open_runs:
            return items
        assert time.monotonic() < deadline, (Counter(item.state for item in items), open_runs, tail(worker))
        await asyncio.sleep(0.5)


async def counts(database: Database, tenant_id: uuid.UUID) -> dict[str, int]:
    async with database.tenant_session(tenant_id) as session:
        return {
            model.__tablename__: await session.scalar(select(func.count()).select_from(model)) or 0
            for model in (Connection, DestinationAttribute, Mapping, SourceRecord, ExportItem, SyncRun)
        }


def destination_systems() -> set[str]:
    return {system for system in available_systems() if ConnectorRole.DESTINATION in connector_class(system).spec.roles}


async def test_the_demo_exports_most_expenses_to_every_destination_and_fails_a_handful_for_the_arranged_reasons(
    database: Database, product_settings: Settings, sandbox: RunningSandbox, worker: Path
) -> None:
    report = await seed(database, product_settings, sandbox, f"demo-{uuid.uuid4().hex[:8]}")
    assert report.seeded
    assert {connection.system for connection in report.connections} == set(available_systems())
    assert {entry.system for entry in report.arranged} == destination_systems()
    items = await settled_items(database, report.tenant_id, worker)
    by_destination: dict[str, list[ExportItem]] = {}
    for item in items:
        by_destination.setdefault(item.destination_provider, []).append(item)
    assert set(by_destination) == destination_systems()
    for system, mine in by_destination.items():
        states = Counter(item.state for item in mine)
        failed = [item for item in mine if item.state == ExportState.NEEDS_ACTION.value]
        classes = Counter(item.error_class for item in failed)
        assert states[ExportState.SUCCEEDED.value] > 2 * len(failed), (system, states)
        assert all(item.remote_id for item in mine if item.state == ExportState.SUCCEEDED.value)
        assert classes[MappingError.error_class] >= 1, (system, classes)
        assert classes[DestinationRejected.error_class] >= 1, (system, classes)


async def test_a_second_seeding_creates_nothing_new_and_empty_connects_nothing(
    database: Database, product_settings: Settings, sandbox: RunningSandbox
) -> None:
    slug = f"demo-{uuid.uuid4().hex[:8]}"
    first = await seed(database, product_settings, sandbox, slug)
    before = await counts(database, first.tenant_id)
    again = await seed(database, product_settings, sandbox, slug)
    assert (again.tenant_id, again.seeded, again.runs) == (first.tenant_id, False, [])
    assert [entry.as_data() for entry in again.arranged] == [entry.as_data() for entry in first.arranged]
    assert await counts(database, first.tenant_id) == before
    async with database.owner_session() as session:
        seeded = await session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.tenant_id == first.tenant_id, AuditEvent.action == "demo.seeded")
        )
    assert seeded == 1

    async with DemoSimulators(sandbox.url) as simulators:
        empty = await seed_demo(
            database, settings=product_settings, simulators=simulators, queue=None, slug="demo-empty", empty=True
        )
    assert empty.connections == [] and not empty.seeded
    assert (await counts(database, empty.tenant_id))["connections"] == 0
