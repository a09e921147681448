"""Currencies on a USD company (issue 17, point 4): every document states its currency, a foreign-currency document's
base total in Intacct is what Fyle booked to the cent, and payments are made in the paid document's currency.

Documents are built from Fyle's figures by the real builders and pushed through the connector to the simulator, which
converts with the rate it is sent (or its own daily rate when none is), rounding each line to the cent as Intacct does.
"""

from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

import httpx
import pytest

from connectors.base import PaymentToRecord, RecordedPayment
from connectors.intacct import IntacctConnector
from core.domain import Document, DocumentKind, Expense, PaymentState, RemoteDocument
from core.errors import ValidationError
from mappings import MappingTable, build_document
from tests.connectors.intacct import factories
from tests.mappings.factories import EXPORT_DAY, expense, settings
from tests.mappings.test_currencies import SPENT, fyle_expenses
from tests.vocabularies import INTACCT

ROWS = [
    ("category", "Travel", "account", factories.ACCOUNT),
    ("category", "Travel", "expense_type", factories.EXPENSE_TYPE),
    ("employee", "ada@example.com", "employee", factories.EMPLOYEE),
    ("employee", "ada@example.com", "vendor", factories.VENDOR),
    ("corporate_card", "card-9", "charge_card_account", factories.CARD),
]
TABLE = MappingTable.of(ROWS)
KINDS: dict[DocumentKind, dict[str, Any]] = {
    DocumentKind.BILL: {"reimbursable": {"export_type": "bill"}, "employee_as": "vendor"},
    DocumentKind.EXPENSE_REPORT: {},
    DocumentKind.JOURNAL_ENTRY: {
        "reimbursable": {"export_type": "journal_entry"},
        "defaults": {"journal_credit_account": factories.CASH_ACCOUNT},
    },
    DocumentKind.CHARGE_CARD_TRANSACTION: {
        "card": {"export_type": "charge_card_transaction"},
        "defaults": {"charge_card_account": factories.CARD},
    },
}
CURRENCIES = list(SPENT)
PAID_ON = date(2024, 3, 20)


def source(kind: DocumentKind, currency: str) -> list[Expense]:
    if kind is DocumentKind.CHARGE_CARD_TRANSACTION:  # one expense each
        card = {"is_reimbursable": False, "corporate_card_id": "card-9", "merchant": "Lawson", "report_id": None}
        return fyle_expenses(currency, spent_on=factories.DAY, **card)[:1]
    return fyle_expenses(currency, spent_on=factories.DAY)


def build(kind: DocumentKind, expenses: list[Expense], reference: str, **overrides: Any) -> Document:
    return build_document(
        kind=kind,
        expenses=expenses,
        settings=settings(**{"currency": "original", **KINDS[kind], **overrides}),
        mappings=TABLE,
        reference=reference,
        export_day=EXPORT_DAY,
        vocabulary=INTACCT,
    )


async def push_one(connector: IntacctConnector, document: Document) -> str:
    [outcome] = await connector.push([document])
    assert isinstance(outcome, RemoteDocument), outcome
    return outcome.remote_id


async def stored_one(control: httpx.AsyncClient, kind: DocumentKind, reference: str) -> dict[str, Any]:
    [row] = await factories.stored(control, kind, reference)
    return row


def booked(expenses: list[Expense]) -> Decimal:
    return sum((item.amount for item in expenses), Decimal(0))


def spent(expenses: list[Expense]) -> Decimal:
    return sum((item.foreign_amount or item.amount for item in expenses), Decimal(0))


def money(value: str) -> Decimal:
    return Decimal(value)


@pytest.mark.parametrize("currency", CURRENCIES)
@pytest.mark.parametrize(
    "kind", [DocumentKind.BILL, DocumentKind.CHARGE_CARD_TRANSACTION], ids=["bill", "charge_card_transaction"]
)
async def test_a_document_in_any_currency_books_fyles_base_total_to_the_cent(
    connector: IntacctConnector, control: httpx.AsyncClient, kind: DocumentKind, currency: str
) -> None:
    expenses = source(kind, currency)
    reference = f"ll-fx-{kind.value}-{currency}"
    await push_one(connector, build(kind, expenses, reference))

    row = await stored_one(control, kind, reference)
    assert (row["CURRENCY"], row["BASECURR"]) == (currency, "USD")
    assert money(row["TRX_TOTALENTERED"]) == spent(expenses)
    assert money(row["TOTALENTERED"]) == booked(expenses)
    assert sum(money(line["AMOUNT"]) for line in row["lines"]) == booked(expenses)


