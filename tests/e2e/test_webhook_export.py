"""A report approved in the sandbox reaches the destination as a document through the webhook path alone, end to
end: the Fyle simulator signs and posts the event to `ledgerline serve` over HTTP, the ingress stores it, a worker
process handles it (a real-time run: pull, group, export, write back), and the bill appears in the Intacct
simulator exactly once. Nobody starts a sync run; the set-up (import, first pull, mappings) uses the engines."""

import asyncio
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update

from connectors.base import DestinationConnector
from connectors.factory import open_connector
from core.api_keys import issue_key
from core.crypto import CredentialVault
from core.db import Database
from core.models import (
    ApiKeyRole,
    Connection,
    ExportItem,
    ExportItemRecord,
    SourceRecord,
    SyncRun,
    WebhookEvent,
)
from core.settings import Settings
from sandbox.server import free_port
from sync.constants import REALTIME_EXPORT_SETTING
from sync.import_engine import import_dimensions
from tests.conftest import LEDGERLINE_CLI
from tests.e2e.conftest import make_books, map_everything, tail
from tests.sandbox_fixtures import RunningSandbox

SERVER_START_SECONDS = 30.0
EXPORT_WAIT_SECONDS = 120.0
POLL_SECONDS = 0.5


@pytest.fixture
def server(product_env: dict[str, str], tmp_path: Path) -> Iterator[str]:
    """`ledgerline serve` on a loopback port, telling senders its own address as the public URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "serve.log"
    process = subprocess.Popen(
        [LEDGERLINE_CLI, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=product_env | {"LEDGERLINE_PUBLIC_URL": url},
        stdout=subprocess.DEVNULL,
        stderr=log.open("w"),
    )
    try:
        deadline = time.monotonic() + SERVER_START_SECONDS
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert process.poll() is None and time.monotonic() < deadline, tail(log)
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


async def _admin_key(database: Database, tenant_id: uuid.UUID) -> dict[str, str]:
    async with database.owner_session() as session:
        issued = issue_key(name="e2e", role=ApiKeyRole.ADMIN, tenant_id=tenant_id)
        session.add(issued.row)
    return {"Authorization": f"Bearer {issued.plaintext}"}


async def _import_chart(
    database: Database, settings: Settings, tenant_id: uuid.UUID, destination_id: uuid.UUID
) -> None:
    connector = await open_connector(
        database=database,
        vault=CredentialVault(settings.vault_key_list()),
        settings=settings,
        tenant_id=tenant_id,
        connection_id=destination_id,
    )
    assert isinstance(connector, DestinationConnector)
    async with connector:
        await import_dimensions(
            database,
            connector,
            tenant_id=tenant_id,
            connection_id=destination_id,
            actor="e2e",
            attribute_types=["account", "vendor"],
        )


def _waiting_report(records: list[dict[str, Any]]) -> tuple[str, set[str]]:
    """A submitted, not yet approved report whose expenses are all reimbursable (exported as one bill)."""
    reports: dict[str, list[dict[str, Any]]] = {}
    for data in records:
        if data.get("report_id"):
            reports.setdefault(data["report_id"], []).append(data)
    for report_id, expenses in sorted(reports.items()):
        if all(
            row.get("report_state") == "APPROVER_PENDING" and row["is_reimbursable"] and float(row["amount"]) > 0
            for row in expenses
        ):
            return report_id, {row["id"] for row in expenses}
    raise AssertionError("the seed has no report waiting for approval")


async def _report_items(database: Database, tenant_id: uuid.UUID, expense_ids: set[str]) -> list[ExportItem]:
    async with database.tenant_session(tenant_id) as session:
        return list(
            (
                await session.scalars(
                    select(ExportItem)
                    .join(ExportItemRecord, ExportItemRecord.export_item_id == ExportItem.id)
                    .join(SourceRecord, SourceRecord.id == ExportItemRecord.source_record_id)
                    .where(SourceRecord.remote_id.in_(expense_ids), ExportItemRecord.released_at.is_(None))
                    .distinct()
                )
            ).all()
        )


async def test_a_report_approved_in_the_sandbox_reaches_the_books_through_the_webhook_alone(
    database: Database,
    product_settings: Settings,
    sandbox: RunningSandbox,
    worker: Path,
    server: str,
) -> None:
    source, destination_id = await make_books(database, product_settings, sandbox)
    tenant_id = source.tenant_id
    await _import_chart(database, product_settings, tenant_id, destination_id)
    await source.pull()
    assert await map_everything(database, source, destination_id) > 2
    async with database.tenant_session(tenant_id) as session:
        records = list((await session.scalars(select(SourceRecord.data))).all())
        destination = await session.get(Connection, destination_id)
        assert destination is not None
        await session.execute(
            update(Connection)
            .where(Connection.id == destination_id)
            .values(settings={**destination.settings, REALTIME_EXPORT_SETTING: True})
        )
    report_id, expense_ids = _waiting_report(records)
    assert await _report_items(database, tenant_id, expense_ids) == [], "nothing of the report is exportable yet"

    headers = await _admin_key(database, tenant_id)
    async with httpx.AsyncClient(base_url=server, headers=headers, timeout=10) as api:
        created = await api.post(f"/v1/connections/{source.connection_id}/webhook-secrets")
    assert created.status_code == 201, created.text
    subscription = {"url": created.json()["webhook_url"], "secret": created.json()["secret"]}
    with sandbox.control() as control:
        assert control.post("/fyle/webhooks", json=subscription).status_code == 201
        control.post(f"/fyle/reports/{report_id}/state", json={"state": "APPROVED"}).raise_for_status()

    deadline = time.monotonic() + EXPORT_WAIT_SECONDS
    items: list[ExportItem] = []
    while time.monotonic() < deadline:
        items = await _report_items(database, tenant_id, expense_ids)
        if items and all(item.state == "succeeded" for item in items):
            break
        await asyncio.sleep(POLL_SECONDS)
    with sandbox.control() as control:
        deliveries = control.get("/fyle/webhooks/deliveries").json()["data"]
    assert items and {item.state for item in items} == {"succeeded"}, (items, deliveries, tail(worker))
    [item] = items

    with sandbox.control() as control:
        bills = control.get("/intacct/documents", params={"object": "APBILL"}).json()["data"]
    assert [bill["RECORDID"] for bill in bills].count(item.idempotency_key) == 1, "exactly one bill"
    assert any(d["resource_id"] == report_id and d["delivered"] for d in deliveries), deliveries

    async with database.tenant_session(tenant_id) as session:
        events = (await session.scalars(select(WebhookEvent).where(WebhookEvent.provider == "fyle"))).all()
        runs = (await session.scalars(select(SyncRun))).all()
        approved = [event for event in events if event.payload.get("data", {}).get("id") == report_id]
        assert approved and {event.state for event in approved} == {"processed"}
        assert runs and {(run.kind, run.trigger) for run in runs} == {("realtime", "webhook")}, "no run by hand"
        assert await session.scalar(select(func.count()).select_from(SyncRun).where(SyncRun.state == "failed")) == 0
