"""Fixtures for the sync tests: a tenant whose approved reports export as Intacct bills through the sandbox."""

import secrets
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
from core.models import Connection, DestinationAttribute, Mapping
from core.repository import TenantRepository
from core.settings import Settings
from mappings.regrouping import regroup
from mappings.settings import ExportSettings
from mappings.settings_store import save_settings
from sandbox.intacct.constants import SENDER_ID, SENDER_PASSWORD, SINGLE_ENTITY_COMPANY, USER_ID, USER_PASSWORD
from tests.conftest import TenantFixture, make_tenant
from tests.mappings.factories import expense
from tests.mappings.seed import expenses as store_expenses
from tests.sandbox_fixtures import RunningSandbox

BILL_SETTINGS = ExportSettings.model_validate(
    {
        "reimbursable": {"export_type": "bill", "grouping": {"by": "report"}, "date": "last_spent"},
        "employee_as": "vendor",
    }
)


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
    tenant = await make_tenant(database, "Books")
    vault = CredentialVault(settings.vault_key_list())
    destination_id, source_id = uuid.uuid4(), uuid.uuid4()
    async with database.tenant_session(tenant.id) as session:
        credentials = {"user_id": USER_ID, "company_id": SINGLE_ENTITY_COMPANY, "user_password": USER_PASSWORD}
        for connection_id, provider, role, secret in (
            (destination_id, "intacct", "destination", vault.encrypt(credentials)),
            (source_id, "fyle", "source", None),
        ):
            session.add(
                Connection(
                    id=connection_id,
                    tenant_id=tenant.id,
                    name=provider,
                    provider=provider,
                    role=role,
                    credentials=secret,
                    webhook_key=secrets.token_urlsafe(12),
                )
            )
        await session.flush()
        for attribute_type, remote_id, source_type, source_value in (
            ("account", "70004", "category", "Travel"),
            ("vendor", "V00004", "employee", "ada@example.com"),
        ):
            attribute = DestinationAttribute(
                id=uuid.uuid4(),
                tenant_id=tenant.id,
                connection_id=destination_id,
                attribute_type=attribute_type,
                remote_id=remote_id,
                name=remote_id,
            )
            session.add(attribute)
            await session.flush()
            session.add(
                Mapping(
                    tenant_id=tenant.id,
                    destination_connection_id=destination_id,
                    source_type=source_type,
                    source_value=source_value,
                    destination_type=attribute_type,
                    destination_attribute_id=attribute.id,
                )
            )
        repository = TenantRepository(session, tenant.id, "test")
        destination = await session.get(Connection, destination_id)
        assert destination is not None
        await save_settings(repository, destination=destination, settings=BILL_SETTINGS)
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
    configured = settings.model_copy(
        update={
            "sandbox_url": sandbox.url,
            "connector_apps": {
                "intacct": {"sender_id": SecretStr(SENDER_ID), "sender_password": SecretStr(SENDER_PASSWORD)}
            },
        }
    )
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
