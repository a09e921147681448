"""Document kinds belong to the connectors: the database keeps their shape, not a list, so a connector that creates
a new kind of document needs no migration."""

import secrets
import uuid

import pytest
from sqlalchemy.exc import IntegrityError

from core.db import Database
from core.models import Connection, ExportItem
from tests.conftest import make_tenant


async def _store_item(database: Database, document_type: str) -> None:
    tenant = await make_tenant(database, f"Kinds {document_type[:20]}")
    connection_id = uuid.uuid4()
    async with database.tenant_session(tenant.id) as session:
        session.add(
            Connection(
                id=connection_id,
                tenant_id=tenant.id,
                name="books",
                provider="intacct",
                role="destination",
                webhook_key=secrets.token_hex(8),
            )
        )
        await session.flush()
        session.add(
            ExportItem(
                tenant_id=tenant.id,
                destination_connection_id=connection_id,
                destination_provider="intacct",
                document_type=document_type,
                group_key="report:rp1",
                idempotency_key=secrets.token_hex(16),
            )
        )


async def test_a_kind_no_migration_has_heard_of_is_stored(database: Database) -> None:
    await _store_item(database, "bank_transaction")


@pytest.mark.parametrize("document_type", ["Bill", "bill; drop", "", "bill-report", "1bill"])
async def test_a_kind_that_is_not_a_name_is_refused(database: Database, document_type: str) -> None:
    with pytest.raises(IntegrityError, match="document_type_shape"):
        await _store_item(database, document_type)
