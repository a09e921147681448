"""A tenant pulling from the Fyle sandbox over HTTP, for the pull engine's tests.

The connection is made the way `tests/connectors/fyle` makes one (a real refresh grant, the cluster learnt from
`POST /oauth/cluster`, `connectors.factory.open_connector`). An Intacct destination with bill settings can be added,
for the tests about what happens to exported expenses.
"""

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import SecretStr
from sqlalchemy import func, select, update

from connectors.base import SourceConnector
from connectors.fyle import FyleConnector
from core.crypto import CredentialVault
from core.db import Database
from core.domain import Expense, SourceItem
from core.models import Attempt, AttemptOutcome, ExportItem, ExportState, SourceRecord
from core.repository import TenantRepository
from core.settings import Settings
from mappings.settings import ExportSettings
from mappings.settings_store import save_settings
from sandbox.fyle.constants import FYLE_SANDBOX_CLIENT_ID, FYLE_SANDBOX_CLIENT_SECRET
from sandbox.fyle.records import Expense as SandboxExpense
from sandbox.fyle.simulator import FyleSimulator
from sandbox.fyle.store import FyleStore
from sync.pull_engine import PullReport, pull_expenses
from tests.connectors.conformance import inject
from tests.connectors.fyle.conftest import FyleWorld, add_connection, sandbox_grant
from tests.mappings.seed import connection as add_connection_row
from tests.sandbox_fixtures import RunningSandbox
from tests.vocabularies import INTACCT

EXPENSE_LIST = "GET /platform/v1/admin/expenses"
REIMBURSABLE_BILLS = ExportSettings.model_validate(
    {
        "reimbursable": {"export_type": "bill", "grouping": {"by": "report"}, "date": "last_spent"},
        "employee_as": "vendor",
    }
)
"""Approved (or later) reimbursable expenses, one bill per report; card expenses are not exported."""


@dataclass(frozen=True)
class FyleSource:
    world: FyleWorld

    @property
    def database(self) -> Database:
        return self.world.database

    @property
    def tenant_id(self) -> uuid.UUID:
        return self.world.connection.tenant_id

    @property
    def connection_id(self) -> uuid.UUID:
        return self.world.connection.connection_id

    async def pull(self, connector: SourceConnector | None = None, *, page_rows: int | None = None) -> PullReport:
        options: dict[str, Any] = {} if page_rows is None else {"page_rows": page_rows}
        if connector is not None:
            return await pull_expenses(
                self.database,
                connector,
                tenant_id=self.tenant_id,
                connection_id=self.connection_id,
                actor="test",
                **options,
            )
        async with await self.world.open() as opened:
            return await self.pull(opened, page_rows=page_rows)

    async def records(self) -> list[SourceRecord]:
        async with self.database.tenant_session(self.tenant_id) as session:
            rows = (
                await session.scalars(
                    select(SourceRecord)
                    .where(SourceRecord.connection_id == self.connection_id)
                    .order_by(SourceRecord.remote_id)
                )
            ).all()
            session.expunge_all()
            return list(rows)

    async def by_remote_id(self) -> dict[str, SourceRecord]:
        return {record.remote_id: record for record in await self.records()}

    async def add_destination(self, settings: ExportSettings = REIMBURSABLE_BILLS) -> uuid.UUID:
        """An Intacct destination with `settings` saved (as a tenant admin would)."""
        async with self.database.tenant_session(self.tenant_id) as session:
            destination = await add_connection_row(session, self.tenant_id, role="destination")
            await save_settings(
                TenantRepository(session, self.tenant_id, "test"),
                destination=destination,
                settings=settings,
                vocabulary=INTACCT,
            )
            return destination.id

    async def mark_exported(self, item_id: uuid.UUID) -> None:
        """What the export engine leaves behind for an item whose bill was created: succeeded, with its attempt."""
        async with self.database.tenant_session(self.tenant_id) as session:
            await session.execute(
                update(ExportItem)
                .where(ExportItem.id == item_id)
                .values(
                    state=ExportState.SUCCEEDED.value,
                    attempt_count=1,
                    remote_id=f"BILL-{item_id.hex[:8]}",
                    status_written_back_at=func.now(),
                )
            )
            session.add(
                Attempt(
                    tenant_id=self.tenant_id,
                    export_item_id=item_id,
                    number=1,
                    worker="test",
                    outcome=AttemptOutcome.SUCCEEDED.value,
                    finished_at=func.now(),
                )
            )

    async def items(self) -> list[ExportItem]:
        async with self.database.tenant_session(self.tenant_id) as session:
            rows = (await session.scalars(select(ExportItem).order_by(ExportItem.created_at, ExportItem.id))).all()
            session.expunge_all()
            return list(rows)


def fyle_store(sandbox: RunningSandbox) -> FyleStore:
    """The simulator's records, in this process. Only for changes its control API cannot make (a broken expense)."""
    system = sandbox.box.systems["fyle"]
    assert isinstance(system, FyleSimulator)
    return system.state.store


def break_expense(sandbox: RunningSandbox, *, pick: int = 0) -> SandboxExpense:
    """Take the category off one expense (as if it were deleted in Fyle) and touch it, so the next pull reads it."""
    store = fyle_store(sandbox)
    expense = sorted(store.expenses, key=lambda found: found.id)[pick]
    expense.category_id = None
    store.expenses.touch(expense, store.now())
    return expense


def move_report(sandbox: RunningSandbox, report_id: str, state: str) -> None:
    with sandbox.control() as control:
        control.post(f"/fyle/reports/{report_id}/state", json={"state": state}).raise_for_status()


class OutageAfter(SourceConnector):
    """The real Fyle connector; once `after` records have been read, the sandbox's expense list starts failing
    with 503, so the stream breaks at its next page request, as a Fyle outage in mid-pull would."""

    def __init__(self, inner: FyleConnector, *, after: int, sandbox: RunningSandbox) -> None:
        # The inner connector owns the HTTP client; this one only times the fault.
        self.inner = inner
        self.after = after
        self.sandbox = sandbox

    async def stream(self, stream: str, *, since: datetime | None) -> AsyncIterator[SourceItem]:
        count = 0
        async for item in self.inner.stream(stream, since=since):
            yield item
            count += 1
            if count == self.after:
                inject(self.sandbox, system="fyle", operation=EXPENSE_LIST, mode="error", status=503)

    def to_expense(self, item: SourceItem) -> Expense:
        return self.inner.to_expense(item)


def clear_faults(sandbox: RunningSandbox) -> None:
    with sandbox.control() as control:
        control.delete("/faults").raise_for_status()


def sandbox_expense_count(sandbox: RunningSandbox) -> int:
    with sandbox.control() as control:
        count: int = control.get("/fyle/counts").json()["expenses"]
    return count


async def make_source(database: Database, settings: Settings, sandbox: RunningSandbox) -> FyleSource:
    """A new tenant with a Fyle source connection on the sandbox."""
    apps = {
        "fyle": {"client_id": SecretStr(FYLE_SANDBOX_CLIENT_ID), "client_secret": SecretStr(FYLE_SANDBOX_CLIENT_SECRET)}
    }
    vault = CredentialVault(settings.vault_key_list())
    tokens, cluster = sandbox_grant(sandbox)
    connection = await add_connection(database, vault, tokens=tokens, settings={"cluster_domain": cluster})
    configured = settings.model_copy(update={"sandbox_url": sandbox.url, "connector_apps": apps})
    return FyleSource(FyleWorld(database, vault, configured, sandbox, connection))
