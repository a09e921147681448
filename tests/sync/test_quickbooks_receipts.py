"""Receipts are not lost when the send that created a document stopped before they went: QuickBooks uploads them
after the document, so a worker killed between the two (here: the batch committed, its answer lost, and the lookups
after it failed too) leaves a bill without them. The engine adopts the bill by lookup on the next attempt and hands
it its receipts then — once."""

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import func, select, update

from connectors.base import DestinationConnector
from connectors.constants import RECEIPTS_INCOMPLETE_CODE
from connectors.factory import open_connector
from core.crypto import CredentialVault
from core.db import Database
from core.models import ExportItem
from core.settings import Settings
from sync.export_engine import ExportEngine
from sync.grouping_run import regroup_tenant
from sync.import_engine import import_dimensions
from sync.receipts import ReceiptFetcher
from tests.connectors.conformance import inject
from tests.e2e.conftest import product_settings  # noqa: F401 - the e2e fixture, reused here
from tests.e2e.test_quickbooks_export import add_quickbooks, listed, map_and_configure
from tests.sandbox_fixtures import RunningSandbox
from tests.sync.fyle_source import FyleSource, make_source

BATCH = "POST batch"


@pytest.fixture
async def world(
    database: Database,
    product_settings: Settings,  # noqa: F811 - the fixture imported above
    sandbox: RunningSandbox,
) -> AsyncIterator[tuple[FyleSource, DestinationConnector, ReceiptFetcher]]:
    source = await make_source(database, product_settings, sandbox)
    destination_id = await add_quickbooks(database, product_settings, sandbox, source.tenant_id)
    vault = CredentialVault(product_settings.vault_key_list())
    connector = await open_connector(
        database=database,
        vault=vault,
        settings=product_settings,
        tenant_id=source.tenant_id,
        connection_id=destination_id,
    )
    assert isinstance(connector, DestinationConnector)
    await import_dimensions(database, connector, tenant_id=source.tenant_id, connection_id=destination_id, actor="test")
    await source.pull()
    await map_and_configure(database, sandbox, source, destination_id)
    await regroup_tenant(database, tenant_id=source.tenant_id, actor="test")
    async with (
        connector,
        ReceiptFetcher(database, vault=vault, settings=product_settings, tenant_id=source.tenant_id) as receipts,
    ):
        yield source, connector, receipts


def attachables_of(sandbox: RunningSandbox, document_id: str) -> list[dict[str, Any]]:
    return [
        attachable
        for attachable in listed(sandbox, "Attachable")
        if any(ref["EntityRef"]["value"] == document_id for ref in attachable.get("AttachableRef", []))
    ]


async def test_a_document_adopted_after_its_send_stopped_gets_its_receipts_once(
    database: Database, sandbox: RunningSandbox, world: tuple[FyleSource, DestinationConnector, ReceiptFetcher]
) -> None:
    source, connector, receipts = world
    engine = ExportEngine(database, owner="w1")
    inject(sandbox, system="quickbooks", operation=BATCH, mode="commit_then_fail", status=502, times=1)
    inject(sandbox, system="quickbooks", operation=BATCH, mode="error", status=503, times=1)  # the lookups after it
    destination_id = connector.context.connection_id
    await engine.run_batch(connector, tenant_id=source.tenant_id, connection_id=destination_id, receipts=receipts)
    async with database.tenant_session(source.tenant_id) as session:
        unknown = (await session.scalars(select(ExportItem).where(ExportItem.outcome_unknown.is_(True)))).all()
        session.expunge_all()
    with_receipts = [item for item in unknown if item.document and item.document.get("attachment_ids")]
    assert with_receipts, "the stopped send carried receipts"
    created = {
        row["PrivateNote"].split()[1]: str(row["Id"])
        for row in [*listed(sandbox, "Bill"), *listed(sandbox, "Purchase")]
    }
    stranded = [created[item.idempotency_key] for item in with_receipts]
    assert all(attachables_of(sandbox, document_id) == [] for document_id in stranded)

    for _ in range(3):  # the next attempts adopt them; more runs attach nothing twice
        async with database.tenant_session(source.tenant_id) as session:
            await session.execute(update(ExportItem).values(next_attempt_at=func.now()))
        await engine.run_batch(connector, tenant_id=source.tenant_id, connection_id=destination_id, receipts=receipts)
    async with database.tenant_session(source.tenant_id) as session:
        states = {
            item.id: (item.state, item.remote_id)
            for item in (
                await session.scalars(select(ExportItem).where(ExportItem.id.in_([i.id for i in with_receipts])))
            ).all()
        }
    assert {state for state, _ in states.values()} == {"succeeded"}
    for item in with_receipts:
        document_id = created[item.idempotency_key]
        assert states[item.id][1] == document_id
        assert len(attachables_of(sandbox, document_id)) == len(item.document["attachment_ids"])


async def test_a_receipt_upload_failing_after_its_document_was_created_is_attached_on_a_later_attempt(
    database: Database, sandbox: RunningSandbox, world: tuple[FyleSource, DestinationConnector, ReceiptFetcher]
) -> None:
    """The bill is created, then its upload fails (here twice: once after the push, once after the adoption that
    follows). The item must not count as done without its receipts, nor go again as a second bill."""
    source, connector, receipts = world
    engine = ExportEngine(database, owner="w1")
    inject(sandbox, system="quickbooks", operation="POST upload", mode="error", status=503, times=2)
    destination_id = connector.context.connection_id
    await engine.run_batch(connector, tenant_id=source.tenant_id, connection_id=destination_id, receipts=receipts)
    async with database.tenant_session(source.tenant_id) as session:
        items = (await session.scalars(select(ExportItem))).all()
        session.expunge_all()
    with_receipts = [item for item in items if item.document and item.document.get("attachment_ids")]
    incomplete = [item for item in with_receipts if item.error_code == RECEIPTS_INCOMPLETE_CODE]
    assert incomplete, "a receipt upload failed after its document was created"
    assert all(item.state == "pending" and item.outcome_unknown for item in incomplete)

    for _ in range(3):
        async with database.tenant_session(source.tenant_id) as session:
            await session.execute(update(ExportItem).values(next_attempt_at=func.now()))
        await engine.run_batch(connector, tenant_id=source.tenant_id, connection_id=destination_id, receipts=receipts)
    async with database.tenant_session(source.tenant_id) as session:
        settled = {
            item.id: item
            for item in (
                await session.scalars(select(ExportItem).where(ExportItem.id.in_([i.id for i in with_receipts])))
            ).all()
        }
    assert {item.state for item in settled.values()} == {"succeeded"}
    created = [row["PrivateNote"].split()[1] for row in [*listed(sandbox, "Bill"), *listed(sandbox, "Purchase")]]
    for item in with_receipts:
        assert created.count(item.idempotency_key) == 1
        remote_id = settled[item.id].remote_id
        assert remote_id is not None
        assert len(attachables_of(sandbox, remote_id)) == len(item.document["attachment_ids"])
