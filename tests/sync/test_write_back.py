"""Write-back to the Fyle simulator over HTTP: each finished item's expenses learn their outcome once; an item that
finishes again owes its new outcome; a failed write-back stays owed."""

import uuid

import pytest
from sqlalchemy import func, select, update

from core.db import Database
from core.errors import OutcomeUnknown, Transient
from core.models import Connection, ExportItem, ExportItemRecord, SourceRecord
from core.repository import TenantRepository
from core.settings import Settings
from mappings.settings import ExportSettings
from mappings.settings_store import save_settings
from sync.grouping_run import regroup_tenant
from sync.write_back import item_link, write_back_statuses
from tests.connectors.conformance import inject
from tests.sandbox_fixtures import RunningSandbox
from tests.sync.fyle_source import REIMBURSABLE_BILLS, FyleSource, clear_faults, make_source
from tests.vocabularies import INTACCT

PUBLIC_URL = "https://ledgerline.example"
SUMMARIES = "expense_export_summaries"
SUMMARY_OPERATION = "POST /platform/v1/admin/expenses/accounting_export_summary/bulk"


def summaries(sandbox: RunningSandbox) -> list[dict[str, object]]:
    with sandbox.control() as control:
        entries = control.get("/fyle/writes", params={"kind": SUMMARIES}).json()["data"]
    return [entry["data"] for entry in entries]


async def _grouped(database: Database, settings: Settings, sandbox: RunningSandbox) -> tuple[FyleSource, uuid.UUID]:
    source = await make_source(database, settings, sandbox)
    await source.pull()
    destination_id = await source.add_destination()
    await regroup_tenant(database, tenant_id=source.tenant_id, actor="test")
    return source, destination_id


async def _expenses_of(database: Database, source: FyleSource, item_id: uuid.UUID) -> set[str]:
    async with database.tenant_session(source.tenant_id) as session:
        return set(
            (
                await session.scalars(
                    select(SourceRecord.remote_id)
                    .join(ExportItemRecord, ExportItemRecord.source_record_id == SourceRecord.id)
                    .where(ExportItemRecord.export_item_id == item_id, ExportItemRecord.released_at.is_(None))
                )
            ).all()
        )


async def _write_back(database: Database, source: FyleSource, destination_id: uuid.UUID) -> tuple[int, int]:
    async with await source.world.open() as connector:
        report = await write_back_statuses(
            database,
            connector,
            tenant_id=source.tenant_id,
            source_connection_id=source.connection_id,
            destination_connection_id=destination_id,
            public_url=PUBLIC_URL,
        )
    return report.items, report.statuses


async def test_each_outcome_is_written_once_with_its_link(
    database: Database, settings: Settings, sandbox: RunningSandbox
) -> None:
    source, destination_id = await _grouped(database, settings, sandbox)
    done, failed, waiting = (item.id for item in (await source.items())[:3])
    await source.mark_exported(done)
    async with database.tenant_session(source.tenant_id) as session:
        await session.execute(
            update(ExportItem)
            .where(ExportItem.id == done)
            .values(status_written_back_at=None, remote_url="https://intacct.example/bill/7")
        )
        await session.execute(
            update(ExportItem)
            .where(ExportItem.id == failed)
            .values(state="needs_action", error_message="category 'Travel' has no account")
        )

    items, statuses = await _write_back(database, source, destination_id)
    expected = await _expenses_of(database, source, done) | await _expenses_of(database, source, failed)
    assert (items, statuses) == (2, len(expected))
    written = {str(entry["id"]): entry for entry in summaries(sandbox)}
    assert set(written) == expected, "pending items owe nothing yet"
    assert not (await _expenses_of(database, source, waiting)) & set(written)
    for expense_id in await _expenses_of(database, source, done):
        assert written[expense_id]["state"] == "COMPLETE"
        assert written[expense_id]["url"] == "https://intacct.example/bill/7"
    for expense_id in await _expenses_of(database, source, failed):
        assert written[expense_id]["state"] == "ERROR"
        assert written[expense_id]["url"] == item_link(PUBLIC_URL, failed)

    assert await _write_back(database, source, destination_id) == (0, 0)
    assert len(summaries(sandbox)) == statuses, "nothing is sent twice"


