"""Document builders: pure functions from a group's expenses, the settings and the mappings to one `Document`.

No I/O and no clock (the export day is an argument), so they are cheap to call for a preview and easy to prove
things about: lines add up to the expenses to the cent, journal entries balance, every mapping a group lacks is
named in one `MappingError`.
"""

from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import TypeVar

from core.currencies import minor_unit
from core.destination_vocabulary import DestinationVocabulary
from core.domain import Document, DocumentKind, DocumentLine, Expense
from core.errors import ValidationError
from mappings.amounts import allocate_in, to_unit
from mappings.constants import ZERO, Fund
from mappings.mapping_table import MappingTable
from mappings.memo import MemoTemplate, document_values, line_values
from mappings.requirements import carries_tax, counterparty_destination, fund_of
from mappings.resolution import ResolvedExpense, resolve_group
from mappings.settings import ExportSettings
from mappings.terms import document_currency, document_date, source_amount, source_tax
from mappings.totals import gross_total

PAYMENT_KINDS = {DocumentKind.BILL: DocumentKind.PAYMENT, DocumentKind.EXPENSE_REPORT: DocumentKind.REIMBURSEMENT}
"""What pays each kind of document: an AP payment pays a bill, a reimbursement pays an expense report."""

T = TypeVar("T")
_SETTINGS_HINT = "Change the export settings (or the grouping) that build this document, then replay it."


def _invalid(reference: str, problem: str, hint: str = _SETTINGS_HINT) -> ValidationError:
    return ValidationError(f"document {reference}: {problem}", code="invalid_document", hint=hint)


def _only(values: Sequence[T], reference: str, what: str) -> T:
    distinct = list(dict.fromkeys(values))
    if len(distinct) != 1:
        raise _invalid(reference, f"its expenses have {len(distinct)} different {what}; a document has one.")
    return distinct[0]


def _tax(
    resolved: ResolvedExpense, gross: Decimal, settings: ExportSettings, reference: str, currency: str
) -> Decimal | None:
    """The line's tax in the currency's unit (cents, whole yen), split out of `gross`; None when it carries no tax."""
    tax = source_tax(resolved.expense, settings)
    if resolved.tax_code is None or tax is None:
        return None
    cents = to_unit(tax, minor_unit(currency))
    if abs(cents) > abs(gross) or (cents * gross) < ZERO:
        raise _invalid(reference, f"expense {resolved.expense.id} has more tax ({cents}) than its amount ({gross}).")
    return cents


def _description(template: MemoTemplate, expense: Expense, amount: Decimal, currency: str) -> str:
    return template.render(line_values(expense, amount=f"{amount:f}", currency=currency))


def _lines(
    resolved: Sequence[ResolvedExpense],
    amounts: Sequence[Decimal],
    bases: Sequence[Decimal | None],
    *,
    kind: DocumentKind,
    settings: ExportSettings,
    currency: str,
    reference: str,
) -> Iterator[DocumentLine]:
    """One line per expense: net of tax when a tax code applies, booked to an account or an expense type."""
    template = settings.memo.line_template()
    taxed = carries_tax(settings, kind)
    for item, gross, base in zip(resolved, amounts, bases, strict=True):
        tax = _tax(item, gross, settings, reference, currency) if taxed else None
        is_report = kind is DocumentKind.EXPENSE_REPORT
        yield DocumentLine(
            amount=gross - (tax or ZERO),
            account=None if is_report else item.category,
            expense_type=item.category if is_report else None,
            description=_description(template, item.expense, gross, currency),
            spent_on=item.expense.spent_on,
            dimensions=item.dimensions,
            tax_code=item.tax_code if tax is not None else None,
            tax_amount=tax,
            source_ids=(item.expense.id,),
            base_amount=base,
        )


def _journal_lines(
    resolved: Sequence[ResolvedExpense],
    amounts: Sequence[Decimal],
    bases: Sequence[Decimal | None],
    *,
    fund: Fund,
    settings: ExportSettings,
    counterparty_type: str | None,
    currency: str,
    reference: str,
) -> Iterator[DocumentLine]:
    """Per expense, the expense account against the credit account (AP, or the card's), for the same amount.

    A negative expense (a refund) swaps the sides instead of posting a negative amount. Reimbursable lines name
    the employee (as the counterparty type it is mapped to) on both sides, so the payable is traceable to the person.
    """
    template = settings.memo.line_template()
    default_credit = (
        settings.defaults.journal_credit_account
        if fund is Fund.REIMBURSABLE
        else settings.defaults.journal_card_credit_account
    )
    for item, amount, base in zip(resolved, amounts, bases, strict=True):
        credit_account = item.card_account or default_credit
        if credit_account is None:
            raise _invalid(reference, f"no account to credit for {fund} journal entries.")
        dimensions = dict(item.dimensions)
        if counterparty_type is not None and item.counterparty is not None:
            dimensions[counterparty_type] = item.counterparty
        # The side follows the amount; one that rounds to nothing takes the side of its base amount, which then
        # still posts against its counter-entry (or the journal would not balance in the base currency).
        debit = amount > ZERO or (amount == ZERO and (base is None or base >= ZERO))
        line = DocumentLine(
            amount=abs(amount),
            account=item.category,
            debit=debit,
            description=_description(template, item.expense, amount, currency),
            spent_on=item.expense.spent_on,
            dimensions=dimensions,
            source_ids=(item.expense.id,),
            base_amount=None if base is None else abs(base),
        )
        yield line
        yield replace(line, account=credit_account, debit=not line.debit)


