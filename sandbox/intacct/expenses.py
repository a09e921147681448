"""Legacy (lower-case) expense functions: expense reports (EEXPENSES), charge card transactions (CCTRANSACTION)
and reimbursement requests (EPPAYMENT). They answer with `<key>` (the record number), not `data`."""

from decimal import Decimal
from xml.etree.ElementTree import Element

from sandbox.intacct.context import Context, Outcome
from sandbox.intacct.documents import apply_payment, line_rows, store_document
from sandbox.intacct.errors import IntacctError, business, missing_field
from sandbox.intacct.validation import LEGACY_DIMENSIONS, Checker
from sandbox.intacct.values import format_amount, format_date, format_timestamp, parse_decimal

REPORT_STATES = ("Draft", "Submitted")


def _total(amounts: list[Decimal | None]) -> Decimal:
    return sum((amount for amount in amounts if amount is not None), Decimal(0))


def _account_or_type(check: Checker, line: Element, *, type_tag: str, account_tag: str) -> None:
    """A line names either an expense type (which carries its account) or a GL account."""
    expense_type = check.text(line, type_tag)
    account = check.text(line, account_tag)
    if expense_type:
        check.reference("EEACCOUNTLABEL", expense_type, "Expense Type")
    elif account:
        check.reference("GLACCOUNT", account, "Account")
    else:
        check.fail(missing_field(f"{type_tag} or {account_tag}", check.label))


def create_expense_report(ctx: Context, element: Element) -> Outcome:
    check = Checker(ctx, "Expense Report")
    employee_id = check.text(element, "employeeid", required=True)
    if employee_id:
        check.reference("EMPLOYEE", employee_id, "Employee")
    created = check.legacy_date_of(element, "datecreated")
    state = check.text(element, "state") or "Submitted"
    if state not in REPORT_STATES:
        check.fail(business(f"Invalid state '{state}'", "Use Draft or Submitted."))
    currency = check.currency(check.text(element, "currency"))
    lines = element.findall("expenses/expense")
    if not lines:
        check.fail(missing_field("expenses", "Expense Report"))
    amounts = []
    for line in lines:
        _account_or_type(check, line, type_tag="expensetype", account_tag="glaccountno")
        amounts.append(check.amount(line, "amount"))
        payment_type = check.text(line, "exppmttype")
        if payment_type:
            check.reference("EXPENSEPAYMENTTYPE", payment_type, "Expense Payment Type")
        check.dimensions(line, LEGACY_DIMENSIONS)
    check.open_period(created)
    check.done()
    assert created is not None  # done() refused a missing date
    total = format_amount(_total(amounts))
    recordno = str(len(ctx.store.tables["EEXPENSES"]) + 1)
    stored = store_document(
        ctx,
        "EEXPENSES",
        {
            "RECORDID": f"EXP-{int(recordno):06d}",
            "EMPLOYEEID": employee_id,
            "WHENCREATED": format_date(created),
            "WHENPOSTED": format_date(created),
            "TOTALENTERED": total,
            "TOTALDUE": total,
            "TOTALPAID": "0.00",
            "STATE": state,
            "DESCRIPTION": check.text(element, "description"),
            "MEMO": check.text(element, "memo"),
            "CURRENCY": currency,
            "BASECURR": currency,
            "SUPDOCID": check.text(element, "supdocid"),
        },
        line_rows(lines),
    )
    return Outcome(key=stored["RECORDNO"])


def record_charge_card_transaction(ctx: Context, element: Element) -> Outcome:
    check = Checker(ctx, "cctransaction")
    card = check.text(element, "chargecardid", required=True)
    if card:
        check.reference("CREDITCARD", card, "Charge Card Account")
    paid_on = check.legacy_date_of(element, "paymentdate")
    currency = check.currency(check.text(element, "currency"))
    lines = element.findall("ccpayitems/ccpayitem")
    if not lines:
        check.fail(missing_field("ccpayitems", "cctransaction"))
    amounts = []
    for line in lines:
        _account_or_type(check, line, type_tag="accountlabel", account_tag="glaccountno")
        amounts.append(check.amount(line, "paymentamount"))
        check.dimensions(line, LEGACY_DIMENSIONS)
    check.open_period(paid_on)
    check.done()
    assert paid_on is not None  # done() refused a missing date
    total = format_amount(_total(amounts))
    stored = store_document(
        ctx,
        "CCTRANSACTION",
        {
            "RECORDID": check.text(element, "referenceno"),
            "FINANCIALENTITY": card,
            "PAYEE": check.text(element, "payee"),
            "WHENCREATED": format_date(paid_on),
            "DESCRIPTION": check.text(element, "description"),
            "BASECURR": currency,
            "CURRENCY": currency,
            "TOTALENTERED": total,
            "TRX_TOTALENTERED": total,
            "TOTALPAID": "0.00",
            "TRX_TOTALPAID": "0.00",
            "TOTALSELECTED": "0.00",
            "TRX_TOTALSELECTED": "0.00",
            "TOTALDUE": total,
            "TRX_TOTALDUE": total,
            "STATE": "Posted",
            "RAWSTATE": "A",
            "CLEARED": "false",
            "INCLUSIVETAX": "false",
            "SUPDOCID": check.text(element, "supdocid"),
        },
        line_rows(lines),
    )
    return Outcome(key=stored["RECORDNO"])


