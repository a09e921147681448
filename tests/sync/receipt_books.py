"""A tenant whose approved Fyle reports, receipts and all, are built into Intacct bills: both systems are the
sandbox over HTTP (the source connected with a real refresh grant, the destination with the sandbox's sender)."""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from pydantic import SecretStr
from sqlalchemy import select

from connectors.base import DestinationConnector
from connectors.factory import open_connector
from core.crypto import CredentialVault
from core.db import Database
from core.domain import Document
from core.models import AuditEvent, DestinationAttribute, ExportItem, SourceRecord
from core.repository import TenantRepository
from core.settings import Settings
from mappings.mapping_store import MappingChange, set_mappings
from mappings.preview import preview_items
from sandbox.constants import REQUEST_LOG_SIZE
from sandbox.fyle.constants import FYLE_SANDBOX_CLIENT_ID, FYLE_SANDBOX_CLIENT_SECRET
from sandbox.fyle.records import StoredFile
from sandbox.intacct.constants import SENDER_ID, SENDER_PASSWORD
from sync.constants import RECEIPT_FETCH_CONCURRENCY
from sync.grouping_run import regroup_tenant
from sync.receipts import ReceiptFetcher
from tests.e2e.conftest import make_books
from tests.sandbox_fixtures import RunningSandbox
from tests.sync.fyle_source import FyleSource, fyle_store
from tests.vocabularies import INTACCT

ACCOUNT, VENDOR = "70004", "V00004"
"""An expense account and a vendor of the seeded Intacct company: every category and employee maps to them."""


def both_systems(settings: Settings, sandbox: RunningSandbox) -> Settings:
    """Settings sending both connectors to the sandbox, with Ledgerline's sandbox app credentials for each."""
    apps = {
        "fyle": {
            "client_id": SecretStr(FYLE_SANDBOX_CLIENT_ID),
            "client_secret": SecretStr(FYLE_SANDBOX_CLIENT_SECRET),
        },
        "intacct": {"sender_id": SecretStr(SENDER_ID), "sender_password": SecretStr(SENDER_PASSWORD)},
    }
    return settings.model_copy(update={"sandbox_url": sandbox.url, "connector_apps": apps})


@dataclass
class ReceiptBooks:
    source: FyleSource
    destination_id: uuid.UUID
    settings: Settings
    sandbox: RunningSandbox

    @property
    def database(self) -> Database:
        return self.source.database

    @property
    def tenant_id(self) -> uuid.UUID:
        return self.source.tenant_id

    def fetcher(self, *, concurrency: int = RECEIPT_FETCH_CONCURRENCY) -> ReceiptFetcher:
        return ReceiptFetcher(
            self.database,
            vault=CredentialVault(self.settings.vault_key_list()),
            settings=self.settings,
            tenant_id=self.tenant_id,
            concurrency=concurrency,
        )

    async def destination(self) -> DestinationConnector:
        connector = await open_connector(
            database=self.database,
            vault=CredentialVault(self.settings.vault_key_list()),
            settings=self.settings,
            tenant_id=self.tenant_id,
            connection_id=self.destination_id,
        )
        assert isinstance(connector, DestinationConnector)
        return connector

    async def built(self) -> list[tuple[uuid.UUID, Document]]:
        """Every pending item's bill as the export engine builds it (`preview_items`), keyed by the item."""
        async with self.database.tenant_session(self.tenant_id) as session:
            items = list((await session.scalars(select(ExportItem).order_by(ExportItem.idempotency_key))).all())
            previews = await preview_items(
                TenantRepository(session, self.tenant_id, "test"),
                items,
                export_day=datetime.now(UTC).date(),
                vocabulary=INTACCT,
            )
        built = [(preview.item.id, preview.document) for preview in previews if preview.document is not None]
        assert built, [preview.error for preview in previews]
        return built

    async def with_receipts(self, count: int) -> list[tuple[uuid.UUID, Document]]:
        found = [(item_id, document) for item_id, document in await self.built() if document.attachment_ids]
        assert len(found) >= count, f"only {len(found)} bills have receipts"
        return found[:count]

    def file(self, file_id: str) -> StoredFile:
        """The file as the Fyle simulator holds it."""
        return fyle_store(self.sandbox).files[file_id]

    def fyle_requests(self, operation: str | None = None) -> int:
        params: dict[str, str | int] = {"system": "fyle", "limit": REQUEST_LOG_SIZE}
        if operation is not None:
            params["operation"] = operation
        with self.sandbox.control() as control:
            count: int = control.get("/requests", params=params).json()["count"]
        return count

    async def audit_events(self, action: str) -> list[AuditEvent]:
        async with self.database.tenant_session(self.tenant_id) as session:
            rows = (await session.scalars(select(AuditEvent).where(AuditEvent.action == action))).all()
            session.expunge_all()
            return list(rows)


async def receipt_books(database: Database, settings: Settings, sandbox: RunningSandbox) -> ReceiptBooks:
    """Pull the Fyle seed, map every category and employee, and group approved reports into bills."""
    configured = both_systems(settings, sandbox)
    source, destination_id = await make_books(database, configured, sandbox)
    await source.pull()
    async with database.tenant_session(source.tenant_id) as session:
        data = (await session.scalars(select(SourceRecord.data))).all()
        account, vendor = (
            DestinationAttribute(
                id=uuid.uuid4(),
                tenant_id=source.tenant_id,
                connection_id=destination_id,
                attribute_type=attribute_type,
                remote_id=remote_id,
                name=remote_id,
            )
            for attribute_type, remote_id in (("account", ACCOUNT), ("vendor", VENDOR))
        )
        session.add_all([account, vendor])
        await session.flush()
        changes = [
            *(MappingChange("category", value, "account", account.id) for value in {row["category"] for row in data}),
            *(
                MappingChange("employee", value, "vendor", vendor.id)
                for value in {row["employee_email"] for row in data}
            ),
        ]
        await set_mappings(
            TenantRepository(session, source.tenant_id, "admin"),
            destination_connection_id=destination_id,
            changes=changes,
            vocabulary=INTACCT,
        )
    await regroup_tenant(database, tenant_id=source.tenant_id, actor="test")
    return ReceiptBooks(source, destination_id, configured, sandbox)
