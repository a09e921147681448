"""A canonical `Document` → the Intacct function that creates it, and where each kind keeps its reference.

Bills, journal entries and AP payments use the generic `create` (upper-case objects, any field order); expense
reports, card transactions and reimbursements use the legacy lower-case functions, whose DTD fixes the order of
elements, so those are written in that order. Every document stores its reference in a field `query` can filter
on (`REFERENCES`), because the reference is how an orphan from a lost answer is found again.
"""

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from xml.etree.ElementTree import Element, SubElement

from connectors.intacct.constants import (
    BASE_ROUNDING,
    DATE_FORMAT,
    DEFAULT_JOURNAL,
    EXPENSE_REPORT_STATE,
    LINE_MEMO_MAX_LENGTH,
    PAYMENT_METHOD,
    SYSTEM,
    UDD_FIELD_PREFIX,
)
from connectors.intacct.dimensions import udd_object_name
from connectors.intacct.envelope import optional_element, text_element
from connectors.intacct.rates import rate_for
from connectors.spec import DocumentSpec, load_spec
from core.currencies import in_minor_units, minor_unit
from core.domain import Document, DocumentKind, DocumentLine
from core.errors import ValidationError
from core.traces import traced

REFERENCES: dict[DocumentKind, DocumentSpec] = {document.kind: document for document in load_spec(SYSTEM).documents}
"""Where each kind of document lives (its object), the field holding our reference, its record URL field: the
spec's declarations."""

GENERIC_DIMENSIONS = {
    "location": "LOCATIONID",
    "department": "DEPARTMENTID",
    "project": "PROJECTID",
    "customer": "CUSTOMERID",
    "vendor": "VENDORID",
    "employee": "EMPLOYEEID",
    "item": "ITEMID",
    "class": "CLASSID",
}
"""Line dimension type → field of an APBILLITEM (and, lower-cased, of a legacy expense or card line)."""
JOURNAL_DIMENSIONS = {**GENERIC_DIMENSIONS, "location": "LOCATION", "department": "DEPARTMENT"}
"""GLENTRY names location and department without the ID suffix."""
LEGACY_DIMENSIONS = {kind: field.lower() for kind, field in GENERIC_DIMENSIONS.items()}


def amount(value: Decimal, currency: str) -> str:
    """An amount as written in `currency`: cents, whole yen."""
    return f"{in_minor_units(value, currency):f}"


def day(value: date) -> str:
    return value.strftime(DATE_FORMAT)


def legacy_day(parent: Element, tag: str, value: date) -> None:
    element = SubElement(parent, tag)
    text_element(element, "year", str(value.year))
    text_element(element, "month", str(value.month))
    text_element(element, "day", str(value.day))


def _line_memo(line: DocumentLine) -> str | None:
    """The line memo, naming every source expense of the line: Intacct keeps it, so an auditor (and the books check,
    `books.py`) finds the expense behind each posted line there, whatever the tenant's memo template says."""
    return traced(line.description, line.source_ids)[:LINE_MEMO_MAX_LENGTH] or None


def _invalid(document: Document, problem: str) -> ValidationError:
    return ValidationError(
        f"{document.kind.value} {document.reference}: {problem}",
        code="invalid_document",
        hint="Fix the mapping or export settings that build this document, then replay it.",
    )


def _require(document: Document, value: str | None, what: str) -> str:
    if not value:
        raise _invalid(document, f"{what} is missing.")
    return value


def _dimensions(document: Document, parent: Element, line: DocumentLine, fields: dict[str, str]) -> None:
    """Standard dimensions in the fields' order, then user-defined ones as `GLDIM<NAME>`."""
    for kind, field in fields.items():
        optional_element(parent, field, line.dimensions.get(kind))
    for kind, value in line.dimensions.items():
        udd = udd_object_name(kind)
        if udd is not None:
            text_element(parent, f"{UDD_FIELD_PREFIX}{udd}", value)
        elif kind not in fields:
            raise _invalid(document, f"a line names the dimension {kind!r}, which Sage Intacct does not have.")


def _tax(parent: Element, document: Document, line: DocumentLine, *, upper: bool) -> None:
    if not line.tax_code:
        return
    tag = str.upper if upper else str.lower
    entry = SubElement(SubElement(parent, tag("TAXENTRIES")), tag("TAXENTRY"))
    text_element(entry, tag("DETAILID"), line.tax_code)
    if line.tax_amount is not None:
        text_element(entry, tag("TRX_TAX"), amount(line.tax_amount, document.currency))


