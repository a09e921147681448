"""Legacy (lower-case) expense functions: expense reports (EEXPENSES), charge card transactions (CCTRANSACTION)
and reimbursement requests (EPPAYMENT). They answer with `<key>` (the record number), not `data`."""

from collections.abc import Sequence
from decimal import Decimal
from xml.etree.ElementTree import Element

from sandbox.intacct.context import Context, Outcome
from sandbox.intacct.currencies import Conversion, check_base, conversion, daily_rate, format_money, money, taxes
from sandbox.intacct.documents import amount_due, apply_payment, line_rows, store_document
from sandbox.intacct.errors import IntacctError, business, missing_field
from sandbox.intacct.validation import LEGACY_DIMENSIONS, Checker
from sandbox.intacct.values import format_date, format_timestamp, parse_decimal

REPORT_STATES = ("Draft", "Submitted")


def _total(amounts: Sequence[Decimal | None]) -> Decimal:
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


def _reimbursed(check: Checker, line: Element, currency: str) -> tuple[Decimal, dict[str, str]]:
    """A line's amount in the report's (reimbursement) currency with its tax, and what it stores of the currency it
    was spent in.

    A line spent in another currency names it with `currency` and `trx_amount`, converted at `exchrate` (or the rate
    type's, or the daily rate); an `amount` it also sends must be that conversion, to the unit of the report's
    currency."""
    spent_in = check.currency(check.text(line, "currency") or currency)
    taxed = taxes(check, line, spent_in, upper=False)
    if spent_in == currency:
        amount = money(check, line, "amount", currency) or Decimal(0)
        fields = {"CURRENCY": currency, "TRX_AMOUNT": format_money(amount, currency), "EXCHANGE_RATE": "1"}
        return amount + sum(taxed, Decimal(0)), fields
    converting = conversion(
        check, line, currency_tag="currency", rate_tag="exchrate", type_tag="exchratetype", base=currency
    )
    spent = money(check, line, "trx_amount", spent_in) or Decimal(0)
    expected = converting.base_of(spent)
    sent = money(check, line, "amount", currency, required=False)
    if sent is not None and sent != expected:
        check.fail(
            business(
                f"The amount {sent:f} does not match the transaction amount {spent:f} {spent_in} at the exchange "
                f"rate {converting.rate:f} ({format_money(expected, currency)} {currency}).",
                "Send the amount the rate gives, or leave the amount out.",
            )
        )
    converted = {"CURRENCY": spent_in, "TRX_AMOUNT": format_money(spent, spent_in)}
    return expected + converting.base_total(taxed), {**converted, "EXCHANGE_RATE": f"{converting.rate:f}"}


def create_expense_report(ctx: Context, element: Element) -> Outcome:
    check = Checker(ctx, "Expense Report")
    employee_id = check.text(element, "employeeid", required=True)
    if employee_id:
        check.reference("EMPLOYEE", employee_id, "Employee")
    created = check.legacy_date_of(element, "datecreated")
    state = check.text(element, "state") or "Submitted"
    if state not in REPORT_STATES:
        check.fail(business(f"Invalid state '{state}'", "Use Draft or Submitted."))
    base = check_base(check, check.text(element, "basecurr"))
    currency = check.currency(check.text(element, "currency"))
    to_base = Conversion(currency, base, daily_rate(currency, base) if currency != base else Decimal(1))
    lines = element.findall("expenses/expense")
    if not lines:
        check.fail(missing_field("expenses", "Expense Report"))
    amounts: list[Decimal] = []
    converted = []
    for line in lines:
        _account_or_type(check, line, type_tag="expensetype", account_tag="glaccountno")
        amount, spent = _reimbursed(check, line, currency)
        amounts.append(amount)
        converted.append({**spent, "AMOUNT": format_money(to_base.base_of(amount), base)})
        payment_type = check.text(line, "exppmttype")
        if payment_type:
            check.reference("EXPENSEPAYMENTTYPE", payment_type, "Expense Payment Type")
        check.dimensions(line, LEGACY_DIMENSIONS)
    check.open_period(created)
    check.done()
    assert created is not None  # done() refused a missing date
    total = format_money(_total(amounts), currency)
    base_total = format_money(_total([Decimal(line["AMOUNT"]) for line in converted]), base)
    recordno = str(len(ctx.store.tables["EEXPENSES"]) + 1)
    stored = store_document(
        ctx,
        "EEXPENSES",
        {
            "RECORDID": f"EXP-{int(recordno):06d}",
            "EMPLOYEEID": employee_id,
            "WHENCREATED": format_date(created),
            "WHENPOSTED": format_date(created),
            "TOTALENTERED": base_total,
            "TRX_TOTALENTERED": total,
            "TOTALDUE": base_total,
            "TRX_TOTALDUE": total,
            "TOTALPAID": format_money(Decimal(0), base),
            "TRX_TOTALPAID": format_money(Decimal(0), currency),
            "STATE": state,
            "DESCRIPTION": check.text(element, "description"),
            "MEMO": check.text(element, "memo"),
            "CURRENCY": currency,
            "BASECURR": base,
            "EXCHANGE_RATE": f"{to_base.rate:f}",
            "SUPDOCID": check.text(element, "supdocid"),
        },
        tuple({**row, **line} for row, line in zip(line_rows(lines), converted, strict=True)),
    )
    return Outcome(key=stored["RECORDNO"])


