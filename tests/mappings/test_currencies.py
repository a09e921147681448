"""Original-currency documents carry what the source booked: every line its amount in the booked (base) currency, to
the cent, beside its amount in the document's currency; zero-decimal currencies get whole units (issue 17, point 4).

The figures are Fyle's: `amount` booked in USD, `foreign_amount` in the currency spent. Their quotient cut to six
places (what Fyle's connector keeps as `exchange_rate`) does not give the booked amount back for large or yen
amounts, so nothing may be derived from it.
"""

import json
from decimal import Decimal
from typing import Any

import pytest

from core.document_codec import document_from_json, document_to_json
from core.domain import Document, DocumentKind, Expense
from mappings import MappingTable, build_document, build_payment, is_balanced
from mappings.drift import document_drift
from mappings.totals import gross_total
from tests.mappings.factories import EXPORT_DAY, expense, settings
from tests.vocabularies import INTACCT

TABLE = MappingTable.of(
    [
        ("category", "Travel", "account", "6000"),
        ("category", "Travel", "expense_type", "ET-TRAVEL"),
        ("employee", "ada@example.com", "employee", "E-ADA"),
        ("employee", "ada@example.com", "vendor", "V-ADA"),
        ("corporate_card", "card-9", "charge_card_account", "CC-9"),
        ("tax_group", "VAT10", "tax_detail", "T-VAT10"),
    ]
)
SIX_PLACES = Decimal("0.000001")

SPENT = {
    "USD": [("123.45", None), ("10.01", None)],
    "EUR": [("25406.83", "23456.78"), ("52819.48", "48765.43")],
    "GBP": [("39706.47", "31234.57"), ("83179.56", "65432.10")],
    "JPY": [("823.61", "123457"), ("6588.87", "987654")],
}
"""Per currency: (booked USD, amount spent) of two expenses whose six-place rates are equal, so they share a document;
converting the spent amounts at that rate misses the booked total by cents."""


def fyle_expenses(currency: str, **overrides: Any) -> list[Expense]:
    made = []
    for index, (booked, spent) in enumerate(SPENT[currency]):
        foreign = (
            {}
            if spent is None
            else {
                "foreign_amount": Decimal(spent),
                "foreign_currency": currency,
                "exchange_rate": (Decimal(booked) / Decimal(spent)).quantize(SIX_PLACES),
            }
        )
        made.append(expense(id=f"tx{currency}{index}", amount=Decimal(booked), **foreign, **overrides))
    return made


def build(kind: DocumentKind, expenses: list[Expense], **overrides: Any) -> Document:
    return build_document(
        kind=kind,
        expenses=expenses,
        settings=settings(currency="original", **overrides),
        mappings=TABLE,
        reference="ll-fx",
        export_day=EXPORT_DAY,
        vocabulary=INTACCT,
    )


KINDS: dict[DocumentKind, dict[str, Any]] = {
    DocumentKind.BILL: {"reimbursable": {"export_type": "bill"}, "employee_as": "vendor"},
    DocumentKind.EXPENSE_REPORT: {},
    DocumentKind.JOURNAL_ENTRY: {
        "reimbursable": {"export_type": "journal_entry"},
        "defaults": {"journal_credit_account": "2000"},
    },
}


def test_the_fixture_rates_drift_when_applied_to_the_spent_amounts() -> None:
    """The premise: at the six-place rate the spent amounts do not add up to what was booked."""
    for currency in ("EUR", "GBP", "JPY"):
        items = fyle_expenses(currency)
        rate = items[0].exchange_rate
        assert rate is not None and {item.exchange_rate for item in items} == {rate}
        converted = sum(((item.foreign_amount or Decimal(0)) * rate).quantize(Decimal("0.01")) for item in items)
        assert converted != sum(item.amount for item in items), currency


@pytest.mark.parametrize("currency", ["EUR", "GBP", "JPY"])
@pytest.mark.parametrize("kind", list(KINDS))
def test_original_currency_lines_carry_the_booked_amounts_to_the_cent(kind: DocumentKind, currency: str) -> None:
    items = fyle_expenses(currency)
    document = build(kind, items, **KINDS[kind])

    assert (document.currency, document.base_currency) == (currency, "USD")
    debits = [line for line in document.lines if line.debit]
    assert [line.base_amount for line in debits] == [item.amount for item in items]
    assert gross_total(document) == sum((item.foreign_amount or Decimal(0) for item in items), Decimal(0))
    if kind is DocumentKind.JOURNAL_ENTRY:
        credits = [line for line in document.lines if not line.debit]
        assert [line.base_amount for line in credits] == [line.base_amount for line in debits]
        assert is_balanced(document)


