"""One destination document is recorded by one item at most — per kind: destinations number each kind of document
on its own (Sage Intacct's bill 1 and card transaction 1 are two documents), and both must be recordable."""

import secrets
import uuid

import pytest
from sqlalchemy.exc import IntegrityError

from core.db import Database
from core.models import Connection, ExportItem
from tests.conftest import make_tenant


async def _record(database: Database, *documents: tuple[str, str]) -> None:
    """Items of one connection, each recording (document type, remote id)."""
    tenant = await make_tenant(database, "Numbering")
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
                    state="succeeded",
                    remote_id=remote_id,
                )
            )
            await session.flush()


async def test_a_bill_and_a_card_transaction_numbered_alike_are_both_recorded(database: Database) -> None:
    await _record(database, ("bill", "1"), ("charge_card_transaction", "1"), ("journal_entry", "1"))


async def test_one_document_recorded_by_two_items_is_refused(database: Database) -> None:
    with pytest.raises(IntegrityError, match="uq_export_items_remote_document_kind"):
        await _record(database, ("bill", "7"), ("bill", "7"))
