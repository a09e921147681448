"""Receipts keep their identity through the engine's retries: a Xero bill's first receipt goes (its answer lost:
`receipts_incomplete`), and by the next attempt the source no longer serves that first file (deleted in Fyle:
`ReceiptFetcher` notes it missing and fills the document with the receipts it still has). The other receipts move
up a place in the document's list; each must still go under its own key and name, and the item succeed only once
every receipt the source still serves is on the bill — the bill itself adopted, never created twice."""

import hashlib
import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select, update

from connectors.base import DestinationConnector
from connectors.constants import RECEIPTS_INCOMPLETE_CODE
from connectors.factory import open_connector
from core.crypto import CredentialVault
from core.db import Database
from core.domain import DocumentKind
from core.models import ExportItem
from core.settings import Settings
from sync.export_engine import ExportEngine
from sync.grouping_run import regroup_tenant
from sync.import_engine import import_dimensions
from sync.receipts import ReceiptFetcher
from tests.connectors.conformance import inject
from tests.e2e.conftest import product_settings  # noqa: F401 - the e2e fixture, reused here
from tests.e2e.test_xero_export import FAST_PER_MINUTE, add_xero, attachments, export_settings, map_and_configure
from tests.sandbox_fixtures import RunningSandbox
from tests.sync.fyle_source import FyleSource, clear_faults, fyle_store, make_source

ATTACH = "PUT Invoices/{id}/Attachments"


@pytest.fixture
async def world(
    database: Database,
    product_settings: Settings,  # noqa: F811 - the fixture imported above
    sandbox: RunningSandbox,
) -> AsyncIterator[tuple[FyleSource, DestinationConnector, ReceiptFetcher]]:
    source = await make_source(database, product_settings, sandbox)
    destination_id = await add_xero(database, product_settings, sandbox, source.tenant_id, per_minute=FAST_PER_MINUTE)
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
    await map_and_configure(database, sandbox, source, destination_id, export_settings(sandbox))
    await regroup_tenant(database, tenant_id=source.tenant_id, actor="test")
    async with (
        connector,
        ReceiptFetcher(database, vault=vault, settings=product_settings, tenant_id=source.tenant_id) as receipts,
    ):
        yield source, connector, receipts


async def test_receipts_left_after_a_sent_one_vanishes_at_the_source_are_still_attached(
    database: Database, sandbox: RunningSandbox, world: tuple[FyleSource, DestinationConnector, ReceiptFetcher]
) -> None:
    source, connector, receipts = world
    engine = ExportEngine(database, owner="w1")
    destination_id = connector.context.connection_id
    # Every item's first receipt upload commits and its answer is lost: each stops after its first receipt.
    inject(sandbox, system="xero", operation=ATTACH, mode="commit_then_fail")
    await engine.run_batch(connector, tenant_id=source.tenant_id, connection_id=destination_id, receipts=receipts)
    clear_faults(sandbox)
    async with database.tenant_session(source.tenant_id) as session:
        incomplete = (
            await session.scalars(select(ExportItem).where(ExportItem.error_code == RECEIPTS_INCOMPLETE_CODE))
        ).all()
        session.expunge_all()
    several = [item for item in incomplete if len(item.document["attachment_ids"]) >= 2]
    assert several, "precondition: a stranded bill carries several receipts"
    assert all(item.state == "pending" and item.outcome_unknown for item in several)
    store = fyle_store(sandbox)
    bills: dict[uuid.UUID, str] = {}
    for item in several:
        found = await connector.find_by_reference(DocumentKind(item.document_type), item.idempotency_key)
        assert found is not None
        bills[item.id] = found.remote_id
        first = item.document["attachment_ids"][0]
        digest = hashlib.sha256(store.files[first].content or b"").hexdigest()
        # its first receipt went (the answer lost), the others not yet
        assert [row["sha256"] for row in attachments(sandbox) if row["document_id"] == found.remote_id] == [digest]
        del store.files[first]  # deleted in Fyle before the next attempt

    for _ in range(3):
        async with database.tenant_session(source.tenant_id) as session:
            await session.execute(update(ExportItem).values(next_attempt_at=func.now()))
        await engine.run_batch(connector, tenant_id=source.tenant_id, connection_id=destination_id, receipts=receipts)
    failures = []
    for item in several:
        async with database.tenant_session(source.tenant_id) as session:
            settled = await session.get(ExportItem, item.id)
            assert settled is not None
            state, remote_id = settled.state, settled.remote_id
        assert remote_id == bills[item.id], (remote_id, bills[item.id])  # adopted, not created twice
        on_bill = [row["file_name"] for row in attachments(sandbox) if row["document_id"] == remote_id]
        # the deleted first receipt (attached before it vanished) plus every receipt the source still serves
        if state == "succeeded" and len(on_bill) != len(item.document["attachment_ids"]):
            failures.append((str(item.id), len(item.document["attachment_ids"]) - 1, on_bill))
    assert not failures, (
        "succeeded items whose receipts still served by the source were never attached "
        f"(item, receipts still served, files on the bill): {failures}"
    )
