"""Row-level security: the service role sees one tenant at a time, and nothing without a tenant."""

import secrets
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError, ProgrammingError
from sqlalchemy.ext.asyncio import AsyncSession

from core.audit import append_event
from core.constants import APP_DB_ROLE
from core.db import Database
from core.models import (
    TENANT_SCOPED_TABLES,
    ApiIdempotencyKey,
    Attempt,
    Base,
    Connection,
    DestinationAttribute,
    ExportItem,
    ExportItemRecord,
    ExportSettingsVersion,
    Mapping,
    Replay,
    SourceRecord,
    StreamCursor,
    SyncRun,
    WebhookEvent,
)
from tests.conftest import TenantFixture, make_tenant


async def seed_every_table(session: AsyncSession, tenant_id: uuid.UUID) -> dict[str, uuid.UUID]:
    """One row in every tenant-owned table (the api_keys and audit rows come with the tenant)."""
    connection = Connection(
        id=uuid.uuid4(),
        tenant_id=tenant_id,
        name="intacct",
        provider="intacct",
        role="destination",
        webhook_key=secrets.token_urlsafe(16),
    )
    session.add(connection)
    await session.flush()
    attribute = DestinationAttribute(
        id=uuid.uuid4(),
        tenant_id=tenant_id,
        connection_id=connection.id,
        attribute_type="account",
        remote_id="6000",
        name="Travel",
    )
    record = SourceRecord(
        id=uuid.uuid4(),
        tenant_id=tenant_id,
        connection_id=connection.id,
        kind="expense",
        remote_id="tx1",
        data={},
        fingerprint="f",
    )
    item = ExportItem(
        id=uuid.uuid4(),
        tenant_id=tenant_id,
        destination_connection_id=connection.id,
        destination_provider="intacct",
        document_type="bill",
        group_key="report:rp1",
        idempotency_key=secrets.token_hex(16),
    )
    run = SyncRun(id=uuid.uuid4(), tenant_id=tenant_id, connection_id=connection.id, kind="import", trigger="manual")
    session.add_all([attribute, record, item, run])
    await session.flush()
    now = datetime.now(UTC)
    session.add_all(
        [
            ExportItemRecord(tenant_id=tenant_id, export_item_id=item.id, source_record_id=record.id),
            Attempt(tenant_id=tenant_id, export_item_id=item.id, number=1, outcome="failed"),
            StreamCursor(tenant_id=tenant_id, connection_id=connection.id, stream="expenses", cursor="c"),
            WebhookEvent(tenant_id=tenant_id, connection_id=connection.id, provider="fyle", event_id="e1", payload={}),
            Replay(tenant_id=tenant_id, filter={}, requested_by="test"),
            Mapping(
                tenant_id=tenant_id,
                destination_connection_id=connection.id,
                source_type="category",
                source_value="Travel",
                destination_type="account",
                destination_attribute_id=attribute.id,
            ),
            ExportSettingsVersion(
                tenant_id=tenant_id,
                destination_connection_id=connection.id,
                version=1,
                body={},
                created_by="test",
            ),
            ApiIdempotencyKey(
                tenant_id=tenant_id,
                key="k1",
                method="POST",
                path="/v1/x",
                request_hash="h",
                state="completed",
                locked_until=now,
                expires_at=now + timedelta(days=1),
            ),
        ]
    )
    await session.flush()
    return {"connection": connection.id, "item": item.id}


@pytest.fixture
async def two_seeded_tenants(database: Database) -> tuple[TenantFixture, TenantFixture]:
    first, second = await make_tenant(database, "Alpha"), await make_tenant(database, "Beta")
    async with database.owner_session() as session:
        await seed_every_table(session, first.id)
        await seed_every_table(session, second.id)
    return first, second


def _table(name: str) -> str:
    assert name in Base.metadata.tables  # guards the f-string below: only known table names
    return name


async def test_the_service_connects_as_a_role_that_owns_no_table(database: Database) -> None:
    async with database.unscoped_session() as session:
        assert await session.scalar(text("SELECT current_user")) == APP_DB_ROLE
        owned = await session.scalar(
            text("SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tableowner = :role"),
            {"role": APP_DB_ROLE},
        )
    assert owned == 0


async def test_every_tenant_table_has_row_level_security(database: Database) -> None:
    async with database.owner_session() as session:
        rows = await session.execute(
            text(
                "SELECT relname FROM pg_class WHERE relrowsecurity AND relkind = 'r' "
                "AND relnamespace = 'public'::regnamespace"
            )
        )
        secured = {row[0] for row in rows}
    # Dashboard sessions have row-level security with no policy for the service: it reaches them only through the
    # owner-run functions of migration 0011.
    assert secured == {*TENANT_SCOPED_TABLES, "tenants", "dashboard_sessions"}


