"""Accounts payable: bills (APBILL create/update), AP payments (APPYMT) and vendors (VENDOR create)."""

from datetime import timedelta
from decimal import Decimal
from xml.etree.ElementTree import Element

from sandbox.intacct.constants import PAYMENT_METHODS
from sandbox.intacct.context import Context
from sandbox.intacct.currencies import check_base, conversion, format_money, money, taxes
from sandbox.intacct.documents import amount_due, apply_payment, entity_fields, flatten, line_rows, store_document
from sandbox.intacct.errors import IntacctError, business, duplicate, missing_field
from sandbox.intacct.seed import Record
from sandbox.intacct.validation import GENERIC_DIMENSIONS, Checker
from sandbox.intacct.values import format_date, format_timestamp, parse_decimal

TERM_DAYS = 30
"""A bill with a TERMNAME and no WHENDUE falls due this many days after its date."""
BILL_UPDATABLE = ("SUPDOCID", "DESCRIPTION", "RECORDID", "DOCNUMBER", "ONHOLD", "WHENDUE")


def _supdoc(check: Checker, supdocid: str) -> None:
    if supdocid and supdocid not in check.ctx.store.supdocs:
        check.fail(business(f"Invalid attachment ID '{supdocid}' specified.", "Create the attachment first."))


def create_bill(ctx: Context, element: Element) -> Record:
    check = Checker(ctx, "Bill")
    vendor_id = check.text(element, "VENDORID", required=True)
    vendor = check.reference("VENDOR", vendor_id, "Vendor") if vendor_id else None
    when_created = check.date_of(element, "WHENCREATED")
    when_posted = check.date_of(element, "WHENPOSTED", required=False) or when_created
    term = check.text(element, "TERMNAME")
    when_due = check.date_of(element, "WHENDUE", required=not term)
    if when_due is None and term and when_created is not None:
        when_due = when_created + timedelta(days=TERM_DAYS)
    if when_due is not None and when_created is not None and when_due < when_created:
        check.fail(business("Date Due cannot be earlier than date of transaction", "Use a later due date."))
    base = check_base(check, check.text(element, "BASECURR"))
    converting = conversion(
        check, element, currency_tag="CURRENCY", rate_tag="EXCHANGE_RATE", type_tag="EXCH_RATE_TYPE_ID", base=base
    )
    supdocid = check.text(element, "SUPDOCID")
    _supdoc(check, supdocid)
    lines = element.findall("APBILLITEMS/APBILLITEM")
    if not lines:
        check.fail(missing_field("APBILLITEMS", "Bill"))
    amounts = []
    taxed: list[Decimal] = []
    for line in lines:
        account = check.text(line, "ACCOUNTNO", required=True)
        if account:
            check.reference("GLACCOUNT", account, "Account")
        amounts.append(money(check, line, "TRX_AMOUNT", converting.currency) or Decimal(0))
        taxed.extend(taxes(check, line, converting.currency, upper=True))
        check.dimensions(line, GENERIC_DIMENSIONS)
    check.open_period(when_posted)
    check.done()
    assert vendor and when_created and when_due and when_posted  # done() refused any of them missing
    converted = [converting.line(amount) for amount in amounts]
    total = format_money(sum((*amounts, *taxed), Decimal(0)), converting.currency)
    base_total = format_money(converting.base_total([*amounts, *taxed]), base)
    values = {
        "RECORDID": check.text(element, "RECORDID"),
        "VENDORID": vendor_id,
        "VENDORNAME": vendor["NAME"],
        "DOCNUMBER": check.text(element, "DOCNUMBER"),
        "TERMNAME": term,
        "DESCRIPTION": check.text(element, "DESCRIPTION"),
        "WHENCREATED": format_date(when_created),
        "WHENPOSTED": format_date(when_posted),
        "WHENDUE": format_date(when_due),
        "TOTALENTERED": base_total,
        "TRX_TOTALENTERED": total,
        "TOTALSELECTED": format_money(Decimal(0), base),
        "TRX_TOTALSELECTED": format_money(Decimal(0), converting.currency),
        "TOTALPAID": format_money(Decimal(0), base),
        "TRX_TOTALPAID": format_money(Decimal(0), converting.currency),
        "TOTALDUE": base_total,
        "TRX_TOTALDUE": total,
        "STATE": "Posted",
        **converting.fields(),
        "EXCH_RATE_DATE": format_date(check.date_of(element, "EXCH_RATE_DATE", required=False) or when_created),
        "ONHOLD": "false",
        "PAYMENTPRIORITY": "normal",
        "DUE_IN_DAYS": str((when_due - ctx.clock.now().date()).days),
        "SUPDOCID": supdocid,
        "PRBATCH": f"Bills: {when_created.strftime('%m/%d/%Y')} Batch",
    }
    rows = tuple({**row, **line} for row, line in zip(line_rows(lines), converted, strict=True))
    return store_document(ctx, "APBILL", values, rows)


