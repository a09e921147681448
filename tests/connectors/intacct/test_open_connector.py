"""The production path: a stored connection (vault-encrypted tenant credentials) opened by `open_connector`."""

import secrets
import uuid

from pydantic import SecretStr

from connectors.factory import open_connector
from connectors.intacct import IntacctConnector
from core.crypto import CredentialVault
from core.db import Database
from core.domain import DocumentKind, RemoteDocument
from core.models import Connection
from core.settings import Settings
from sandbox.intacct.constants import SENDER_ID, SENDER_PASSWORD
from tests.conftest import TenantFixture
from tests.connectors.intacct import factories
from tests.connectors.intacct.conftest import TENANT
from tests.sandbox_fixtures import RunningSandbox


async def test_a_stored_connection_opens_an_intacct_connector_on_the_sandbox(
    database: Database, settings: Settings, tenant: TenantFixture, sandbox: RunningSandbox
) -> None:
    configured = settings.model_copy(
        update={
            "sandbox_url": sandbox.url,
            "connector_apps": {
                "intacct": {"sender_id": SecretStr(SENDER_ID), "sender_password": SecretStr(SENDER_PASSWORD)}
            },
        }
    )
    vault = CredentialVault(configured.vault_key_list())
    connection_id = uuid.uuid4()
    async with database.tenant_session(tenant.id) as session:
        session.add(
            Connection(
                id=connection_id,
                tenant_id=tenant.id,
                name="Sage Intacct",
                provider="intacct",
                role="destination",
                webhook_key=secrets.token_urlsafe(16),
                credentials=vault.encrypt(TENANT),
            )
        )

    connector = await open_connector(
        database=database, vault=vault, settings=configured, tenant_id=tenant.id, connection_id=connection_id
    )
    async with connector:
        assert isinstance(connector, IntacctConnector)
        assert connector.context.urls["gateway"] == f"{sandbox.url}/intacct/ia/xml/xmlgw.phtml"
        await connector.check()
        [outcome] = await connector.push([factories.bill("ll-stored")])
        found = await connector.find_by_reference(DocumentKind.BILL, "ll-stored")

    assert isinstance(outcome, RemoteDocument) and found is not None and found.remote_id == outcome.remote_id