@pytest.mark.parametrize("currency", CURRENCIES)
async def test_an_expense_report_reimburses_the_booked_dollars_for_lines_spent_in_any_currency(
    connector: IntacctConnector, control: httpx.AsyncClient, currency: str
) -> None:
    expenses = source(DocumentKind.EXPENSE_REPORT, currency)
    reference = f"ll-fx-er-{currency}"
    await push_one(connector, build(DocumentKind.EXPENSE_REPORT, expenses, reference))

    row = await stored_one(control, DocumentKind.EXPENSE_REPORT, reference)
    assert (row["CURRENCY"], row["BASECURR"]) == ("USD", "USD")
    assert money(row["TOTALENTERED"]) == money(row["TRX_TOTALENTERED"]) == booked(expenses)
    assert [line["CURRENCY"] for line in row["lines"]] == [currency] * len(expenses)
    assert [money(line["TRX_AMOUNT"]) for line in row["lines"]] == [
        item.foreign_amount or item.amount for item in expenses
    ]
    assert [money(line["AMOUNT"]) for line in row["lines"]] == [item.amount for item in expenses]


@pytest.mark.parametrize("currency", CURRENCIES)
async def test_every_journal_line_states_its_currency_and_books_the_base_amount(
    connector: IntacctConnector, control: httpx.AsyncClient, currency: str
) -> None:
    expenses = source(DocumentKind.JOURNAL_ENTRY, currency)
    reference = f"ll-fx-je-{currency}"
    await push_one(connector, build(DocumentKind.JOURNAL_ENTRY, expenses, reference))

    lines = (await stored_one(control, DocumentKind.JOURNAL_ENTRY, reference))["lines"]
    assert {line["CURRENCY"] for line in lines} == {currency}
    debits = [line for line in lines if line["TR_TYPE"] == "1"]
    credits = [line for line in lines if line["TR_TYPE"] == "-1"]
    assert [money(line["AMOUNT"]) for line in debits] == [item.amount for item in expenses]
    assert sum(money(line["AMOUNT"]) for line in credits) == booked(expenses)
    assert sum(money(line["TRX_AMOUNT"]) for line in debits) == spent(expenses)


async def test_a_journal_booked_in_euros_on_a_dollar_company_says_euros(
    connector: IntacctConnector, control: httpx.AsyncClient
) -> None:
    """Exported as booked by an org keeping its books in EUR: without CURRENCY, Intacct takes the lines for dollars."""
    expenses = [expense(id="eur-booked", amount=Decimal("100.00"), currency="EUR", spent_on=factories.DAY)]
    reference = "ll-fx-je-booked-eur"
    await push_one(connector, build(DocumentKind.JOURNAL_ENTRY, expenses, reference, currency="booked"))

    lines = (await stored_one(control, DocumentKind.JOURNAL_ENTRY, reference))["lines"]
    assert {line["CURRENCY"] for line in lines} == {"EUR"}
    assert {money(line["TRX_AMOUNT"]) for line in lines} == {Decimal("100.00")}


async def record(connector: IntacctConnector, kind: DocumentKind, remote_id: str, reference: str) -> RecordedPayment:
    [outcome] = await connector.record_payments(
        [PaymentToRecord(kind=kind, remote_id=remote_id, reference=reference, paid_on=PAID_ON, account=factories.BANK)]
    )
    assert isinstance(outcome, RecordedPayment), outcome
    return outcome


