"""A tenant exporting reimbursable reports as Intacct bills through the sandbox: travel mapped to account 70004, Ada
to vendor V00004. The `books` fixture and the worker-process tests start from it."""

import secrets
import uuid
from dataclasses import dataclass

from core.crypto import CredentialVault
from core.db import Database
from core.models import Connection, DestinationAttribute, Mapping
from core.repository import TenantRepository
from core.settings import Settings
from mappings.settings import ExportSettings
from mappings.settings_store import save_settings
from sandbox.intacct.constants import SINGLE_ENTITY_COMPANY, USER_ID, USER_PASSWORD
from tests.conftest import TenantFixture, make_tenant
from tests.vocabularies import INTACCT

BILL_SETTINGS = ExportSettings.model_validate(
    {
        "reimbursable": {"export_type": "bill", "grouping": {"by": "report"}, "date": "last_spent"},
        "employee_as": "vendor",
    }
)


@dataclass(frozen=True)
class BillTenant:
    tenant: TenantFixture
    destination_id: uuid.UUID
    source_id: uuid.UUID


async def add_bill_tenant(
    database: Database,
    settings: Settings,
    name: str,
    *,
    company: str = SINGLE_ENTITY_COMPANY,
    vendor: str = "V00004",
    account: str = "70004",
    export: ExportSettings = BILL_SETTINGS,
) -> BillTenant:
    """A tenant exporting reimbursable reports as Intacct bills of `company` (travel booked to `account`, Ada being
    `vendor`) with no items yet."""
    tenant = await make_tenant(database, name)
    vault = CredentialVault(settings.vault_key_list())
    destination_id, source_id = uuid.uuid4(), uuid.uuid4()
    async with database.tenant_session(tenant.id) as session:
        credentials = {"user_id": USER_ID, "company_id": company, "user_password": USER_PASSWORD}
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
            ("account", account, "category", "Travel"),
            ("vendor", vendor, "employee", "ada@example.com"),
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
        destination = await session.get(Connection, destination_id)
        assert destination is not None
        await save_settings(
            TenantRepository(session, tenant.id, "test"), destination=destination, settings=export, vocabulary=INTACCT
        )
    return BillTenant(tenant, destination_id, source_id)
