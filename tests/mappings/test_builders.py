"""Each kind of document, built from known expenses: what lands where, and what is refused."""

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from core.domain import Document, DocumentKind, Expense
from core.errors import MappingError, ValidationError
from mappings import MappingTable, MissingMappingsError, build_document, build_payment, is_balanced
from mappings.totals import gross_total
from tests.mappings.factories import EXPORT_DAY, expense, mapped_everything, settings
from tests.vocabularies import INTACCT, QUICKBOOKS

TABLE = MappingTable.of(
    [
        ("category", "Travel", "account", "6000"),
        ("category", "Meals", "account", "6100"),
        ("category", "Travel", "expense_type", "ET-TRAVEL"),
        ("category", "Meals", "expense_type", "ET-MEALS"),
        ("employee", "ada@example.com", "employee", "E-ADA"),
        ("employee", "ada@example.com", "vendor", "V-ADA"),
        ("project", "Apollo", "project", "P-APOLLO"),
        ("cost_center", "R&D", "department", "D-RD"),
        ("tax_group", "VAT20", "tax_detail", "T-VAT20"),
        ("corporate_card", "card-9", "charge_card_account", "CC-9"),
    ]
)


def _build(kind: DocumentKind, expenses: list[Expense], **overrides: Any) -> Document:
    return build_document(
        kind=kind,
        expenses=expenses,
        settings=settings(**overrides),
        mappings=TABLE,
        reference="ll-abc",
        export_day=EXPORT_DAY,
        vocabulary=INTACCT,
    )


def test_an_expense_report_books_expense_types_for_the_mapped_employee() -> None:
    first = expense(id="e1", amount=Decimal("10.00"), category="Travel", file_ids=("f1",))
    second = expense(id="e2", amount=Decimal("5.25"), category="Meals", file_ids=("f1", "f2"))
    document = _build(DocumentKind.EXPENSE_REPORT, [second, first])
    assert document.counterparty == "E-ADA"
    assert [line.expense_type for line in document.lines] == ["ET-TRAVEL", "ET-MEALS"]
    assert {line.account for line in document.lines} == {None}
    assert gross_total(document) == Decimal("15.25")
    assert document.attachment_ids == ("f1", "f2")
    assert document.reference == "ll-abc"
    assert document.memo == "Reimbursable expenses of ada@example.com - report rp1"


def test_a_bill_books_accounts_for_the_employee_as_vendor_with_dimensions_and_defaults() -> None:
    item = expense(project="Apollo", cost_center="R&D")
    document = _build(
        DocumentKind.BILL,
        [item],
        reimbursable={"export_type": "bill"},
        employee_as="vendor",
        dimensions=[
            {"source": "project", "destination": "project"},
            {"source": "cost_center", "destination": "department"},
        ],
        defaults={"dimensions": {"location": "L-HQ", "department": "D-DEFAULT"}},
    )
    (line,) = document.lines
    assert document.counterparty == "V-ADA"
    assert line.account == "6000"
    assert line.dimensions == {"location": "L-HQ", "department": "D-RD", "project": "P-APOLLO"}
    assert line.source_ids == (item.id,)


def test_a_journal_entry_balances_and_names_the_employee_on_both_sides() -> None:
    items = [expense(id="e1", amount=Decimal("100.00")), expense(id="e2", amount=Decimal("20.10"), category="Meals")]
    document = _build(
        DocumentKind.JOURNAL_ENTRY,
        items,
        reimbursable={"export_type": "journal_entry"},
        defaults={"journal_credit_account": "2000"},
    )
    assert is_balanced(document)
    assert [(line.account, line.debit, line.amount) for line in document.lines] == [
        ("6000", True, Decimal("100.00")),
        ("2000", False, Decimal("100.00")),
        ("6100", True, Decimal("20.10")),
        ("2000", False, Decimal("20.10")),
    ]
    assert all(line.dimensions["employee"] == "E-ADA" for line in document.lines)
    assert document.counterparty is None