def _rate(document: Document, lines: tuple[DocumentLine, ...] | list[DocumentLine]) -> Decimal | None:
    """The rate at which `lines` (each net and tax) convert to their booked base amounts in Intacct.

    A document in its base currency needs none. One stored before base amounts were recorded keeps the source's
    rate, as it was first sent. `ValidationError` when no rate gives the booked amounts (rare: lines whose rounding
    moves together, in one bill)."""
    if document.base_currency is not None and not document.is_foreign:
        return None
    if document.base_currency is None or any(line.base_amount is None for line in lines):
        return document.exchange_rate
    pieces = [piece for line in lines for piece in (line.amount, line.tax_amount or Decimal(0))]
    booked = sum((line.base_amount or Decimal(0) for line in lines), Decimal(0))
    rate = rate_for(pieces, booked, minor_unit(document.base_currency))
    if rate is None:
        raise ValidationError(
            f"{document.kind.value} {document.reference}: no exchange rate converts its {document.currency} amounts "
            f"to the {booked:f} {document.base_currency} they were booked at.",
            code="invalid_document",
            hint="Export these expenses one per document (group by expense), or in the booked currency.",
        )
    return rate


def _converted(value: Decimal, rate: Decimal, currency: str) -> Decimal:
    """`value` converted as Intacct converts it: times the rate, rounded (half up) to the unit of `currency`."""
    return (value * rate).quantize(minor_unit(currency), rounding=BASE_ROUNDING)


def _currency_fields(parent: Element, document: Document, rate: Decimal | None) -> None:
    """A bill's currency fields: its currency, the base currency when they differ, and the rate between them."""
    text_element(parent, "CURRENCY", document.currency)
    if document.is_foreign:
        optional_element(parent, "BASECURR", document.base_currency)
    if rate is not None:
        text_element(parent, "EXCH_RATE_DATE", day(document.transaction_date))
        text_element(parent, "EXCHANGE_RATE", f"{rate:f}")


def bill(document: Document, supdoc_id: str | None) -> Element:
    create = Element("create")
    element = SubElement(create, "APBILL")
    text_element(element, "WHENCREATED", day(document.transaction_date))
    text_element(element, "VENDORID", _require(document, document.counterparty, "the vendor"))
    text_element(element, "RECORDID", document.reference)
    optional_element(element, "DESCRIPTION", document.memo)
    text_element(element, "WHENDUE", day(document.due_date or document.transaction_date))
    _currency_fields(element, document, _rate(document, document.lines))
    optional_element(element, "SUPDOCID", supdoc_id)
    items = SubElement(element, "APBILLITEMS")
    for line in document.lines:
        item = SubElement(items, "APBILLITEM")
        text_element(item, "ACCOUNTNO", _require(document, line.account, "a line's GL account"))
        text_element(item, "TRX_AMOUNT", amount(line.amount, document.currency))
        optional_element(item, "ENTRYDESCRIPTION", _line_memo(line))
        _dimensions(document, item, line, GENERIC_DIMENSIONS)
        _tax(item, document, line, upper=True)
    return create


def journal_entry(document: Document, supdoc_id: str | None) -> Element:
    create = Element("create")
    element = SubElement(create, "GLBATCH")
    text_element(element, "JOURNAL", document.journal or DEFAULT_JOURNAL)
    text_element(element, "BATCH_DATE", day(document.transaction_date))
    text_element(element, "BATCH_TITLE", document.memo or document.reference)
    text_element(element, "REFERENCENO", document.reference)
    optional_element(element, "SUPDOCID", supdoc_id)
    entries = SubElement(element, "ENTRIES")
    for line in document.lines:
        entry = SubElement(entries, "GLENTRY")
        text_element(entry, "ACCOUNTNO", _require(document, line.account, "a line's GL account"))
        text_element(entry, "TR_TYPE", "1" if line.debit else "-1")
        text_element(entry, "TRX_AMOUNT", amount(line.amount, document.currency))
        # every line states its currency (else Intacct takes it for the base currency), and converts at its own rate
        text_element(entry, "CURRENCY", document.currency)
        rate = _rate(document, [line])
        if rate is not None:
            text_element(entry, "EXCH_RATE_DATE", day(document.transaction_date))
            text_element(entry, "EXCHANGE_RATE", f"{rate:f}")
        optional_element(entry, "DESCRIPTION", _line_memo(line))
        _dimensions(document, entry, line, JOURNAL_DIMENSIONS)
        _tax(entry, document, line, upper=True)
    return create


def _expense_or_account(document: Document, parent: Element, line: DocumentLine, *, type_tag: str) -> None:
    if line.expense_type:
        text_element(parent, type_tag, line.expense_type)
    else:
        text_element(parent, "glaccountno", _require(document, line.account, "a line's expense type or account"))


def _spent_in(expense: Element, document: Document, line: DocumentLine) -> None:
    """A line's `amount` in the report's currency and, spent in another, that currency, its amount and the rate."""
    rate = _rate(document, [line])
    if not document.is_foreign or rate is None:
        text_element(expense, "amount", amount(line.amount, document.currency))
        return
    assert document.base_currency is not None  # is_foreign says so
    text_element(
        expense, "amount", amount(_converted(line.amount, rate, document.base_currency), document.base_currency)
    )
    text_element(expense, "currency", document.currency)
    text_element(expense, "trx_amount", amount(line.amount, document.currency))
    legacy_day(expense, "exchratedate", document.transaction_date)
    text_element(expense, "exchrate", f"{rate:f}")


