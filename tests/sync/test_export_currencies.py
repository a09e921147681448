"""Original-currency exports end to end (issue 17, point 4): Fyle's expenses as its connector reads them (the rate cut
to six places), grouped, built, written down and sent by the export engine to the Intacct simulator; every bill's
base total there is what Fyle booked, to the cent, in EUR, GBP and JPY as in USD, and its payment pays it off."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
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
from mappings.settings import ExportSettings
from mappings.settings_store import save_settings
from sync.export_engine import ExportEngine
from tests.mappings.seed import expenses as store_expenses
from tests.mappings.seed import mapped_attributes
from tests.mappings.test_currencies import SPENT
from tests.sandbox_fixtures import RunningSandbox
from tests.sync.bill_books import BILL_SETTINGS, add_bill_tenant
from tests.sync.conftest import sandbox_settings
from tests.vocabularies import INTACCT

ORIGINAL_BILLS = BILL_SETTINGS.model_copy(update={"currency": "original"})
ORIGINAL_REPORTS = ExportSettings.model_validate(
    {"reimbursable": {"export_type": "expense_report", "grouping": {"by": "report"}}, "currency": "original"}
)
ORIGINAL_JOURNALS = ExportSettings.model_validate(
    {
        "reimbursable": {"export_type": "journal_entry", "grouping": {"by": "report"}},
        "employee_as": "vendor",
        "defaults": {"journal_credit_account": "10000"},
        "currency": "original",
    }
)
BANK = "BOA-01"
MAPPINGS = (
    ("expense_type", "Travel", "category", "Travel"),
    ("employee", "1004", "employee", "ada@example.com"),
    ("account", "10000", "category", "Meals"),
)
"""Beside the bill tenant's: expense reports need an expense type and an employee, journals the account 10000."""


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


def booked_and_spent(currency: str) -> tuple[Decimal, Decimal]:
    booked = sum((Decimal(b) for b, _ in SPENT[currency]), Decimal(0))
    spent = sum((Decimal(s or b) for b, s in SPENT[currency]), Decimal(0))
    return booked, spent


@dataclass
class Exported:
    connector: DestinationConnector
    items: list[ExportItem]
    documents: dict[str, dict[str, Any]]
    """Remote id → the document the simulator holds, with its lines."""


@asynccontextmanager
async def exported(
    database: Database, settings: Settings, sandbox: RunningSandbox, export: ExportSettings, object_name: str
) -> AsyncIterator[Exported]:
    """A tenant's USD, EUR, GBP and JPY reports, read from Fyle, exported under `export` by the engine."""
    made = await add_bill_tenant(database, settings, f"Currencies {object_name}")
    async with database.tenant_session(made.tenant.id) as session:
        repository = TenantRepository(session, made.tenant.id, "test")
        destination = await session.get(Connection, made.destination_id)
        assert destination is not None
        await mapped_attributes(session, made.tenant.id, made.destination_id, MAPPINGS)
        await save_settings(repository, destination=destination, settings=export, vocabulary=INTACCT)
        await store_expenses(session, made.tenant.id, made.source_id, fyle_expenses())
        await regroup(repository, destination=destination, settings=export)
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
            items = list((await session.scalars(select(ExportItem))).all())
        with sandbox.control() as control:
            held = control.get("/intacct/documents", params={"object": object_name}).json()["data"]
        documents = {row["RECORDNO"]: row for row in held}
        assert all(item.remote_id in documents for item in items)
        yield Exported(connector, items, documents)


async def pay(connector: DestinationConnector, kind: DocumentKind, item: ExportItem) -> RecordedPayment:
    assert item.remote_id is not None
    [paid] = await connector.record_payments(
        [
            PaymentToRecord(
                kind=kind, remote_id=item.remote_id, reference=f"pay-{item.id}", paid_on=date(2024, 3, 20), account=BANK
            )
        ]
    )
    assert isinstance(paid, RecordedPayment), paid
    return paid


def held(sandbox: RunningSandbox, object_name: str, remote_id: str) -> dict[str, Any]:
    with sandbox.control() as control:
        document: dict[str, Any] = control.get(f"/intacct/documents/{object_name}/{remote_id}").json()
    return document


async def test_bills_in_every_currency_book_fyles_amounts_and_are_paid_in_their_currency(
    database: Database, settings: Settings, sandbox: RunningSandbox
) -> None:
    assert {item.exchange_rate for item in fyle_expenses() if item.foreign_currency == "JPY"} == {Decimal("0.006671")}
    async with exported(database, settings, sandbox, ORIGINAL_BILLS, "APBILL") as done:
        assert {bill["CURRENCY"] for bill in done.documents.values()} == set(SPENT)
        for item in done.items:
            assert item.remote_id is not None
            bill = done.documents[item.remote_id]
            booked, spent = booked_and_spent(bill["CURRENCY"])
            assert (Decimal(bill["TOTALENTERED"]), Decimal(bill["TRX_TOTALENTERED"])) == (booked, spent)
            assert bill["BASECURR"] == "USD"

            assert (await pay(done.connector, DocumentKind.BILL, item)).amount == spent
            settled = held(sandbox, "APBILL", item.remote_id)
            assert (settled["STATE"], Decimal(settled["TOTALDUE"]), Decimal(settled["TOTALPAID"])) == (
                "Paid",
                Decimal(0),
                booked,
            )


async def test_expense_reports_in_every_currency_reimburse_fyles_amounts(
    database: Database, settings: Settings, sandbox: RunningSandbox
) -> None:
    async with exported(database, settings, sandbox, ORIGINAL_REPORTS, "EEXPENSES") as done:
        spent_in = set()
        for item in done.items:
            assert item.remote_id is not None
            report = done.documents[item.remote_id]
            [currency] = {line["CURRENCY"] for line in report["lines"]}
            spent_in.add(currency)
            booked, spent = booked_and_spent(currency)
            assert (report["CURRENCY"], Decimal(report["TOTALENTERED"])) == ("USD", booked)
            assert sum(Decimal(line["TRX_AMOUNT"]) for line in report["lines"]) == spent

            assert (await pay(done.connector, DocumentKind.EXPENSE_REPORT, item)).amount == booked
            settled = held(sandbox, "EEXPENSES", item.remote_id)
            assert (settled["STATE"], Decimal(settled["TRX_TOTALDUE"])) == ("Paid", Decimal(0))
        assert spent_in == set(SPENT)


async def test_journal_entries_in_every_currency_post_fyles_amounts_on_every_line(
    database: Database, settings: Settings, sandbox: RunningSandbox
) -> None:
    async with exported(database, settings, sandbox, ORIGINAL_JOURNALS, "GLBATCH") as done:
        for item in done.items:
            assert item.remote_id is not None
            lines = done.documents[item.remote_id]["lines"]
            [currency] = {line["CURRENCY"] for line in lines}
            booked, spent = booked_and_spent(currency)
            debits = [line for line in lines if line["TR_TYPE"] == "1"]
            credits = [line for line in lines if line["TR_TYPE"] == "-1"]
            assert sum(Decimal(line["AMOUNT"]) for line in debits) == booked
            assert sum(Decimal(line["AMOUNT"]) for line in credits) == booked
            assert sum(Decimal(line["TRX_AMOUNT"]) for line in debits) == spent
