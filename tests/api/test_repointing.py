"""Re-pointing an Intacct connection at another company or entity is refused while any of its exports is
unsettled: a lookup in the new books would not find what the old ones hold, and the document would be sent twice."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select, update

from core.crypto import CredentialVault
from core.db import Database
from core.models import AuditEvent, Connection, ExportItem
from core.settings import Settings
from sandbox.intacct.constants import ENTITY_IDS, MULTI_ENTITY_COMPANY
from tests.api.test_connecting import INTACCT, api, connecting_app  # noqa: F401 - the connecting tests' fixtures, reused here
from tests.conftest import TenantFixture

PATH = "/v1/connections/intacct/credentials"


async def _connect(client: httpx.AsyncClient, tenant: TenantFixture, credentials: dict[str, str]) -> httpx.Response:
    return await client.post(PATH, headers=tenant.headers, json={"name": "books", "credentials": credentials})


async def _items(database: Database, tenant: TenantFixture, connection_id: uuid.UUID) -> None:
    """One item of each kind: running and needing action with an unknown outcome (unsettled), and pending, skipped
    with an unknown outcome, and succeeded (settled)."""
    kinds: list[dict[str, Any]] = [
        {"state": "running", "lease_owner": "w1", "lease_expires_at": datetime.now(UTC) + timedelta(minutes=2)},
        {"state": "needs_action", "outcome_unknown": True, "error_code": "timeout"},
        {"state": "pending"},
        {"state": "skipped", "outcome_unknown": True, "skip_reason": "entered by hand"},
        {"state": "succeeded", "remote_id": "42"},
    ]
    async with database.tenant_session(tenant.id) as session:
        for n, values in enumerate(kinds):
            session.add(
                ExportItem(
                    id=uuid.uuid4(),
                    tenant_id=tenant.id,
                    destination_connection_id=connection_id,
                    destination_provider="intacct",
                    document_type="bill",
                    group_key=f"report:rp-{n}",
                    idempotency_key=f"ll-{uuid.uuid4().hex}",
                    **values,
                )
            )


async def _stored(database: Database, settings: Settings, tenant: TenantFixture) -> dict[str, Any]:
    async with database.tenant_session(tenant.id) as session:
        row = await session.scalar(select(Connection).where(Connection.name == "books"))
    assert row is not None and row.credentials is not None
    return CredentialVault(settings.vault_key_list()).decrypt(row.credentials)


async def test_another_company_or_entity_is_refused_while_exports_are_unsettled_and_allowed_once_settled(
    api: httpx.AsyncClient,  # noqa: F811 - the fixture
    database: Database,
    settings: Settings,
    tenant: TenantFixture,
) -> None:
    connected = await _connect(api, tenant, INTACCT)
    assert connected.status_code == 201, connected.text
    connection_id = uuid.UUID(connected.json()["id"])
    await _items(database, tenant, connection_id)

    other_company = {**INTACCT, "company_id": MULTI_ENTITY_COMPANY}
    refused = await _connect(api, tenant, other_company)
    assert refused.status_code == 409, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    problem = refused.json()
    assert problem["type"].endswith("/unsettled-exports")
    assert problem["unsettled_items"] == 2 and problem["fields"] == ["company_id"]
    assert "cannot change its Company ID yet: 2 export items are not settled" in problem["detail"]
    assert "Wait for the running exports to finish, or settle the items" in problem["detail"]
    assert await _stored(database, settings, tenant) == INTACCT

    entity = await _connect(api, tenant, {**INTACCT, "entity_id": ENTITY_IDS[0]})
    assert entity.status_code == 409 and entity.json()["fields"] == ["entity_id"]

    same_books = await _connect(api, tenant, INTACCT)  # re-entered credentials for the same company: fine
    assert same_books.status_code == 201, same_books.text

    async with database.tenant_session(tenant.id) as session:  # the exports settle
        await session.execute(
            update(ExportItem)
            .where(ExportItem.state.in_(["running", "needs_action"]))
            .values(state="succeeded", outcome_unknown=False, lease_owner=None, lease_expires_at=None)
        )
    moved = await _connect(api, tenant, other_company)
    assert moved.status_code == 201, moved.text
    assert (await _stored(database, settings, tenant))["company_id"] == MULTI_ENTITY_COMPANY
    async with database.tenant_session(tenant.id) as session:
        audited = await session.scalars(select(AuditEvent.action).where(AuditEvent.entity_id == str(connection_id)))
        actions = audited.all()
    assert actions.count("connection.connect") == 3  # the first, the same books again, and the move


async def test_unreadable_stored_credentials_count_as_a_change_of_books(
    api: httpx.AsyncClient,  # noqa: F811 - the fixture
    database: Database,
    tenant: TenantFixture,
) -> None:
    connected = await _connect(api, tenant, INTACCT)
    connection_id = uuid.UUID(connected.json()["id"])
    await _items(database, tenant, connection_id)
    async with database.tenant_session(tenant.id) as session:  # encrypted under a key no longer configured
        await session.execute(
            update(Connection)
            .where(Connection.id == connection_id)
            .values(credentials=CredentialVault([CredentialVault.new_key()]).encrypt(INTACCT))
        )
    refused = await _connect(api, tenant, INTACCT)
    assert refused.status_code == 409
    assert sorted(refused.json()["fields"]) == ["company_id", "entity_id"]