def test_a_refund_in_a_journal_swaps_sides_instead_of_posting_a_negative_amount() -> None:
    items = [expense(id="e1", amount=Decimal("100.00")), expense(id="e2", amount=Decimal("-30.00"))]
    document = _build(
        DocumentKind.JOURNAL_ENTRY,
        items,
        reimbursable={"export_type": "journal_entry"},
        defaults={"journal_credit_account": "2000"},
    )
    refund = [line for line in document.lines if line.source_ids == ("e2",)]
    assert [(line.account, line.debit, line.amount) for line in refund] == [
        ("6000", False, Decimal("30.00")),
        ("2000", True, Decimal("30.00")),
    ]
    assert is_balanced(document)


def test_a_card_transaction_uses_the_cards_own_account_and_the_merchant_as_payee() -> None:
    card = expense(is_reimbursable=False, corporate_card_id="card-9", merchant="Hilton", report_id=None)
    other = expense(is_reimbursable=False, corporate_card_id="card-1", merchant="Uber", report_id=None)
    overrides = {"card": {"export_type": "charge_card_transaction"}, "defaults": {"charge_card_account": "CC-DEF"}}
    mapped = _build(DocumentKind.CHARGE_CARD_TRANSACTION, [card], **overrides)
    defaulted = _build(DocumentKind.CHARGE_CARD_TRANSACTION, [other], **overrides)
    assert (mapped.account, mapped.counterparty) == ("CC-9", "Hilton")
    assert (defaulted.account, defaulted.counterparty) == ("CC-DEF", "Uber")
    assert mapped.lines[0].account == "6000"


def test_card_bills_go_to_the_card_vendor() -> None:
    card = expense(is_reimbursable=False, corporate_card_id="card-1")
    document = _build(DocumentKind.BILL, [card], card={"export_type": "bill"}, defaults={"card_vendor": "V-AMEX"})
    assert document.counterparty == "V-AMEX"


def test_tax_is_split_out_of_the_line_and_kept_whole() -> None:
    item = expense(amount=Decimal("120.00"), tax_group="VAT20", tax_amount=Decimal("20.00"))
    document = _build(DocumentKind.EXPENSE_REPORT, [item], tax=True)
    (line,) = document.lines
    assert (line.amount, line.tax_amount, line.tax_code) == (Decimal("100.00"), Decimal("20.00"), "T-VAT20")
    assert gross_total(document) == Decimal("120.00")
    untaxed = _build(DocumentKind.EXPENSE_REPORT, [item], tax=False)
    assert (untaxed.lines[0].amount, untaxed.lines[0].tax_code) == (Decimal("120.00"), None)


def test_more_tax_than_amount_is_a_validation_error() -> None:
    item = expense(amount=Decimal("10.00"), tax_group="VAT20", tax_amount=Decimal("12.00"))
    with pytest.raises(ValidationError, match="more tax"):
        _build(DocumentKind.EXPENSE_REPORT, [item], tax=True)


def test_original_currency_exports_foreign_amounts_with_the_exchange_rate() -> None:
    item = expense(
        amount=Decimal("108.00"),
        foreign_amount=Decimal("100.00"),
        foreign_currency="EUR",
        exchange_rate=Decimal("1.08"),
    )
    foreign = _build(DocumentKind.EXPENSE_REPORT, [item], currency="original")
    booked = _build(DocumentKind.EXPENSE_REPORT, [item])
    assert (foreign.currency, foreign.exchange_rate, gross_total(foreign)) == (
        "EUR",
        Decimal("1.08"),
        Decimal("100.00"),
    )
    assert (booked.currency, booked.exchange_rate, gross_total(booked)) == ("USD", None, Decimal("108.00"))


def test_mixed_currencies_in_one_document_are_refused() -> None:
    with pytest.raises(ValidationError, match="currencies"):
        _build(DocumentKind.EXPENSE_REPORT, [expense(currency="USD"), expense(currency="EUR")])


def test_one_mapping_error_names_every_missing_mapping_of_the_group() -> None:
    items = [
        expense(id="e1", category="Parking", project="Zeus"),
        expense(id="e2", category="Parking", employee_email="Bob@Example.com"),
        expense(id="e3", category="Travel", project="Apollo"),
    ]
    with pytest.raises(MappingError) as caught:
        _build(DocumentKind.EXPENSE_REPORT, items, dimensions=[{"source": "project", "destination": "project"}])
    error = caught.value
    assert isinstance(error, MissingMappingsError)
    assert error.missing == [
        ("category", "Parking"),
        ("employee", "bob@example.com"),
        ("project", "Zeus"),
    ]
    parking = next(item for item in error.details if item.source_value == "Parking")
    assert parking.expense_ids == ("e1", "e2")
    assert parking.destination_type == "expense_type"
    assert "3 mappings are missing" in error.message