def expense_report(document: Document, supdoc_id: str | None) -> Element:
    """An expense report, reimbursed in the currency the source booked: lines spent in another currency carry it,
    their amount in it and their own rate, besides the amount reimbursed (`amount`, what the source booked)."""
    element = Element("create_expensereport")
    text_element(element, "employeeid", _require(document, document.counterparty, "the employee"))
    legacy_day(element, "datecreated", document.transaction_date)
    text_element(element, "state", EXPENSE_REPORT_STATE)
    text_element(element, "description", document.reference)
    optional_element(element, "memo", document.memo)
    if document.is_foreign:
        optional_element(element, "basecurr", document.base_currency)
    text_element(element, "currency", document.base_currency if document.is_foreign else document.currency)
    optional_element(element, "supdocid", supdoc_id)
    expenses = SubElement(element, "expenses")
    for line in document.lines:
        expense = SubElement(expenses, "expense")
        _expense_or_account(document, expense, line, type_tag="expensetype")
        _spent_in(expense, document, line)
        legacy_day(expense, "expensedate", line.spent_on or document.transaction_date)
        optional_element(expense, "memo", _line_memo(line))
        _dimensions(document, expense, line, LEGACY_DIMENSIONS)
        _tax(expense, document, line, upper=False)
    return element


def charge_card_transaction(document: Document, supdoc_id: str | None) -> Element:
    element = Element("record_cctransaction")
    text_element(element, "chargecardid", _require(document, document.account, "the charge card account"))
    legacy_day(element, "paymentdate", document.transaction_date)
    text_element(element, "referenceno", document.reference)
    optional_element(element, "payee", document.counterparty)
    optional_element(element, "description", document.memo)
    optional_element(element, "supdocid", supdoc_id)
    text_element(element, "currency", document.currency)
    rate = _rate(document, document.lines)
    if rate is not None:
        text_element(element, "exchrate", f"{rate:f}")
    items = SubElement(element, "ccpayitems")
    for line in document.lines:
        item = SubElement(items, "ccpayitem")
        _expense_or_account(document, item, line, type_tag="accountlabel")
        optional_element(item, "description", _line_memo(line))
        text_element(item, "paymentamount", amount(line.amount, document.currency))
        _dimensions(document, item, line, LEGACY_DIMENSIONS)
        _tax(item, document, line, upper=False)
    return element


def payment(document: Document, supdoc_id: str | None) -> Element:
    """An AP payment of one bill (`applies_to` = its RECORDNO) from a bank or card account, in the bill's currency."""
    create = Element("create")
    element = SubElement(create, "APPYMT")
    text_element(element, "FINANCIALENTITY", _require(document, document.account, "the bank account"))
    text_element(element, "PAYMENTMETHOD", PAYMENT_METHOD)
    text_element(element, "VENDORID", _require(document, document.counterparty, "the vendor"))
    text_element(element, "DESCRIPTION", document.reference)
    text_element(element, "CURRENCY", document.currency)
    if document.is_foreign:
        optional_element(element, "BASECURR", document.base_currency)
    text_element(element, "PAYMENTDATE", day(document.transaction_date))
    detail = SubElement(SubElement(element, "APPYMTDETAILS"), "APPYMTDETAIL")
    text_element(detail, "RECORDKEY", _require(document, document.applies_to, "the bill being paid"))
    text_element(detail, "TRX_PAYMENTAMOUNT", amount(document.total, document.currency))
    return create


def reimbursement(document: Document, supdoc_id: str | None) -> Element:
    """A reimbursement of one expense report (`applies_to` = its RECORDNO) from a checking account, in the report's
    (reimbursement) currency: the function names none."""
    element = Element("create_reimbursementrequest")
    text_element(element, "bankaccountid", _require(document, document.account, "the checking account"))
    text_element(element, "employeeid", _require(document, document.counterparty, "the employee"))
    text_element(element, "memo", document.reference)
    text_element(element, "paymentmethod", PAYMENT_METHOD)
    legacy_day(element, "paymentdate", document.transaction_date)
    item = SubElement(SubElement(element, "eppaymentrequestitems"), "eppaymentrequestitem")
    text_element(item, "key", _require(document, document.applies_to, "the expense report being reimbursed"))
    text_element(item, "paymentamount", amount(document.total, document.currency))
    return element


BUILDERS: dict[DocumentKind, Callable[[Document, str | None], Element]] = {
    DocumentKind.BILL: bill,
    DocumentKind.EXPENSE_REPORT: expense_report,
    DocumentKind.JOURNAL_ENTRY: journal_entry,
    DocumentKind.CHARGE_CARD_TRANSACTION: charge_card_transaction,
    DocumentKind.PAYMENT: payment,
    DocumentKind.REIMBURSEMENT: reimbursement,
}


def document_body(document: Document, supdoc_id: str | None) -> Element:
    """The function body creating `document`; `ValidationError` if it cannot be valid as built."""
    if not document.lines:
        raise _invalid(document, "it has no lines.")
    if document.attachments and not REFERENCES[document.kind].takes_attachments:
        raise _invalid(document, "Sage Intacct cannot attach files to this kind of document.")
    return BUILDERS[document.kind](document, supdoc_id)
