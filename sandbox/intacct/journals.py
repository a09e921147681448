"""General ledger journal entries (GLBATCH with ENTRIES/GLENTRY lines): balanced or refused.

Each line has its own currency (the base currency when it names none) and rate; an entry must balance in every
transaction currency and in the base currency."""

from decimal import Decimal
from xml.etree.ElementTree import Element

from sandbox.intacct.constants import JOURNALS
from sandbox.intacct.context import Context
from sandbox.intacct.currencies import conversion, money
from sandbox.intacct.documents import line_rows, store_document
from sandbox.intacct.errors import business, missing_field
from sandbox.intacct.seed import Record
from sandbox.intacct.validation import JOURNAL_DIMENSIONS, Checker, base_currency
from sandbox.intacct.values import format_amount, format_date

DEBIT, CREDIT = "1", "-1"
BASE = ""
"""The key of base-currency totals (no currency code is empty)."""


def create_journal(ctx: Context, element: Element) -> Record:
    check = Checker(ctx, "GLBatch")
    journal = check.text(element, "JOURNAL", required=True)
    if journal and journal not in JOURNALS:
        check.fail(business(f"Invalid Journal {journal}", f"Use one of the journals: {', '.join(JOURNALS)}."))
    batch_date = check.date_of(element, "BATCH_DATE")
    title = check.text(element, "BATCH_TITLE", required=True)
    lines = element.findall("ENTRIES/GLENTRY")
    if not lines:
        check.fail(missing_field("ENTRIES", "GLBatch"))
    base = base_currency(ctx)
    sides: dict[tuple[str, str], Decimal] = {}
    """(side, currency) → total: every line counts in its own currency and, as `base`, in the base currency."""
    converted = []
    for line in lines:
        account = check.text(line, "ACCOUNTNO", required=True)
        if account:
            check.reference("GLACCOUNT", account, "Account")
        side = check.text(line, "TR_TYPE", required=True)
        if side and side not in (DEBIT, CREDIT):
            check.fail(business(f"Invalid TR_TYPE '{side}'", "Use 1 for a debit and -1 for a credit."))
        converting = conversion(
            check, line, currency_tag="CURRENCY", rate_tag="EXCHANGE_RATE", type_tag="EXCH_RATE_TYPE_ID", base=base
        )
        amount = money(check, line, "TRX_AMOUNT", converting.currency)
        converted.append(converting.line(amount or Decimal(0)))
        if amount is not None and amount < 0:
            check.fail(business(f"TRX_AMOUNT {amount} must not be negative", "Use TR_TYPE to choose the side."))
        elif amount is not None and side in (DEBIT, CREDIT):
            for key, value in (((side, BASE), converting.base_of(amount)), ((side, converting.currency), amount)):
                sides[key] = sides.get(key, Decimal(0)) + value
        check.dimensions(line, JOURNAL_DIMENSIONS)
    if lines and not check.errors:
        for currency in dict.fromkeys(currency for _, currency in sides):
            debit, credit = sides.get((DEBIT, currency), Decimal(0)), sides.get((CREDIT, currency), Decimal(0))
            if debit != credit:
                shown = f" in {base}" if currency == BASE else f" in {currency}"
                check.fail(
                    business(
                        f"Debits and credits are not equal: debits {format_amount(debit)}, credits "
                        f"{format_amount(credit)}{'' if currency in (BASE, base) else shown}.",
                        "Balance the entry so that the debits equal the credits.",
                    )
                )
                break
    check.open_period(batch_date)
    check.done()
    assert batch_date is not None  # done() refused a missing or invalid date
    batch_no = str(len(ctx.store.tables["GLBATCH"]) + 1)
    return store_document(
        ctx,
        "GLBATCH",
        {
            "BATCHNO": batch_no,
            "JOURNAL": journal,
            "BATCH_DATE": format_date(batch_date),
            "BATCH_TITLE": title,
            "REFERENCENO": check.text(element, "REFERENCENO"),
            "STATE": check.text(element, "STATE") or "Posted",
            "SUPDOCID": check.text(element, "SUPDOCID"),
            "TAXIMPLICATIONS": check.text(element, "TAXIMPLICATIONS"),
            "WHENCREATED": format_date(batch_date),
        },
        tuple({**row, **line} for row, line in zip(line_rows(lines), converted, strict=True)),
    )
