"""General ledger journal entries (GLBATCH with ENTRIES/GLENTRY lines): balanced or refused."""

from decimal import Decimal
from xml.etree.ElementTree import Element

from sandbox.intacct.constants import JOURNALS
from sandbox.intacct.context import Context
from sandbox.intacct.documents import line_rows, store_document
from sandbox.intacct.errors import business, missing_field
from sandbox.intacct.seed import Record
from sandbox.intacct.validation import JOURNAL_DIMENSIONS, Checker
from sandbox.intacct.values import format_amount, format_date

DEBIT, CREDIT = "1", "-1"


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
    debits, credits = Decimal(0), Decimal(0)
    for line in lines:
        account = check.text(line, "ACCOUNTNO", required=True)
        if account:
            check.reference("GLACCOUNT", account, "Account")
        side = check.text(line, "TR_TYPE", required=True)
        if side and side not in (DEBIT, CREDIT):
            check.fail(business(f"Invalid TR_TYPE '{side}'", "Use 1 for a debit and -1 for a credit."))
        amount = check.amount(line, "TRX_AMOUNT")
        if amount is not None and amount < 0:
            check.fail(business(f"TRX_AMOUNT {amount} must not be negative", "Use TR_TYPE to choose the side."))
        elif amount is not None and side == DEBIT:
            debits += amount
        elif amount is not None and side == CREDIT:
            credits += amount
        check.dimensions(line, JOURNAL_DIMENSIONS)
    if lines and not check.errors and debits != credits:
        check.fail(
            business(
                f"Debits and credits are not equal: debits {format_amount(debits)}, credits {format_amount(credits)}.",
                "Balance the entry so that the debits equal the credits.",
            )
        )
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
        line_rows(lines),
    )