def test_the_document_date_follows_the_settings() -> None:
    items = [
        expense(id="e1", spent_on=date(2026, 4, 2), approved_at=datetime(2026, 4, 9, tzinfo=UTC)),
        expense(id="e2", spent_on=date(2026, 4, 7), approved_at=datetime(2026, 4, 9, tzinfo=UTC)),
    ]

    def on(rule: str) -> date:
        return _build(DocumentKind.EXPENSE_REPORT, items, reimbursable={"date": rule}).transaction_date

    assert on("last_spent") == date(2026, 4, 7)
    assert on("approved") == date(2026, 4, 9)
    assert on("export_day") == EXPORT_DAY


def test_memo_templates_render_only_known_fields() -> None:
    item = expense(purpose="Client visit", merchant="Hilton")
    document = _build(
        DocumentKind.EXPENSE_REPORT,
        [item],
        memo={"line": "{merchant}: {purpose} ({amount} {currency})", "document": "Report {report_id} x{expense_count}"},
    )
    assert document.lines[0].description == "Hilton: Client visit (42.50 USD)"
    assert document.memo == "Report rp1 x1"


def test_a_bill_with_nothing_to_post_is_refused() -> None:
    with pytest.raises(ValidationError, match="nothing to post"):
        _build(
            DocumentKind.BILL,
            [expense(amount=Decimal("-5.00"))],
            reimbursable={"export_type": "bill"},
            employee_as="vendor",
        )


def test_a_payment_pays_the_bill_in_full_from_the_payment_account() -> None:
    item = expense(amount=Decimal("120.00"), tax_group="VAT20", tax_amount=Decimal("20.00"))
    bill_settings = settings(reimbursable={"export_type": "bill"}, employee_as="vendor", tax=True)
    bill = build_document(
        kind=DocumentKind.BILL,
        expenses=[item],
        settings=bill_settings,
        mappings=mapped_everything([item], bill_settings),
        reference="ll-bill",
        export_day=EXPORT_DAY,
        vocabulary=INTACCT,
    )
    paying = settings(
        reimbursable={"export_type": "bill"}, employee_as="vendor", defaults={"payment_account": "BANK-1"}
    )
    payment = build_payment(
        paid=bill, paid_remote_id="REC-77", reference="ll-pay", paid_on=date(2026, 6, 1), settings=paying
    )
    assert payment.kind is DocumentKind.PAYMENT
    assert (payment.applies_to, payment.account, payment.counterparty) == ("REC-77", "BANK-1", bill.counterparty)
    assert payment.total == Decimal("120.00")
    with pytest.raises(ValidationError, match="payment account"):
        build_payment(paid=bill, paid_remote_id="REC-77", reference="x", paid_on=EXPORT_DAY, settings=bill_settings)


def test_a_check_pays_the_employee_from_the_payment_account_and_books_accounts() -> None:
    """QuickBooks' checks: the employee (as the vendor they are mapped to) is the payee, the bank account the
    settings name is what pays, and the lines book accounts."""
    first, second = expense(id="e1", category="Travel"), expense(id="e2", amount=Decimal("5.25"), category="Meals")
    document = build_document(
        kind=DocumentKind.CHECK,
        expenses=[first, second],
        settings=settings(
            reimbursable={"export_type": "check"}, employee_as="vendor", defaults={"payment_account": "BANK-1"}
        ),
        mappings=TABLE,
        reference="ll-check",
        export_day=EXPORT_DAY,
        vocabulary=QUICKBOOKS,
    )
    assert (document.counterparty, document.account) == ("V-ADA", "BANK-1")
    assert [line.account for line in document.lines] == ["6000", "6100"]


def test_checks_without_a_bank_account_to_write_them_from_are_refused_on_save() -> None:
    with pytest.raises(ValueError, match=r"defaults\.payment_account"):
        settings(reimbursable={"export_type": "check"})