def record_charge_card_transaction(ctx: Context, element: Element) -> Outcome:
    check = Checker(ctx, "cctransaction")
    card = check.text(element, "chargecardid", required=True)
    if card:
        check.reference("CREDITCARD", card, "Charge Card Account")
    paid_on = check.legacy_date_of(element, "paymentdate")
    converting = conversion(check, element, currency_tag="currency", rate_tag="exchrate", type_tag="exchratetype")
    currency, base = converting.currency, converting.base
    lines = element.findall("ccpayitems/ccpayitem")
    if not lines:
        check.fail(missing_field("ccpayitems", "cctransaction"))
    amounts = []
    taxed: list[Decimal] = []
    for line in lines:
        _account_or_type(check, line, type_tag="accountlabel", account_tag="glaccountno")
        amounts.append(money(check, line, "paymentamount", currency) or Decimal(0))
        taxed.extend(taxes(check, line, currency, upper=False))
        check.dimensions(line, LEGACY_DIMENSIONS)
    check.open_period(paid_on)
    check.done()
    assert paid_on is not None  # done() refused a missing date
    converted = [converting.line(amount) for amount in amounts]
    total = format_money(_total([*amounts, *taxed]), currency)
    base_total = format_money(converting.base_total([*amounts, *taxed]), base)
    none, none_in_base = format_money(Decimal(0), currency), format_money(Decimal(0), base)
    stored = store_document(
        ctx,
        "CCTRANSACTION",
        {
            "RECORDID": check.text(element, "referenceno"),
            "FINANCIALENTITY": card,
            "PAYEE": check.text(element, "payee"),
            "WHENCREATED": format_date(paid_on),
            "DESCRIPTION": check.text(element, "description"),
            **converting.fields(),
            "EXCH_RATE_DATE": format_date(check.legacy_date_of(element, "exchratedate") or paid_on),
            "TOTALENTERED": base_total,
            "TRX_TOTALENTERED": total,
            "TOTALPAID": none_in_base,
            "TRX_TOTALPAID": none,
            "TOTALSELECTED": none_in_base,
            "TRX_TOTALSELECTED": none,
            "TOTALDUE": base_total,
            "TRX_TOTALDUE": total,
            "STATE": "Posted",
            "RAWSTATE": "A",
            "CLEARED": "false",
            "INCLUSIVETAX": "false",
            "SUPDOCID": check.text(element, "supdocid"),
        },
        tuple({**row, **line} for row, line in zip(line_rows(lines), converted, strict=True)),
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
        report = reports.get(int(key)) if key.isdigit() else None
        # paid in the report's own (reimbursement) currency
        amount = money(check, item, "paymentamount", report["CURRENCY"] if report else "")
        if key and (
            report is None or report["EMPLOYEEID"] != employee_id or report["MEGAENTITYID"] not in ("", ctx.entity)
        ):
            check.fail(business(f"Invalid expense report key '{key}' for employee '{employee_id}'."))
        elif report is not None and amount is not None:
            if amount > amount_due(report):
                check.fail(business(f"The payment amount {amount} exceeds the amount due on expense report {key}."))
            applications.append((report, amount))
    check.done()
    assert paid_on is not None  # done() refused a missing date
    now = format_timestamp(ctx.clock.now())
    base_total = Decimal(0)
    for report, amount in applications:
        current = reports.get(int(report["RECORDNO"])) or report
        paid = apply_payment(reports, current, amount, paid_on, now)
        base_total += (parse_decimal(paid["TOTALPAID"]) or Decimal(0)) - (
            parse_decimal(current["TOTALPAID"]) or Decimal(0)
        )
    currency = applications[0][0]["CURRENCY"]
    base = applications[0][0].get("BASECURR") or currency
    stored = store_document(
        ctx,
        "EPPAYMENT",
        {
            "EMPLOYEEID": employee_id,
            "FINANCIALENTITY": account,
            "PAYMENTMETHOD": check.text(element, "paymentmethod"),
            "PAYMENTDATE": format_date(paid_on),
            "TOTALENTERED": format_money(base_total, base),
            "TRX_TOTALENTERED": format_money(_total([a for _, a in applications]), currency),
            "STATE": "Complete",
            "DESCRIPTION": check.text(element, "memo"),
            "CURRENCY": currency,
            "BASECURR": base,
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
