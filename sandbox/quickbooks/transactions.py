"""Transactions (Bill, Purchase, JournalEntry, BillPayment): the header checks they share — date, closing date,
DocNumber, currency and exchange rate — and each one's lines."""

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sandbox.quickbooks.constants import (
    CODE_DUPLICATE_DOC,
    CODE_MALFORMED,
    CODE_PERIOD_CLOSED,
    MAX_DOC_NUMBER_LENGTH,
    MAX_PRIVATE_NOTE_LENGTH,
    RATE_PLACES,
)
from sandbox.quickbooks.errors import QboFault
from sandbox.quickbooks.seed import default_account
from sandbox.quickbooks.store import Obj, RealmStore
from sandbox.quickbooks.validation import business, check_enum, check_length, missing, present, require, resolve
from sandbox.quickbooks.values import PACIFIC, decimal_of, money, parse_date

EXPENSE_DETAILS = ("AccountBasedExpenseLineDetail", "ItemBasedExpenseLineDetail")
PAYMENT_TYPES = {
    "Cash": ("Bank", "Credit Card", "Other Current Asset"),
    "Check": ("Bank",),
    "CreditCard": ("Credit Card",),
}
PARTY_TYPES = ("Vendor", "Employee", "Customer")
TXN_TYPES = {"Cash": "Expense", "Check": "Check", "CreditCard": "Credit Card Expense"}


def txn_type_of(entity: str, obj: Obj) -> str:
    if entity == "Purchase":
        return TXN_TYPES.get(str(obj.get("PaymentType")), "Expense")
    return {"JournalEntry": "Journal Entry", "BillPayment": "Bill Payment"}.get(entity, entity)


def check_closed_books(store: RealmStore, txn_date: date) -> None:
    if store.closing_date is not None and txn_date <= store.closing_date:
        raise QboFault(
            CODE_PERIOD_CLOSED,
            f"The account period has closed and the books are locked through {store.closing_date.isoformat()}. "
            "Transactions dated on or before the closing date cannot be added or changed through the API.",
            element="TxnDate",
        )


def _header(store: RealmStore, entity: str, obj: Obj, own_id: str | None, allow_duplicate_doc: bool) -> None:
    if present(obj.get("TxnDate")):
        txn_date = parse_date(obj["TxnDate"])
        if txn_date is None:
            raise QboFault(CODE_MALFORMED, f"Invalid date format : {obj['TxnDate']}", element="TxnDate")
    else:
        txn_date = store.now().astimezone(PACIFIC).date()
    obj["TxnDate"] = txn_date.isoformat()
    check_closed_books(store, txn_date)
    check_length(obj.get("PrivateNote"), MAX_PRIVATE_NOTE_LENGTH, "PrivateNote")
    doc = obj.get("DocNumber")
    if not present(doc):
        obj.pop("DocNumber", None)
    else:
        check_length(str(doc), MAX_DOC_NUMBER_LENGTH, "DocNumber")
        if store.duplicate_doc_number_check and not allow_duplicate_doc:
            for other in store.all(entity):
                if other["Id"] != own_id and other.get("DocNumber") == doc:
                    raise QboFault(
                        CODE_DUPLICATE_DOC,
                        "Duplicate Document Number Error : You must specify a different number. This number has "
                        f"already been used. DocNumber={doc} is assigned to TxnType={txn_type_of(entity, other)} "
                        f"with TxnId={other['Id']}",
                        element="DocNumber",
                    )
    resolve(store, obj.get("DepartmentRef"), "Department", "DepartmentRef")
    _currency(store, obj)


def _currency(store: RealmStore, obj: Obj) -> None:
    ref = obj.get("CurrencyRef")
    code = str(ref.get("value") or store.home_currency) if isinstance(ref, dict) else store.home_currency
    rate = store.rate_of(code)
    if rate is None:
        if not store.multicurrency:
            raise business("Multicurrency is not enabled for this company.", "CurrencyRef")
        raise business(f"Currency {code} is not active in this company.", "CurrencyRef")
    sent = decimal_of(obj.get("ExchangeRate"))
    if code != store.home_currency and sent is not None and sent > 0:
        rate = sent.quantize(RATE_PLACES)
    obj["CurrencyRef"] = store.currency_ref(code)
    obj["ExchangeRate"] = float(rate) if code != store.home_currency else 1


def _amount(line: Obj, index: int) -> Decimal:
    amount = decimal_of(line.get("Amount"))
    if amount is None:
        raise missing(f"Line[{index}].Amount")
    return amount


def _number_lines(lines: list[Obj]) -> None:
    for number, line in enumerate(lines, start=1):
        line["Id"] = str(number)
        line["LineNum"] = number
        for key in ("LinkedTxn", "CustomField"):
            if line.get(key) == []:
                del line[key]


def _lines(obj: Obj) -> list[Obj]:
    lines = obj.get("Line")
    if not isinstance(lines, list) or not lines or not all(isinstance(line, dict) for line in lines):
        raise missing("Line")
    return lines