def create_reimbursement(ctx: Context, element: Element) -> Outcome:
    """Pays expense reports of one employee from a bank account; the reports' paid totals and state follow."""
    check = Checker(ctx, "Reimbursement Request")
    account = check.text(element, "bankaccountid", required=True)
    if account:
        check.reference("CHECKINGACCOUNT", account, "Checking Account")
    employee_id = check.text(element, "employeeid", required=True)
    if employee_id:
        check.reference("EMPLOYEE", employee_id, "Employee")
    paid_on = check.legacy_date_of(element, "paymentdate")
    check.open_period(paid_on)
    reports = ctx.store.tables["EEXPENSES"]
    applications = []
    items = element.findall("eppaymentrequestitems/eppaymentrequestitem")
    if not items:
        check.fail(missing_field("eppaymentrequestitems", "Reimbursement Request"))
    for item in items:
        key = check.text(item, "key", required=True)
        amount = check.amount(item, "paymentamount")
        report = reports.get(int(key)) if key.isdigit() else None
        if key and (
            report is None or report["EMPLOYEEID"] != employee_id or report["MEGAENTITYID"] not in ("", ctx.entity)
        ):
            check.fail(business(f"Invalid expense report key '{key}' for employee '{employee_id}'."))
        elif report is not None and amount is not None:
            if amount > (parse_decimal(report["TOTALDUE"]) or Decimal(0)):
                check.fail(business(f"The payment amount {amount} exceeds the amount due on expense report {key}."))
            applications.append((report, amount))
    check.done()
    assert paid_on is not None  # done() refused a missing date
    now = format_timestamp(ctx.clock.now())
    for report, amount in applications:
        apply_payment(reports, reports.get(int(report["RECORDNO"])) or report, amount, paid_on, now)
    stored = store_document(
        ctx,
        "EPPAYMENT",
        {
            "EMPLOYEEID": employee_id,
            "FINANCIALENTITY": account,
            "PAYMENTMETHOD": check.text(element, "paymentmethod"),
            "PAYMENTDATE": format_date(paid_on),
            "TOTALENTERED": format_amount(_total([a for _, a in applications])),
            "STATE": "Complete",
            "DESCRIPTION": check.text(element, "memo"),
            "CURRENCY": applications[0][0]["CURRENCY"],
            "WHENCREATED": format_date(paid_on),
        },
        line_rows(items),
    )
    return Outcome(key=stored["RECORDNO"])


def _attach(ctx: Context, element: Element, object_name: str, label: str) -> Outcome:
    """`update_expensereport`/`update_cctransaction` with `@key`: integrations use them to attach a supdoc."""
    key = (element.get("key") or "").strip()
    table = ctx.store.tables[object_name]
    row = table.get(int(key)) if key.isdigit() else None
    if row is None or row["MEGAENTITYID"] not in ("", ctx.entity):
        raise IntacctError(business(f"Cannot find {label} with key '{key}' to update."))
    supdocid = (element.findtext("supdocid") or "").strip()
    if supdocid and supdocid not in ctx.store.supdocs:
        raise IntacctError(business(f"Invalid attachment ID '{supdocid}' specified.", "Create the attachment first."))
    table.replace({**row, "SUPDOCID": supdocid, "WHENMODIFIED": format_timestamp(ctx.clock.now())})
    return Outcome(key=key)


def update_expense_report(ctx: Context, element: Element) -> Outcome:
    return _attach(ctx, element, "EEXPENSES", "expense report")


def update_charge_card_transaction(ctx: Context, element: Element) -> Outcome:
    return _attach(ctx, element, "CCTRANSACTION", "charge card transaction")