@pytest.mark.parametrize("kind", list(KINDS))
def test_booked_documents_state_their_currency_and_need_no_base_amounts(kind: DocumentKind) -> None:
    document = build(kind, fyle_expenses("USD"), **KINDS[kind])

    assert (document.currency, document.base_currency) == ("USD", "USD")
    assert {line.base_amount for line in document.lines} == {None}


def test_a_document_booked_in_a_foreign_currency_names_it_as_its_base() -> None:
    """A Fyle org keeping its books in EUR, exporting as booked: the document is in EUR and says so."""
    items = [expense(amount=Decimal("10.00"), currency="EUR")]
    document = build_document(
        kind=DocumentKind.EXPENSE_REPORT,
        expenses=items,
        settings=settings(),
        mappings=TABLE,
        reference="ll-eur",
        export_day=EXPORT_DAY,
        vocabulary=INTACCT,
    )
    assert (document.currency, document.base_currency) == ("EUR", "EUR")


def test_yen_amounts_and_their_tax_are_whole_yen() -> None:
    item = expense(
        amount=Decimal("823.61"),
        foreign_amount=Decimal("123457"),
        foreign_currency="JPY",
        exchange_rate=Decimal("0.006671"),
        tax_amount=Decimal("74.87"),
        tax_group="VAT10",
    )
    document = build(DocumentKind.BILL, [item], tax=True, **KINDS[DocumentKind.BILL])

    [line] = document.lines
    assert line.tax_amount is not None
    assert line.amount == line.amount.to_integral_value() and line.tax_amount == line.tax_amount.to_integral_value()
    assert line.amount + line.tax_amount == Decimal("123457")
    assert line.tax_amount == Decimal("11223")
    assert line.base_amount == Decimal("823.61")


def test_a_card_transaction_in_yen_carries_the_booked_dollars() -> None:
    items = fyle_expenses("JPY", is_reimbursable=False, corporate_card_id="card-9", merchant="Lawson", report_id=None)
    document = build(
        DocumentKind.CHARGE_CARD_TRANSACTION,
        items[:1],
        card={"export_type": "charge_card_transaction"},
        defaults={"charge_card_account": "CC-9"},
    )
    assert (document.currency, document.base_currency) == ("JPY", "USD")
    assert [(line.amount, line.base_amount) for line in document.lines] == [(Decimal("123457"), Decimal("823.61"))]


def test_a_payment_is_in_the_paid_documents_currency_with_its_base() -> None:
    bill = build(DocumentKind.BILL, fyle_expenses("EUR"), **KINDS[DocumentKind.BILL])
    paying = settings(
        currency="original",
        reimbursable={"export_type": "bill"},
        employee_as="vendor",
        defaults={"payment_account": "BANK-1"},
    )
    payment = build_payment(paid=bill, paid_remote_id="77", reference="pay", paid_on=EXPORT_DAY, settings=paying)

    assert (payment.currency, payment.base_currency) == ("EUR", "USD")
    assert payment.total == Decimal("72222.21")
    assert [line.base_amount for line in payment.lines] == [Decimal("78226.31")]


def test_a_document_stored_before_base_amounts_were_recorded_has_not_drifted_when_booked() -> None:
    """Documents written down before this change lack `base_currency` and `base_amount`: as booked, nothing differs."""
    document = build(DocumentKind.BILL, fyle_expenses("USD"), **KINDS[DocumentKind.BILL])
    stored = document_to_json(document)
    stored.pop("base_currency")
    for line in stored["lines"]:
        line.pop("base_amount")

    assert document_drift(stored, document, None) is None
    foreign = build(DocumentKind.BILL, fyle_expenses("EUR"), **KINDS[DocumentKind.BILL])
    stored_foreign = {**document_to_json(foreign), "base_currency": None}
    assert "base_currency" in (document_drift(stored_foreign, foreign, None) or "")


@pytest.mark.parametrize("currency", list(SPENT))
def test_a_document_written_down_comes_back_with_its_base_amounts(currency: str) -> None:
    document = build(DocumentKind.JOURNAL_ENTRY, fyle_expenses(currency), **KINDS[DocumentKind.JOURNAL_ENTRY])
    assert document_from_json(json.loads(json.dumps(document_to_json(document)))) == document
