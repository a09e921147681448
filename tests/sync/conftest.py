"""Fixtures for the sync tests: a tenant whose approved reports export as Intacct bills through the sandbox."""

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date

import pytest
from pydantic import SecretStr

from connectors.base import DestinationConnector
from connectors.factory import open_connector
from core.crypto import CredentialVault
from core.db import Database
from core.models import Connection
from core.repository import TenantRepository
from core.settings import Settings
from mappings.regrouping import regroup
from sandbox.intacct.constants import SENDER_ID, SENDER_PASSWORD
from tests.conftest import TenantFixture
from tests.mappings.factories import expense
from tests.mappings.seed import expenses as store_expenses
from tests.sandbox_fixtures import RunningSandbox
from tests.sync.bill_books import BILL_SETTINGS, add_bill_tenant

__all__ = ["BILL_SETTINGS", "Books", "sandbox_settings"]


@dataclass
class Books:
    tenant: TenantFixture
    destination_id: uuid.UUID
    source_id: uuid.UUID
    connector: DestinationConnector

    async def add_reports(self, database: Database, count: int) -> None:
        """`count` more approved reports of two expenses each, grouped into pending export items."""
        async with database.tenant_session(self.tenant.id) as session:
            repository = TenantRepository(session, self.tenant.id, "test")
            await store_expenses(
                session,
                self.tenant.id,
                self.source_id,
                [
                    expense(id=f"tx-more{report}-{n}", report_id=f"rp-more{report}", spent_on=date(2024, 3, 1 + n))
                    for report in range(count)
                    for n in range(2)
                ],
            )
            destination = await session.get(Connection, self.destination_id)
            assert destination is not None
            await regroup(repository, destination=destination, settings=BILL_SETTINGS)


@pytest.fixture
async def books(database: Database, settings: Settings, sandbox: RunningSandbox) -> AsyncIterator[Books]:
    """A tenant exporting reimbursable reports as Intacct bills, travel mapped to account 70004, Ada to V00004."""
    made = await add_bill_tenant(database, settings, "Books")
    tenant, vault = made.tenant, CredentialVault(settings.vault_key_list())
    destination_id, source_id = made.destination_id, made.source_id
    async with database.tenant_session(tenant.id) as session:
        repository = TenantRepository(session, tenant.id, "test")
        destination = await session.get(Connection, destination_id)
        assert destination is not None
        await store_expenses(
            session,
            tenant.id,
            source_id,
            [
                expense(id=f"tx-{report}-{n}", report_id=report, spent_on=date(2024, 3, 1 + n))
                for report in ("rp-a", "rp-b", "rp-c")
                for n in range(2)
            ],
        )
        await regroup(repository, destination=destination, settings=BILL_SETTINGS)
    configured = sandbox_settings(settings, sandbox)
    connector = await open_connector(
        database=database, vault=vault, settings=configured, tenant_id=tenant.id, connection_id=destination_id
    )
    assert isinstance(connector, DestinationConnector)
    async with connector:
        yield Books(tenant, destination_id, source_id, connector)


def sandbox_settings(settings: Settings, sandbox: RunningSandbox) -> Settings:
    """Settings that send the connectors to the sandbox with Ledgerline's sandbox sender credentials."""
    return settings.model_copy(
        update={
            "sandbox_url": sandbox.url,
            "connector_apps": {
                "intacct": {"sender_id": SecretStr(SENDER_ID), "sender_password": SecretStr(SENDER_PASSWORD)}
            },
        }
    )