@pytest.mark.parametrize("currency", CURRENCIES)
async def test_a_bill_is_paid_in_full_in_its_own_currency(
    connector: IntacctConnector, control: httpx.AsyncClient, currency: str
) -> None:
    expenses = source(DocumentKind.BILL, currency)
    reference = f"ll-fx-paid-bill-{currency}"
    remote_id = await push_one(connector, build(DocumentKind.BILL, expenses, reference))

    recorded = await record(connector, DocumentKind.BILL, remote_id, f"{reference}-payment")

    assert recorded.amount == spent(expenses)
    bill = await stored_one(control, DocumentKind.BILL, reference)
    assert bill["STATE"] == "Paid"
    assert money(bill["TRX_TOTALDUE"]) == money(bill["TOTALDUE"]) == Decimal(0)
    assert money(bill["TOTALPAID"]) == booked(expenses)
    payment = await stored_one(control, DocumentKind.PAYMENT, f"{reference}-payment")
    assert payment["CURRENCY"] == currency
    assert money(payment["TRX_TOTALENTERED"]) == spent(expenses)
    [status] = await connector.payment_status(DocumentKind.BILL, [remote_id])
    assert (status.state, status.paid_amount) == (PaymentState.PAID, spent(expenses))


@pytest.mark.parametrize("currency", CURRENCIES)
async def test_an_expense_report_is_reimbursed_in_full_in_its_reimbursement_currency(
    connector: IntacctConnector, control: httpx.AsyncClient, currency: str
) -> None:
    expenses = source(DocumentKind.EXPENSE_REPORT, currency)
    reference = f"ll-fx-paid-er-{currency}"
    remote_id = await push_one(connector, build(DocumentKind.EXPENSE_REPORT, expenses, reference))

    recorded = await record(connector, DocumentKind.EXPENSE_REPORT, remote_id, f"{reference}-reimbursement")

    assert recorded.amount == booked(expenses)
    report = await stored_one(control, DocumentKind.EXPENSE_REPORT, reference)
    assert report["STATE"] == "Paid"
    assert money(report["TRX_TOTALDUE"]) == money(report["TOTALDUE"]) == Decimal(0)
    reimbursement = await stored_one(control, DocumentKind.REIMBURSEMENT, f"{reference}-reimbursement")
    assert reimbursement["CURRENCY"] == "USD"
    assert money(reimbursement["TOTALENTERED"]) == booked(expenses)


async def test_a_bill_no_single_rate_can_convert_to_fyles_amounts_is_refused_before_sending(
    connector: IntacctConnector, control: httpx.AsyncClient
) -> None:
    """Two lines of 1.00 EUR booked as 1.08 and 1.09 USD: any one rate gives them an even number of cents."""
    lines = (
        factories.line("1.00", base_amount=Decimal("1.08")),
        factories.line("1.00", base_amount=Decimal("1.09")),
    )
    document = factories.bill("ll-fx-none", currency="EUR", base_currency="USD", lines=lines)

    [outcome] = await connector.push([document])

    assert isinstance(outcome, ValidationError), outcome
    assert "2.17 USD" in outcome.message and "one per document" in (outcome.hint or "")
    assert await factories.stored(control, DocumentKind.BILL, "ll-fx-none") == []


@pytest.mark.parametrize("currency", CURRENCIES)
async def test_a_taxed_bill_books_fyles_amounts_with_its_tax(
    connector: IntacctConnector, control: httpx.AsyncClient, currency: str
) -> None:
    """Fyle's tax is in dollars; converted to the spent currency it is split out of each line and converted back by
    Intacct on its own, still adding up to what Fyle booked."""
    expenses = [
        replace(item, tax_amount=(item.amount / 11).quantize(Decimal("0.01")), tax_group="VAT10")
        for item in source(DocumentKind.BILL, currency)
    ]
    document = build_document(
        kind=DocumentKind.BILL,
        expenses=expenses,
        settings=settings(currency="original", tax=True, **KINDS[DocumentKind.BILL]),
        mappings=MappingTable.of([*ROWS, ("tax_group", "VAT10", "tax_detail", "Tax 10% #1")]),
        reference=f"ll-fx-tax-{currency}",
        export_day=EXPORT_DAY,
        vocabulary=INTACCT,
    )
    assert all(line.tax_amount for line in document.lines)
    await push_one(connector, document)

    row = await stored_one(control, DocumentKind.BILL, f"ll-fx-tax-{currency}")
    assert money(row["TOTALENTERED"]) == booked(expenses)
    assert money(row["TRX_TOTALENTERED"]) == spent(expenses)