def _expense_lines(store: RealmStore, obj: Obj) -> Decimal:
    total = Decimal(0)
    lines = _lines(obj)
    for index, line in enumerate(lines):
        kind = check_enum(line.get("DetailType"), EXPENSE_DETAILS, f"Line[{index}].DetailType")
        detail = line.get(kind)
        if not isinstance(detail, dict):
            raise missing(f"Line[{index}].{kind}")
        if kind == "AccountBasedExpenseLineDetail":
            resolve(store, detail.get("AccountRef"), "Account", "AccountRef", required=True)
        else:
            resolve(store, detail.get("ItemRef"), "Item", "ItemRef", required=True)
        resolve(store, detail.get("ClassRef"), "Class", "ClassRef")
        resolve(store, detail.get("CustomerRef"), "Customer", "CustomerRef")
        resolve(store, detail.get("TaxCodeRef"), "TaxCode", "TaxCodeRef")
        amount = _amount(line, index)
        line["Amount"] = money(amount)
        total += amount
    _number_lines(lines)
    if total < 0:
        raise business("The transaction total can't be negative.", "Line")
    return total


def _party_currency(obj: Obj, party: Obj) -> None:
    party_currency = (party.get("CurrencyRef") or {}).get("value")
    if party_currency and party_currency != obj["CurrencyRef"]["value"]:
        raise business(
            f"The currency of the transaction ({obj['CurrencyRef']['value']}) must match the currency of "
            f"{party.get('DisplayName')} ({party_currency}).",
            "CurrencyRef",
        )


def _totals(store: RealmStore, obj: Obj, total: Decimal) -> None:
    obj["TotalAmt"] = money(total)
    if obj["CurrencyRef"]["value"] != store.home_currency:
        obj["HomeTotalAmt"] = money(total * Decimal(str(obj["ExchangeRate"])))


def prepare_header(store: RealmStore, entity: str, obj: Obj, own_id: str | None, allow_duplicate_doc: bool) -> None:
    _header(store, entity, obj, own_id, allow_duplicate_doc)


def prepare_bill(store: RealmStore, obj: Obj) -> None:
    vendor = resolve(store, obj.get("VendorRef"), "Vendor", "VendorRef", required=True)
    assert vendor is not None
    _party_currency(obj, vendor)
    if not present(obj.get("APAccountRef")):
        payable = default_account(store, "Accounts Payable")
        assert payable is not None
        obj["APAccountRef"] = {"value": payable["Id"]}
    account = resolve(store, obj["APAccountRef"], "Account", "APAccountRef")
    if account is not None and account["AccountType"] != "Accounts Payable":
        raise business("APAccountRef must be an Accounts Payable account.", "APAccountRef")
    term = resolve(store, obj.get("SalesTermRef"), "Term", "SalesTermRef")
    total = _expense_lines(store, obj)
    _totals(store, obj, total)
    if not present(obj.get("DueDate")):
        days = int(term.get("DueDays", 0)) if term else 0
        obj["DueDate"] = (date.fromisoformat(obj["TxnDate"]) + timedelta(days=days)).isoformat()
    obj["Balance"] = obj["TotalAmt"]


def prepare_purchase(store: RealmStore, obj: Obj) -> None:
    payment_type = check_enum(obj.get("PaymentType"), PAYMENT_TYPES, "PaymentType")
    account = resolve(store, obj.get("AccountRef"), "Account", "AccountRef", required=True)
    assert account is not None
    if account["AccountType"] not in PAYMENT_TYPES[payment_type]:
        raise business(
            f"A {payment_type} purchase must be paid from a {' or '.join(PAYMENT_TYPES[payment_type])} account; "
            f"{account['Name']} is {account['AccountType']}.",
            "AccountRef",
        )
    if obj.get("Credit") and payment_type != "CreditCard":
        raise business("Only a credit card purchase can be a credit.", "Credit")
    entity_ref = obj.get("EntityRef")
    if present(entity_ref) and isinstance(entity_ref, dict):
        kinds = [entity_ref["type"]] if entity_ref.get("type") in PARTY_TYPES else list(PARTY_TYPES)
        kind = next((kind for kind in kinds if store.get(kind, str(entity_ref.get("value"))) is not None), kinds[0])
        party = resolve(store, entity_ref, kind, "EntityRef")
        entity_ref["type"] = kind
        if party is not None and kind == "Vendor":
            _party_currency(obj, party)
    _totals(store, obj, _expense_lines(store, obj))


