"""The whole flow through the product's own doors: `ledgerline sync run --wait` against a real worker process,
Fyle and Intacct simulators over HTTP. Import the chart, pull and group, map, then export, write back and settle."""

import subprocess
import uuid
from pathlib import Path

from sqlalchemy import func, select

from core.crypto import CredentialVault
from core.db import Database
from core.models import (
    Attempt,
    Connection,
    DestinationAttribute,
    ExportItem,
    ExportItemRecord,
    SourceRecord,
    SyncRun,
)
from core.settings import Settings
from sandbox.intacct.constants import SINGLE_ENTITY_COMPANY, USER_ID
from tests.e2e.conftest import ledgerline, make_books, map_everything, tail
from tests.sandbox_fixtures import RunningSandbox


def sync(env: dict[str, str], tenant_id: uuid.UUID, *options: str) -> subprocess.CompletedProcess[str]:
    return ledgerline(env, "sync", "run", "--tenant", str(tenant_id), "--wait", *options)


async def test_a_sync_run_takes_approved_expenses_into_the_books_and_reports_back(
    database: Database,
    product_settings: Settings,
    product_env: dict[str, str],
    sandbox: RunningSandbox,
    worker: Path,
) -> None:
    source, destination_id = await make_books(database, product_settings, sandbox)

    imported = sync(product_env, source.tenant_id, "--kind", "import")
    assert imported.returncode == 0, imported.stdout + imported.stderr + tail(worker)
    async with database.tenant_session(source.tenant_id) as session:
        projects = await session.scalar(select(func.count()).where(DestinationAttribute.attribute_type == "project"))
    with sandbox.control() as control:
        pushed = control.get("/fyle/writes", params={"kind": "projects"}).json()["count"]
    assert projects and pushed == projects, "the imported projects (inactive ones as disabled) are mirrored into Fyle"
    pulled = sync(product_env, source.tenant_id, "--kind", "pull")
    assert pulled.returncode == 0, pulled.stdout + pulled.stderr
    assert await map_everything(database, source, destination_id) > 2

    synced = sync(product_env, source.tenant_id)
    assert synced.returncode == 0, synced.stdout + synced.stderr + tail(worker)
    assert "succeeded" in synced.stdout

    async with database.tenant_session(source.tenant_id) as session:
        items = (await session.scalars(select(ExportItem))).all()
        runs = (await session.scalars(select(SyncRun).order_by(SyncRun.created_at))).all()
        record_count = await session.scalar(select(func.count()).select_from(SourceRecord))
    assert items and {item.state for item in items} == {"succeeded"}
    assert [run.kind for run in runs] == ["import", "pull", "sync"]
    assert {run.state for run in runs} == {"succeeded"}
    full = runs[-1]
    # Saving the mappings frees the items, which rings the export bell: the worker may export some before this run
    # starts. The run counts what finished while it ran; together they are every item.
    async with database.tenant_session(source.tenant_id) as session:
        before_run = await session.scalar(
            select(func.count(func.distinct(Attempt.export_item_id))).where(
                Attempt.outcome.in_(["succeeded", "adopted"]), Attempt.finished_at < full.started_at
            )
        )
    assert full.counts["export"]["succeeded"] == len(items) - before_run, (len(items), before_run)
    assert full.counts["export"]["remaining"] == 0
    phases = [line["phase"] for line in full.log if line["phase"]]
    assert list(dict.fromkeys(phases)) == ["import", "pull", "group", "export", "write_back", "payments"]

    with sandbox.control() as control:
        bills = control.get("/intacct/documents", params={"object": "APBILL"}).json()["data"]
        summaries = control.get("/fyle/writes", params={"kind": "expense_export_summaries"}).json()["data"]
    ours = {item.idempotency_key for item in items}
    recorded = [bill["RECORDID"] for bill in bills if bill["RECORDID"] in ours]
    assert sorted(recorded) == sorted(ours), "every item is exactly one bill"

    async with database.tenant_session(source.tenant_id) as session:
        exported = set(
            (
                await session.scalars(
                    select(SourceRecord.remote_id)
                    .join(ExportItemRecord, ExportItemRecord.source_record_id == SourceRecord.id)
                    .join(ExportItem, ExportItem.id == ExportItemRecord.export_item_id)
                    .where(ExportItem.state == "succeeded", ExportItemRecord.released_at.is_(None))
                )
            ).all()
        )
    complete = {entry["data"]["id"] for entry in summaries if entry["data"]["state"] == "COMPLETE"}
    assert record_count and exported and exported <= complete, "every exported expense is reported back to Fyle"


async def test_waiting_on_a_run_that_fails_exits_1_with_the_reason(
    database: Database,
    product_settings: Settings,
    product_env: dict[str, str],
    sandbox: RunningSandbox,
    worker: Path,
) -> None:
    source, destination_id = await make_books(database, product_settings, sandbox)
    vault = CredentialVault(product_settings.vault_key_list())
    wrong = {"user_id": USER_ID, "company_id": SINGLE_ENTITY_COMPANY, "user_password": "not-the-password"}
    async with database.tenant_session(source.tenant_id) as session:
        destination = await session.get(Connection, destination_id)
        assert destination is not None
        destination.credentials = vault.encrypt(wrong)
    failed = sync(product_env, source.tenant_id, "--kind", "import")
    assert failed.returncode == 1, failed.stdout + failed.stderr + tail(worker)
    assert "failed" in failed.stdout and "auth" in failed.stdout.lower()
    assert "not-the-password" not in failed.stdout + tail(worker)
    async with database.tenant_session(source.tenant_id) as session:
        destination = await session.get(Connection, destination_id, populate_existing=True)
        assert destination is not None
        assert destination.status == "needs_reauth" and destination.status_reason
    refused = sync(product_env, source.tenant_id, "--kind", "import")
    assert refused.returncode == 2 and "needs_reauth" in refused.stdout, "no run starts until it is re-authorized"
