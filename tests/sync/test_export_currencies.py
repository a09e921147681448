"""Original-currency exports end to end (issue 17, point 4): Fyle's expenses as its connector reads them (the rate cut
to six places), grouped, built, written down and sent by the export engine to the Intacct simulator; every bill's
base total there is what Fyle booked, to the cent, in EUR, GBP and JPY as in USD, and its payment pays it off."""

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from connectors.base import DestinationConnector, PaymentToRecord, RecordedPayment
from connectors.factory import open_connector
from connectors.fyle.expenses import fyle_expense
from core.crypto import CredentialVault
from core.db import Database
from core.domain import DocumentKind, Expense, RecordKind, SourceItem
from core.models import Connection, ExportItem
from core.repository import TenantRepository
from core.settings import Settings
from mappings.regrouping import regroup
from mappings.settings_store import save_settings
from sync.export_engine import ExportEngine
from tests.mappings.seed import expenses as store_expenses
from tests.mappings.test_currencies import SPENT
from tests.sandbox_fixtures import RunningSandbox
from tests.sync.bill_books import BILL_SETTINGS, add_bill_tenant
from tests.sync.conftest import sandbox_settings

ORIGINAL_BILLS = BILL_SETTINGS.model_copy(update={"currency": "original"})
BANK = "BOA-01"


def fyle_raw(expense_id: str, report_id: str, booked: str, spent: str | None, currency: str) -> dict[str, Any]:
    """An `expense_out` as Fyle's admin API sends it (amounts are JSON numbers)."""
    foreign = {} if spent is None else {"foreign_amount": float(spent), "foreign_currency": currency}
    return {
        "id": expense_id,
        "amount": float(booked),
        "currency": "USD",
        "category": {"name": "Travel"},
        "is_reimbursable": True,
        "updated_at": "2024-03-05T10:00:00Z",
        "employee": {"user": {"email": "ada@example.com"}},
        "spent_at": "2024-03-01T10:00:00Z",
        "state": "APPROVED",
        "report_id": report_id,
        "report": {"state": "APPROVED"},
        **foreign,
    }


def fyle_expenses() -> list[Expense]:
    read = []
    for currency, pairs in SPENT.items():
        for index, (booked, spent) in enumerate(pairs):
            raw = fyle_raw(f"tx-{currency}-{index}", f"rp-{currency}", booked, spent, currency)
            item = SourceItem(kind=RecordKind.EXPENSE, remote_id=raw["id"], updated_at=datetime.now(UTC), data=raw)
            read.append(fyle_expense(item))
    return read


async def test_bills_in_every_currency_book_fyles_amounts_and_are_paid_in_their_currency(
    database: Database, settings: Settings, sandbox: RunningSandbox
) -> None:
    made = await add_bill_tenant(database, settings, "Currencies")
    expenses = fyle_expenses()
    assert {item.exchange_rate for item in expenses if item.foreign_currency == "JPY"} == {Decimal("0.006671")}
    async with database.tenant_session(made.tenant.id) as session:
        repository = TenantRepository(session, made.tenant.id, "test")
        destination = await session.get(Connection, made.destination_id)
        assert destination is not None
        await save_settings(repository, destination=destination, settings=ORIGINAL_BILLS)
        await store_expenses(session, made.tenant.id, made.source_id, expenses)
        await regroup(repository, destination=destination, settings=ORIGINAL_BILLS)
    connector = await open_connector(
        database=database,
        vault=CredentialVault(settings.vault_key_list()),
        settings=sandbox_settings(settings, sandbox),
        tenant_id=made.tenant.id,
        connection_id=made.destination_id,
    )
    assert isinstance(connector, DestinationConnector)
    async with connector:
        report = await ExportEngine(database, owner="fx").run_batch(
            connector, tenant_id=made.tenant.id, connection_id=made.destination_id
        )
        assert (report.claimed, report.succeeded) == (4, 4)
        async with database.tenant_session(made.tenant.id) as session:
            items = (await session.scalars(select(ExportItem))).all()
        with sandbox.control() as control:
            bills = {
                bill["RECORDNO"]: bill
                for bill in control.get("/intacct/documents", params={"object": "APBILL"}).json()["data"]
            }
        for item in items:
            assert item.remote_id is not None
            bill = bills[item.remote_id]
            currency = bill["CURRENCY"]
            booked = sum((Decimal(b) for b, _ in SPENT[currency]), Decimal(0))
            spent = sum((Decimal(s or b) for b, s in SPENT[currency]), Decimal(0))
            assert (Decimal(bill["TOTALENTERED"]), Decimal(bill["TRX_TOTALENTERED"])) == (booked, spent), currency
            assert bill["BASECURR"] == "USD"

            [paid] = await connector.record_payments(
                [
                    PaymentToRecord(
                        kind=DocumentKind.BILL,
                        remote_id=item.remote_id,
                        reference=f"pay-{item.id}",
                        paid_on=date(2024, 3, 20),
                        account=BANK,
                    )
                ]
            )
            assert isinstance(paid, RecordedPayment) and paid.amount == spent, paid
            with sandbox.control() as control:
                settled = control.get(f"/intacct/documents/APBILL/{item.remote_id}").json()
            assert (settled["STATE"], Decimal(settled["TOTALDUE"]), Decimal(settled["TOTALPAID"])) == (
                "Paid",
                Decimal(0),
                booked,
            )
    assert {bill["CURRENCY"] for bill in bills.values() if bill["RECORDNO"] in {i.remote_id for i in items}} == set(
        SPENT
    )
