"""The work ledger's gauges, read from a real PostgreSQL database of their own so every count is exact."""

import secrets
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import date

import httpx
import pytest
from prometheus_client import REGISTRY
from sqlalchemy import func, select, text, update

from core import migrate
from core.db import Database
from core.models import Connection, ExportItem, SyncRun, WebhookEvent
from core.repository import TenantRepository
from core.settings import Settings
from core.work_gauges import WorkGauges
from mappings.regrouping import regroup
from tests.conftest import create_database, drop_database
from tests.mappings.factories import expense
from tests.mappings.seed import expenses as store_expenses
from tests.sync.bill_books import BILL_SETTINGS, BillTenant, add_bill_tenant


def gauge(name: str, **labels: str) -> float | None:
    return REGISTRY.get_sample_value(name, labels)


@pytest.fixture(scope="module")
def gauges_url() -> Iterator[str]:
    url = create_database("ledgerline_gauges")
    migrate.upgrade(url)
    yield url
    drop_database(url)


@pytest.fixture(scope="module")
async def ledger(settings: Settings, gauges_url: str) -> AsyncIterator[Database]:
    database = Database(settings.model_copy(update={"database_url": gauges_url}))
    yield database
    await database.dispose()


async def add_items(database: Database, made: BillTenant, reports: int) -> list[uuid.UUID]:
    """`reports` approved reports, grouped into as many pending export items; their ids, oldest report first."""
    async with database.tenant_session(made.tenant.id) as session:
        repository = TenantRepository(session, made.tenant.id, "test")
        await store_expenses(
            session,
            made.tenant.id,
            made.source_id,
            [expense(id=f"tx-{n}", report_id=f"rp-{n}", spent_on=date(2024, 3, 1)) for n in range(reports)],
        )
        destination = await session.get(Connection, made.destination_id)
        assert destination is not None
        await regroup(repository, destination=destination, settings=BILL_SETTINGS)
        return list((await session.scalars(select(ExportItem.id).order_by(ExportItem.idempotency_key))).all())


async def test_gauges_count_every_tenants_work_by_state_with_the_oldest_due_age(
    ledger: Database, settings: Settings
) -> None:
    busy = await add_bill_tenant(ledger, settings, "Busy")
    overdue, due, later, running, stuck = await add_items(ledger, busy, 5)
    idle = await add_bill_tenant(ledger, settings, "Idle")
    await add_items(ledger, idle, 2)  # its destination is paused below: due, but held for a person
    hour, minute = text("now() - interval '1 hour'"), text("now() - interval '10 minutes'")
    async with ledger.tenant_session(busy.tenant.id) as session:
        for item_id, values in (
            (overdue, {"next_attempt_at": hour}),
            (due, {"next_attempt_at": func.now()}),
            (later, {"next_attempt_at": text("now() + interval '1 hour'")}),
            (
                running,
                {"state": "running", "lease_owner": "w1", "lease_expires_at": text("now() + interval '1 minute'")},
            ),
            (stuck, {"state": "needs_action", "error_class": "mapping"}),
        ):
            await session.execute(update(ExportItem).where(ExportItem.id == item_id).values(**values))
        session.add(SyncRun(tenant_id=busy.tenant.id, connection_id=busy.destination_id, kind="sync", trigger="api"))
        await session.flush()
        await session.execute(update(SyncRun).values(next_attempt_at=minute))
        for event_id, lease in (("evt-due", {}), ("evt-held", {"lease_owner": "w1"})):
            session.add(
                WebhookEvent(
                    tenant_id=busy.tenant.id,
                    connection_id=busy.source_id,
                    provider="fyle",
                    event_id=event_id,
                    payload={},
                    **lease,
                )
            )
        await session.flush()
        await session.execute(
            update(WebhookEvent)
            .where(WebhookEvent.lease_owner.is_not(None))
            .values(lease_expires_at=text("now() + interval '1 minute'"))
        )
    async with ledger.tenant_session(idle.tenant.id) as session:
        await session.execute(update(Connection).where(Connection.role == "destination").values(paused=True))
        await session.execute(update(Connection).where(Connection.role == "source").values(status="needs_reauth"))

    await WorkGauges(ledger, min_interval=0).refresh()

    depth = "ledgerline_work_queue_depth"
    assert {state: gauge(depth, queue="export_items", state=state) for state in ("due", "waiting", "running")} == {
        "due": 2,
        "waiting": 1,
        "running": 1,
    }
    assert gauge(depth, queue="export_items", state="needs_action") == 1
    assert gauge(depth, queue="export_items", state="held") == 2
    assert (gauge(depth, queue="sync_runs", state="due"), gauge(depth, queue="sync_runs", state="running")) == (1, 0)
    assert (
        gauge(depth, queue="webhook_events", state="due"),
        gauge(depth, queue="webhook_events", state="running"),
    ) == (
        1,
        1,
    )
    age = "ledgerline_work_oldest_due_age_seconds"
    assert 3600 <= (gauge(age, queue="export_items") or 0) < 3660
    assert 600 <= (gauge(age, queue="sync_runs") or 0) < 660
    assert 0 <= (gauge(age, queue="webhook_events") or -1) < 60
    connections = "ledgerline_connections"
    assert gauge(connections, system="intacct", role="destination", health="active") == 1
    assert gauge(connections, system="intacct", role="destination", health="paused") == 1
    assert gauge(connections, system="fyle", role="source", health="active") == 1
    assert gauge(connections, system="fyle", role="source", health="needs_reauth") == 1


async def test_gauges_are_read_at_most_once_per_interval(ledger: Database, settings: Settings) -> None:
    gauges = WorkGauges(ledger, min_interval=3600)
    await gauges.refresh()
    before = gauge("ledgerline_connections", system="intacct", role="destination", health="active") or 0
    await add_bill_tenant(ledger, settings, "Later")
    await gauges.refresh()
    assert gauge("ledgerline_connections", system="intacct", role="destination", health="active") == before
    await WorkGauges(ledger, min_interval=0).refresh()
    assert gauge("ledgerline_connections", system="intacct", role="destination", health="active") == before + 1


async def test_a_database_that_does_not_answer_empties_the_gauges_instead_of_leaving_them_stale(
    ledger: Database, settings: Settings
) -> None:
    await WorkGauges(ledger, min_interval=0).refresh()
    assert gauge("ledgerline_work_queue_depth", queue="export_items", state="due") is not None
    missing = f"postgresql://postgres@127.0.0.1:5432/ledgerline_missing_{secrets.token_hex(4)}"
    unreachable = Database(settings.model_copy(update={"database_url": missing}))
    try:
        await WorkGauges(unreachable, min_interval=0).refresh()
    finally:
        await unreachable.dispose()
    assert gauge("ledgerline_work_queue_depth", queue="export_items", state="due") is None
    assert gauge("ledgerline_connections", system="intacct", role="destination", health="active") is None


async def test_the_api_metrics_endpoint_serves_the_ledger_gauges(client: httpx.AsyncClient) -> None:
    body = (await client.get("/metrics")).text
    assert 'ledgerline_work_queue_depth{queue="export_items",state="due"}' in body
    assert 'ledgerline_work_oldest_due_age_seconds{queue="export_items"}' in body
    assert "ledgerline_work_gauges_refreshed_timestamp_seconds" in body
