"""Document kinds belong to the connectors: the database keeps their shape, not a list, so a connector that creates
a new kind of document needs no migration; and a document is recorded by one item at most, per kind."""

import secrets
import uuid

import pytest
from sqlalchemy.exc import IntegrityError

from core.db import Database
from core.models import Connection, ExportItem
from tests.conftest import make_tenant


async def _store_items(database: Database, *documents: tuple[str, str | None]) -> None:
    """Items of one new connection, each of (document type, remote id it records)."""
    tenant = await make_tenant(database, f"Kinds {documents[0][0][:20]}")
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
        for number, (document_type, remote_id) in enumerate(documents):
            session.add(
                ExportItem(
                    tenant_id=tenant.id,
                    destination_connection_id=connection_id,
                    destination_provider="intacct",
                    document_type=document_type,
                    group_key=f"report:rp{number}",
                    idempotency_key=secrets.token_hex(16),
                    state="succeeded" if remote_id else "pending",
                    remote_id=remote_id,
                )
            )
            await session.flush()


async def test_a_kind_no_migration_has_heard_of_is_stored(database: Database) -> None:
    await _store_items(database, ("bank_transaction", None))


@pytest.mark.parametrize("document_type", ["Bill", "bill; drop", "", "bill-report", "1bill"])
async def test_a_kind_that_is_not_a_name_is_refused(database: Database, document_type: str) -> None:
    with pytest.raises(IntegrityError, match="document_type_shape"):
        await _store_items(database, (document_type, None))


async def test_a_bill_and_a_card_transaction_numbered_alike_are_both_recorded(database: Database) -> None:
    """Destinations number each kind of document on its own (Intacct's bill 1 and card transaction 1 are two)."""
    await _store_items(database, ("bill", "1"), ("charge_card_transaction", "1"), ("journal_entry", "1"))


async def test_one_document_recorded_by_two_items_is_refused(database: Database) -> None:
    with pytest.raises(IntegrityError, match="uq_export_items_remote_document_kind"):
        await _store_items(database, ("bill", "7"), ("bill", "7"))