def update_bill(ctx: Context, element: Element) -> Record:
    table = ctx.store.tables["APBILL"]
    recordno = (element.findtext("RECORDNO") or "").strip()
    row = table.get(int(recordno)) if recordno.isdigit() else None
    if row is None or row["MEGAENTITYID"] not in ("", ctx.entity):
        raise IntacctError(
            business(f"Cannot find Bill with key '{recordno}' to update."), business("Could not update Bill record!")
        )
    check = Checker(ctx, "Bill")
    changes = {field: check.text(element, field) for field in BILL_UPDATABLE if element.find(field) is not None}
    _supdoc(check, changes.get("SUPDOCID", ""))
    if check.errors:
        raise IntacctError(*check.errors, business("Could not update Bill record!"))
    updated = {**row, **changes, "WHENMODIFIED": format_timestamp(ctx.clock.now())}
    table.replace(updated)
    return updated


def create_payment(ctx: Context, element: Element) -> Record:
    """An AP payment applied to bills of one vendor; each bill's paid and due totals and state follow."""
    check = Checker(ctx, "AP Payment")
    account = check.text(element, "FINANCIALENTITY", required=True)
    if account and ctx.store.tables["CHECKINGACCOUNT"].find(account) is None:
        check.reference("CREDITCARD", account, "Financial entity")
    elif account:
        check.reference("CHECKINGACCOUNT", account, "Financial entity")
    method = check.text(element, "PAYMENTMETHOD", required=True)
    if method and method not in PAYMENT_METHODS:
        check.fail(business(f"Invalid payment method '{method}'.", f"Use one of: {', '.join(PAYMENT_METHODS)}."))
    vendor_id = check.text(element, "VENDORID", required=True)
    vendor = check.reference("VENDOR", vendor_id, "Vendor") if vendor_id else None
    paid_on = check.date_of(element, "PAYMENTDATE")
    check.open_period(paid_on)
    base = check_base(check, check.text(element, "BASECURR"))
    currency = check.currency(check.text(element, "CURRENCY"))
    bills = ctx.store.tables["APBILL"]
    applications: list[tuple[Record, Decimal]] = []
    details = element.findall("APPYMTDETAILS/APPYMTDETAIL")
    if not details:
        check.fail(missing_field("APPYMTDETAILS", "AP Payment"))
    for detail in details:
        key = check.text(detail, "RECORDKEY", required=True)
        amount = money(check, detail, "TRX_PAYMENTAMOUNT", currency)
        bill = bills.get(int(key)) if key.isdigit() else None
        if key and (bill is None or bill["VENDORID"] != vendor_id or bill["MEGAENTITYID"] not in ("", ctx.entity)):
            check.fail(business(f"Invalid bill key '{key}' for vendor '{vendor_id}'."))
        elif bill is not None and bill["CURRENCY"] != currency:
            check.fail(
                business(
                    f"The payment currency {currency} does not match the currency {bill['CURRENCY']} of bill {key}.",
                    "Pay a bill in its own currency.",
                )
            )
        elif bill is not None and amount is not None:
            if amount > amount_due(bill):
                check.fail(business(f"The payment amount {amount} exceeds the amount due on bill {key}."))
            applications.append((bill, amount))
    check.done()
    assert vendor and paid_on  # done() refused either missing
    total = sum((amount for _, amount in applications), Decimal(0))
    base_total = Decimal(0)
    now = format_timestamp(ctx.clock.now())
    for bill, amount in applications:
        current = bills.get(int(bill["RECORDNO"])) or bill
        paid = apply_payment(bills, current, amount, paid_on, now)
        base_total += (parse_decimal(paid["TOTALPAID"]) or Decimal(0)) - (parse_decimal(current["TOTALPAID"]) or 0)
    return store_document(
        ctx,
        "APPYMT",
        {
            "FINANCIALENTITY": account,
            "PAYMENTMETHOD": method,
            "VENDORID": vendor_id,
            "VENDORNAME": vendor["NAME"],
            "DOCNUMBER": check.text(element, "DOCNUMBER"),
            "DESCRIPTION": check.text(element, "DESCRIPTION"),
            "CURRENCY": currency,
            "BASECURR": base,
            "PAYMENTDATE": format_date(paid_on),
            "WHENPAID": format_date(paid_on),
            "TOTALENTERED": format_money(base_total, base),
            "TRX_TOTALENTERED": format_money(total, currency),
            "STATE": "Complete",
            "WHENCREATED": format_date(paid_on),
        },
        line_rows(details),
    )


def create_vendor(ctx: Context, element: Element) -> Record:
    """Integrations create vendors for new merchants; the ID must be new and the name present."""
    check = Checker(ctx, "Vendor")
    vendor_id = check.text(element, "VENDORID", required=True)
    name = check.text(element, "NAME", required=True)
    table = ctx.store.tables["VENDOR"]
    if vendor_id and table.find(vendor_id) is not None:
        check.fail(duplicate("Vendor", vendor_id))
    check.done()
    now = format_timestamp(ctx.clock.now())
    row = dict.fromkeys(table.definition.field_names, "")
    row.update({field: value for field, value in flatten(element).items() if field in row})
    row.update(
        {
            "VENDORID": vendor_id,
            "NAME": name,
            "STATUS": row["STATUS"] or "active",
            "WHENCREATED": now,
            "WHENMODIFIED": now,
            **entity_fields(ctx),
        }
    )
    return table.insert(row)
