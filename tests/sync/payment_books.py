"""Fixtures for the payment tests: the `books` tenant with its Fyle source really connected to the sandbox.

The source connection of `books` gets tokens from a real refresh grant and its cluster (as the connect flow would),
and expenses are added to real Fyle reports, so that marking a report paid reaches the Fyle simulator.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any

from pydantic import SecretStr
from sqlalchemy import select, update

from connectors.factory import open_connector
from connectors.fyle import FyleConnector
from core.crypto import CredentialVault
from core.db import Database
from core.models import Connection, ExportItem, ExportItemRecord, SourceRecord
from core.repository import TenantRepository
from core.settings import Settings
from mappings.regrouping import regroup
from mappings.settings import ExportSettings
from mappings.settings_store import save_settings
from sandbox.fyle.constants import FYLE_SANDBOX_CLIENT_ID, FYLE_SANDBOX_CLIENT_SECRET, PAYABLE_STATES
from sandbox.intacct.constants import SENDER_ID, SENDER_PASSWORD
from sync.export_engine import ExportEngine
from tests.connectors.fyle.conftest import sandbox_grant
from tests.mappings.factories import expense
from tests.mappings.seed import expenses as store_expenses
from tests.mappings.seed import mapped_attributes
from tests.sandbox_fixtures import RunningSandbox
from tests.sync.conftest import BILL_SETTINGS, Books
from tests.vocabularies import INTACCT

MARK_PAID_OPERATION = "POST /platform/v1/admin/reports/mark_paid/bulk"
EXPENSE_REPORT_SETTINGS = ExportSettings.model_validate(
    {
        "reimbursable": {"export_type": "expense_report", "grouping": {"by": "report"}, "date": "last_spent"},
        "employee_as": "employee",
    }
)
"""Reimbursable reports exported as Intacct expense reports (see `FyleBooks.map_for_expense_reports`)."""


@dataclass
class FyleBooks:
    books: Books
    source: FyleConnector
    sandbox: RunningSandbox

    async def report_states(self) -> dict[str, str]:
        """Every report's state as Fyle itself lists it."""
        return {item.remote_id: item.state or "" async for item in self.source.stream("reports", since=None)}

    async def payable_reports(self, count: int) -> list[str]:
        """`count` Fyle reports in a state that can be marked paid (approved, not yet paid)."""
        states = await self.report_states()
        found = sorted(report_id for report_id, state in states.items() if state in PAYABLE_STATES)
        assert len(found) >= count, f"the seed has only {len(found)} payable reports"
        return found[:count]

    async def reports_in(self, state: str) -> list[str]:
        return sorted(report_id for report_id, found in (await self.report_states()).items() if found == state)

    async def add_expenses(
        self, database: Database, report_ids: list[str], settings: ExportSettings = BILL_SETTINGS
    ) -> None:
        """Two approved reimbursable expenses per Fyle report, grouped into pending items by `settings`."""
        books = self.books
        async with database.tenant_session(books.tenant.id) as session:
            repository = TenantRepository(session, books.tenant.id, "test")
            await store_expenses(
                session,
                books.tenant.id,
                books.source_id,
                [
                    expense(id=f"tx-{report_id}-{n}", report_id=report_id, spent_on=date(2024, 3, 1 + n))
                    for report_id in report_ids
                    for n in range(2)
                ],
            )
            destination = await session.get(Connection, books.destination_id)
            assert destination is not None
            await save_settings(repository, destination=destination, settings=settings, vocabulary=INTACCT)
            await regroup(repository, destination=destination, settings=settings)

    async def export_everything(self, database: Database) -> None:
        engine = ExportEngine(database, owner="payments")
        while (
            await engine.run_batch(
                self.books.connector, tenant_id=self.books.tenant.id, connection_id=self.books.destination_id
            )
        ).claimed:
            pass

    async def items_of(self, database: Database, report_id: str) -> list[ExportItem]:
        """The live items exporting the expenses of one report."""
        async with database.tenant_session(self.books.tenant.id) as session:
            query = (
                select(ExportItem)
                .join(ExportItemRecord, ExportItemRecord.export_item_id == ExportItem.id)
                .join(SourceRecord, SourceRecord.id == ExportItemRecord.source_record_id)
                .where(SourceRecord.parent_remote_id == report_id, ExportItemRecord.released_at.is_(None))
                .order_by(ExportItem.remote_id)
                .distinct()
            )
            return list((await session.scalars(query)).all())

    def pay(self, item: ExportItem, amount: str | None = None) -> None:
        """Pay the item's bill in the Intacct simulator, as someone would in Intacct."""
        assert item.remote_id is not None
        body: dict[str, Any] = {} if amount is None else {"amount": amount}
        with self.sandbox.control() as control:
            control.post(f"/intacct/documents/APBILL/{item.remote_id}/paid", json=body).raise_for_status()

    async def reimburse(self, database: Database, report_id: str, state: str = "PAID") -> None:
        """Reimburse a report in Fyle and bring its expenses' new state in, as the next pull would (the expenses
        `add_expenses` stores are not Fyle's own, so a real pull would not reach them)."""
        with self.sandbox.control() as control:
            control.post(f"/fyle/reports/{report_id}/state", json={"state": state}).raise_for_status()
        async with database.tenant_session(self.books.tenant.id) as session:
            await session.execute(
                update(SourceRecord).where(SourceRecord.parent_remote_id == report_id).values(remote_state=state)
            )

    def documents(self, object_name: str) -> list[dict[str, Any]]:
        """Every document of `object_name` (APBILL, APPYMT, EEXPENSES, EPPAYMENT, …) in the Intacct simulator."""
        with self.sandbox.control() as control:
            answer = control.get("/intacct/documents", params={"object": object_name})
        answer.raise_for_status()
        documents: list[dict[str, Any]] = answer.json()["data"]
        return documents

    async def map_for_expense_reports(self, database: Database) -> None:
        """Map Travel to the seeded expense type and Ada to employee 1004, so reports export as expense reports."""
        books = self.books
        async with database.tenant_session(books.tenant.id) as session:
            await mapped_attributes(
                session,
                books.tenant.id,
                books.destination_id,
                [("expense_type", "Travel", "category", "Travel"), ("employee", "1004", "employee", "ada@example.com")],
            )

    def mark_paid_requests(self) -> int:
        with self.sandbox.control() as control:
            answer = control.get("/requests", params={"system": "fyle", "operation": MARK_PAID_OPERATION})
        count: int = answer.json()["count"]
        return count