async def test_without_a_tenant_raw_queries_return_nothing(
    database: Database, two_seeded_tenants: tuple[TenantFixture, TenantFixture]
) -> None:
    async with database.unscoped_session() as session:
        for table in (*TENANT_SCOPED_TABLES, "tenants"):
            count = await session.scalar(text(f"SELECT count(*) FROM {_table(table)}"))
            assert count == 0, f"{table} leaked {count} rows with no tenant set"


async def test_a_tenant_sees_only_its_own_rows_in_every_table(
    database: Database, two_seeded_tenants: tuple[TenantFixture, TenantFixture]
) -> None:
    first, second = two_seeded_tenants
    async with database.tenant_session(first.id) as session:
        for table in TENANT_SCOPED_TABLES:
            foreign = await session.scalar(
                text(f"SELECT count(*) FROM {_table(table)} WHERE tenant_id <> :me"),
                {"me": first.id},
            )
            own = await session.scalar(text(f"SELECT count(*) FROM {_table(table)}"))
            assert foreign == 0, f"{table} shows another tenant's rows"
            assert own >= 1, f"{table} hides the tenant's own rows"
        tenants = (await session.execute(text("SELECT id FROM tenants"))).scalars().all()
    assert tenants == [first.id]
    assert second.id not in tenants


async def test_inserting_a_row_for_another_tenant_is_refused(
    database: Database, two_seeded_tenants: tuple[TenantFixture, TenantFixture]
) -> None:
    first, second = two_seeded_tenants
    with pytest.raises((ProgrammingError, DBAPIError), match="row-level security"):
        async with database.tenant_session(first.id) as session:
            session.add(
                Connection(
                    tenant_id=second.id,
                    name="sneaky",
                    provider="xero",
                    role="destination",
                    webhook_key=secrets.token_hex(8),
                )
            )
            await session.flush()


async def test_inserting_with_no_tenant_set_is_refused(database: Database, tenant: TenantFixture) -> None:
    with pytest.raises((ProgrammingError, DBAPIError), match="row-level security"):
        async with database.unscoped_session() as session:
            session.add(
                Connection(
                    tenant_id=tenant.id, name="n", provider="xero", role="destination", webhook_key=secrets.token_hex(8)
                )
            )
            await session.flush()


async def test_the_tenant_setting_does_not_outlive_its_transaction(database: Database, tenant: TenantFixture) -> None:
    async with database.tenant_session(tenant.id) as session:
        assert await session.scalar(text("SELECT count(*) FROM tenants")) == 1
    # The same pooled connection, next transaction, no tenant: nothing visible.
    async with database.unscoped_session() as session:
        assert await session.scalar(text("SELECT current_setting('app.tenant_id', true)")) in ("", None)
        assert await session.scalar(text("SELECT count(*) FROM tenants")) == 0


async def test_the_cross_tenant_path_sees_everyone_and_is_audited(
    database: Database, two_seeded_tenants: tuple[TenantFixture, TenantFixture]
) -> None:
    first, second = two_seeded_tenants
    async with database.owner_session() as session:
        before = await session.scalar(text("SELECT count(*) FROM audit_events WHERE action = 'cross_tenant.open'"))
    async with database.cross_tenant_session(actor="support:alice", reason="ticket 42") as session:
        seen = set((await session.scalars(select(Connection.tenant_id))).all())
    assert {first.id, second.id} <= seen
    async with database.owner_session() as session:
        after = await session.scalar(text("SELECT count(*) FROM audit_events WHERE action = 'cross_tenant.open'"))
        reason = await session.scalar(
            text(
                "SELECT data->>'reason' FROM audit_events WHERE actor = 'support:alice' "
                "ORDER BY created_at DESC LIMIT 1"
            )
        )
    assert after == before + 1
    assert reason == "ticket 42"


async def test_the_service_role_cannot_rewrite_the_audit_log(database: Database, tenant: TenantFixture) -> None:
    async with database.tenant_session(tenant.id) as session:
        await append_event(session, tenant_id=tenant.id, actor="t", action="x", entity_type="t", entity_id=None)
    with pytest.raises((ProgrammingError, DBAPIError), match="permission denied"):
        async with database.tenant_session(tenant.id) as session:
            await session.execute(text("UPDATE audit_events SET actor = 'mallory'"))