def _counterparty(
    resolved: Sequence[ResolvedExpense], *, kind: DocumentKind, fund: Fund, settings: ExportSettings, reference: str
) -> str | None:
    if kind is DocumentKind.JOURNAL_ENTRY:
        return None
    if kind is DocumentKind.CHARGE_CARD_TRANSACTION:
        merchants = {item.expense.merchant for item in resolved}
        return merchants.pop() if len(merchants) == 1 else None
    if kind is DocumentKind.BILL and fund is Fund.CARD:
        return settings.defaults.card_vendor
    return _only([item.counterparty for item in resolved], reference, "employees")


def _paying_account(
    resolved: Sequence[ResolvedExpense], *, kind: DocumentKind, settings: ExportSettings, reference: str
) -> str | None:
    """The account money leaves: the card's on a card transaction, the bank account a check is written from."""
    if kind is DocumentKind.CHECK:
        return settings.defaults.payment_account
    if kind is not DocumentKind.CHARGE_CARD_TRANSACTION:
        return None
    accounts = [item.card_account or settings.defaults.charge_card_account for item in resolved]
    return _only(accounts, reference, "charge-card accounts")


def _entity(resolved: Sequence[ResolvedExpense], reference: str) -> str | None:
    """The entity every expense of the group routes to (grouping keeps one routing value per document)."""
    return _only([item.entity for item in resolved], reference, "entities")


def build_document(
    *,
    kind: DocumentKind,
    expenses: Sequence[Expense],
    settings: ExportSettings,
    mappings: MappingTable,
    reference: str,
    export_day: date,
    vocabulary: DestinationVocabulary,
) -> Document:
    """The `kind` document for one group of expenses, identified by `reference` (the item's idempotency key), in
    the destination `vocabulary` describes.

    Raises `MappingError` (a `MissingMappingsError`) naming every missing mapping of the group, and
    `ValidationError` when the group cannot make a valid document (mixed currencies, nothing to post).
    """
    if not expenses:
        raise _invalid(reference, "it has no expenses.")
    ordered = sorted(expenses, key=lambda expense: (expense.spent_on, expense.id))
    fund = _only([fund_of(expense) for expense in ordered], reference, "payers (reimbursable and card)")
    currency, rate = _only([document_currency(expense, settings) for expense in ordered], reference, "currencies")
    booked_in = {expense.currency for expense in ordered}
    base_currency = booked_in.pop() if len(booked_in) == 1 else None
    resolved = resolve_group(ordered, settings=settings, kind=kind, mappings=mappings, vocabulary=vocabulary)
    amounts = allocate_in([source_amount(expense, settings) for expense in ordered], currency)
    # In another currency than booked, each line keeps what the source booked, so that the destination's base
    # figures can be made to equal it to the cent (a rate, rounded, cannot carry that).
    bases: list[Decimal | None] = (
        list(allocate_in([expense.amount for expense in ordered], base_currency))
        if base_currency is not None and currency != base_currency
        else [None] * len(ordered)
    )
    if kind is DocumentKind.JOURNAL_ENTRY:
        lines = tuple(
            _journal_lines(
                resolved,
                amounts,
                bases,
                fund=fund,
                settings=settings,
                counterparty_type=(
                    counterparty_destination(settings, kind, vocabulary) if fund is Fund.REIMBURSABLE else None
                ),
                currency=currency,
                reference=reference,
            )
        )
    else:
        lines = tuple(
            _lines(resolved, amounts, bases, kind=kind, settings=settings, currency=currency, reference=reference)
        )
    fund_settings = settings.fund(fund)
    document = Document(
        kind=kind,
        reference=reference,
        transaction_date=document_date(ordered, fund_settings.date if fund_settings else "spent", export_day),
        currency=currency,
        lines=lines,
        counterparty=_counterparty(resolved, kind=kind, fund=fund, settings=settings, reference=reference),
        memo=settings.memo.document_template().render(document_values(ordered, fund=fund, currency=currency)),
        exchange_rate=rate,
        base_currency=base_currency,
        account=_paying_account(resolved, kind=kind, settings=settings, reference=reference),
        entity=_entity(resolved, reference),
        attachment_ids=tuple(dict.fromkeys(file_id for expense in ordered for file_id in expense.file_ids)),
    )
    if kind is not DocumentKind.JOURNAL_ENTRY and gross_total(document) <= ZERO:
        raise _invalid(reference, f"its total is {gross_total(document)} {currency}; there is nothing to post.")
    return document


def build_payment(
    *, paid: Document, paid_remote_id: str, reference: str, paid_on: date, settings: ExportSettings
) -> Document:
    """The payment of an exported bill (an AP payment) or expense report (a reimbursement), in full."""
    kind = PAYMENT_KINDS.get(paid.kind)
    if kind is None:
        raise _invalid(reference, f"a {paid.kind.value} is not paid through Ledgerline.")
    if settings.defaults.payment_account is None:
        raise _invalid(reference, "no payment account is set.", "Set defaults.payment_account in the export settings.")
    if paid.counterparty is None:
        raise _invalid(reference, f"the paid {paid.kind.value} names no payee.")
    total = gross_total(paid)
    source_ids = tuple(dict.fromkeys(source for line in paid.lines for source in line.source_ids))
    base = sum((line.base_amount or ZERO for line in paid.lines if line.debit), ZERO) if paid.is_foreign else None
    line = DocumentLine(
        amount=total, description=f"Payment of {paid.reference}", source_ids=source_ids, base_amount=base
    )
    return Document(
        kind=kind,
        reference=reference,
        transaction_date=paid_on,
        currency=paid.currency,
        lines=(line,),
        counterparty=paid.counterparty,
        memo=paid.memo,
        exchange_rate=paid.exchange_rate,
        base_currency=paid.base_currency,
        account=settings.defaults.payment_account,
        applies_to=paid_remote_id,
        entity=paid.entity,
    )