async def test_an_item_that_finishes_again_owes_its_new_outcome(
    database: Database, settings: Settings, sandbox: RunningSandbox
) -> None:
    source, destination_id = await _grouped(database, settings, sandbox)
    item_id = (await source.items())[0].id
    async with database.tenant_session(source.tenant_id) as session:
        await session.execute(update(ExportItem).where(ExportItem.id == item_id).values(state="needs_action"))
    await _write_back(database, source, destination_id)
    async with database.tenant_session(source.tenant_id) as session:
        # A replay that succeeds: finishing clears the write-back mark (as `sync.leases.finish_item` does).
        await session.execute(
            update(ExportItem)
            .where(ExportItem.id == item_id)
            .values(state="succeeded", remote_url="https://intacct.example/bill/1", status_written_back_at=None)
        )
    assert (await _write_back(database, source, destination_id))[0] == 1
    latest = {str(entry["id"]): entry["state"] for entry in summaries(sandbox)}
    assert set(latest.values()) == {"COMPLETE"}


async def test_a_failed_write_back_stays_owed(database: Database, settings: Settings, sandbox: RunningSandbox) -> None:
    source, destination_id = await _grouped(database, settings, sandbox)
    item_id = (await source.items())[0].id
    await source.mark_exported(item_id)
    async with database.tenant_session(source.tenant_id) as session:
        await session.execute(update(ExportItem).where(ExportItem.id == item_id).values(status_written_back_at=None))
    inject(sandbox, system="fyle", operation=SUMMARY_OPERATION, mode="error", status=503)
    try:
        with pytest.raises((Transient, OutcomeUnknown)):
            await _write_back(database, source, destination_id)
    finally:
        clear_faults(sandbox)
    async with database.tenant_session(source.tenant_id) as session:
        owed = await session.scalar(
            select(func.count()).where(ExportItem.id == item_id, ExportItem.status_written_back_at.is_(None))
        )
    assert owed == 1
    assert (await _write_back(database, source, destination_id))[0] == 1


async def test_after_a_regroup_each_expense_hears_last_from_its_live_item(
    database: Database, settings: Settings, sandbox: RunningSandbox
) -> None:
    """Issue 17, point 1: items that failed before any send are superseded by a regroup (released links, kept as
    skipped); their expenses are exported by the new items. The superseded items owe a status, but must not tell
    Fyle "skipped" for expenses that now live elsewhere."""
    source, destination_id = await _grouped(database, settings, sandbox)
    async with database.tenant_session(source.tenant_id) as session:  # tried once, refused before any send
        await session.execute(update(ExportItem).values(attempt_count=1, error_class="transient"))
    per_expense = ExportSettings.model_validate(
        {**REIMBURSABLE_BILLS.model_dump(), "reimbursable": {"export_type": "bill", "grouping": {"by": "expense"}}}
    )
    async with database.tenant_session(source.tenant_id) as session:
        destination = await session.get(Connection, destination_id)
        assert destination is not None
        await save_settings(
            TenantRepository(session, source.tenant_id, "test"),
            destination=destination,
            settings=per_expense,
            vocabulary=INTACCT,
        )
    await regroup_tenant(database, tenant_id=source.tenant_id, actor="test")
    fresh = [item for item in await source.items() if item.state == "pending"]
    assert fresh, "the regroup made new items"
    for item in fresh:
        await source.mark_exported(item.id)
    async with database.tenant_session(source.tenant_id) as session:
        await session.execute(
            update(ExportItem).where(ExportItem.state == "succeeded").values(status_written_back_at=None)
        )

    await _write_back(database, source, destination_id)

    said = [(str(entry["id"]), str(entry["state"])) for entry in summaries(sandbox)]
    exported = set().union(*[await _expenses_of(database, source, item.id) for item in fresh])
    assert exported and {state for expense_id, state in said if expense_id in exported} == {"COMPLETE"}, said
    assert await _write_back(database, source, destination_id) == (0, 0), "the superseded items owe nothing more"