def prepare_journal(store: RealmStore, obj: Obj) -> None:
    sides = {"Debit": Decimal(0), "Credit": Decimal(0)}
    lines = _lines(obj)
    for index, line in enumerate(lines):
        check_enum(line.get("DetailType"), ("JournalEntryLineDetail",), f"Line[{index}].DetailType")
        detail = line.get("JournalEntryLineDetail")
        if not isinstance(detail, dict):
            raise missing(f"Line[{index}].JournalEntryLineDetail")
        side = check_enum(detail.get("PostingType"), sides, "PostingType")
        account = resolve(store, detail.get("AccountRef"), "Account", "AccountRef", required=True)
        assert account is not None
        resolve(store, detail.get("ClassRef"), "Class", "ClassRef")
        resolve(store, detail.get("DepartmentRef"), "Department", "DepartmentRef")
        resolve(store, detail.get("TaxCodeRef"), "TaxCode", "TaxCodeRef")
        _journal_entity(store, detail, account)
        amount = _amount(line, index)
        if amount < 0:
            raise business("Journal entry line amounts can't be negative.", "Amount")
        line["Amount"] = money(amount)
        sides[side] += amount
    if sides["Debit"] != sides["Credit"]:
        raise business(
            f"You can't save a journal entry that isn't balanced: debits {sides['Debit']} and credits "
            f"{sides['Credit']} must be equal.",
            "Line",
        )
    _number_lines(lines)
    _totals(store, obj, sides["Debit"])


def _journal_entity(store: RealmStore, detail: Obj, account: Obj) -> None:
    entity: Any = detail.get("Entity")
    kind = None
    if present(entity) and isinstance(entity, dict):
        kind = check_enum(entity.get("Type"), PARTY_TYPES, "Entity.Type")
        resolve(store, entity.get("EntityRef"), kind, "Entity.EntityRef", required=True)
    else:
        detail.pop("Entity", None)
    if account["AccountType"] == "Accounts Payable" and kind != "Vendor":
        raise business("When you use Accounts Payable, you must choose a vendor in the Name field.", "Entity")
    if account["AccountType"] == "Accounts Receivable" and kind != "Customer":
        raise business("When you use Accounts Receivable, you must choose a customer in the Name field.", "Entity")


def prepare_bill_payment(store: RealmStore, obj: Obj, own_id: str | None) -> list[str]:
    """Check a bill payment and return the ids of the bills it pays."""
    vendor = resolve(store, obj.get("VendorRef"), "Vendor", "VendorRef", required=True)
    assert vendor is not None
    _party_currency(obj, vendor)
    pay_type = check_enum(obj.get("PayType"), ("Check", "CreditCard"), "PayType")
    holder, ref_key, account_type = (
        ("CheckPayment", "BankAccountRef", "Bank")
        if pay_type == "Check"
        else ("CreditCardPayment", "CCAccountRef", "Credit Card")
    )
    payment = obj.get(holder)
    if not isinstance(payment, dict):
        raise missing(holder)
    account = resolve(store, payment.get(ref_key), "Account", f"{holder}.{ref_key}", required=True)
    assert account is not None
    if account["AccountType"] != account_type:
        raise business(f"{holder}.{ref_key} must be a {account_type} account.", ref_key)
    total = decimal_of(require(obj, "TotalAmt"))
    if total is None or total < 0:
        raise business("TotalAmt must be a positive amount.", "TotalAmt")
    applied, bills = Decimal(0), []
    for index, line in enumerate(_lines(obj)):
        amount = _amount(line, index)
        linked = line.get("LinkedTxn")
        if not isinstance(linked, list) or not linked or not isinstance(linked[0], dict):
            raise missing(f"Line[{index}].LinkedTxn")
        bill = store.get("Bill", str(linked[0].get("TxnId")))
        if bill is None or linked[0].get("TxnType") != "Bill":
            raise QboFault("2500", f"Invalid Reference Id : Bill element id {linked[0].get('TxnId')} not found")
        if bill["VendorRef"]["value"] != vendor["Id"]:
            raise business(f"Bill {bill['Id']} belongs to another vendor.", "LinkedTxn")
        open_balance = bill_open_balance(store, bill, excluding=own_id)
        if amount > open_balance:
            raise business(f"The payment of {amount} exceeds the open balance {open_balance} of bill {bill['Id']}.")
        line["Amount"] = money(amount)
        applied += amount
        bills.append(bill["Id"])
    if applied > total:
        raise business("The amounts applied to bills exceed the payment's TotalAmt.", "TotalAmt")
    obj["TotalAmt"] = money(total)
    _number_lines(obj["Line"])
    return bills


def payments_of(store: RealmStore, bill_id: str, excluding: str | None = None) -> list[tuple[str, Decimal]]:
    found = []
    for payment in store.all("BillPayment"):
        if payment["Id"] == excluding:
            continue
        for line in payment.get("Line", []):
            for linked in line.get("LinkedTxn", []):
                if linked.get("TxnType") == "Bill" and str(linked.get("TxnId")) == bill_id:
                    found.append((payment["Id"], Decimal(str(line["Amount"]))))
    return found


def bill_open_balance(store: RealmStore, bill: Obj, excluding: str | None = None) -> Decimal:
    paid = sum((amount for _, amount in payments_of(store, bill["Id"], excluding)), Decimal(0))
    return Decimal(str(bill["TotalAmt"])) - paid