def fyle_and_intacct_settings(settings: Settings, sandbox: RunningSandbox) -> Settings:
    return settings.model_copy(
        update={
            "sandbox_url": sandbox.url,
            "connector_apps": {
                "intacct": {"sender_id": SecretStr(SENDER_ID), "sender_password": SecretStr(SENDER_PASSWORD)},
                "fyle": {
                    "client_id": SecretStr(FYLE_SANDBOX_CLIENT_ID),
                    "client_secret": SecretStr(FYLE_SANDBOX_CLIENT_SECRET),
                },
            },
        }
    )


@asynccontextmanager
async def connect_fyle(
    database: Database, settings: Settings, sandbox: RunningSandbox, books: Books
) -> AsyncIterator[FyleBooks]:
    """Connect `books`' Fyle source to the sandbox (tokens from a refresh grant, the org's cluster) and open it."""
    vault = CredentialVault(settings.vault_key_list())
    tokens, cluster = sandbox_grant(sandbox)
    async with database.tenant_session(books.tenant.id) as session:
        row = await session.get(Connection, books.source_id)
        assert row is not None
        row.credentials = vault.encrypt(tokens)
        row.settings = {"cluster_domain": cluster}
    source = await open_connector(
        database=database,
        vault=vault,
        settings=fyle_and_intacct_settings(settings, sandbox),
        tenant_id=books.tenant.id,
        connection_id=books.source_id,
    )
    assert isinstance(source, FyleConnector)
    async with source:
        yield FyleBooks(books, source, sandbox)
