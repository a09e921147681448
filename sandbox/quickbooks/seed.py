"""Seeded companies: a chart of accounts, vendors, employees, customers, classes, departments, items, tax codes
and terms, the same for the same seed (the seed varies balances, e-mail domains and a few generated vendors)."""

import random
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sandbox.quickbooks.constants import MAIN_REALM, RATE_PLACES, UK_REALM, USD_RATES
from sandbox.quickbooks.store import RealmStore

SEED_AGE = timedelta(days=90)
"""Seeded objects were created this long before the reset: older than any CDC window, as a real company's are."""
CLASSIFICATION = {
    "Bank": "Asset",
    "Accounts Receivable": "Asset",
    "Other Current Asset": "Asset",
    "Fixed Asset": "Asset",
    "Accounts Payable": "Liability",
    "Credit Card": "Liability",
    "Other Current Liability": "Liability",
    "Long Term Liability": "Liability",
    "Equity": "Equity",
    "Income": "Revenue",
    "Other Income": "Revenue",
    "Cost of Goods Sold": "Expense",
    "Expense": "Expense",
    "Other Expense": "Expense",
}
CHART = (
    # (AcctNum, Name, AccountType, AccountSubType)
    ("1000", "Checking", "Bank", "Checking"),
    ("1010", "Savings", "Bank", "Savings"),
    ("1100", "Accounts Receivable (A/R)", "Accounts Receivable", "AccountsReceivable"),
    ("1200", "Prepaid Expenses", "Other Current Asset", "PrepaidExpenses"),
    ("1210", "Employee Advances", "Other Current Asset", "EmployeeCashAdvances"),
    ("1500", "Computers and Equipment", "Fixed Asset", "MachineryAndEquipment"),
    ("2000", "Accounts Payable (A/P)", "Accounts Payable", "AccountsPayable"),
    ("2100", "Corporate Visa", "Credit Card", "CreditCard"),
    ("2110", "Corporate Amex", "Credit Card", "CreditCard"),
    ("2200", "Accrued Liabilities", "Other Current Liability", "AccruedLiabilities"),
    ("2210", "Employee Reimbursements Payable", "Other Current Liability", "OtherCurrentLiabilities"),
    ("2300", "Sales Tax Payable", "Other Current Liability", "SalesTaxPayable"),
    ("3000", "Opening Balance Equity", "Equity", "OpeningBalanceEquity"),
    ("3100", "Retained Earnings", "Equity", "RetainedEarnings"),
    ("4000", "Services", "Income", "ServiceFeeIncome"),
    ("5000", "Cost of Goods Sold", "Cost of Goods Sold", "SuppliesMaterialsCogs"),
    ("6000", "Advertising", "Expense", "AdvertisingPromotional"),
    ("6100", "Bank Charges", "Expense", "BankCharges"),
    ("6200", "Meals and Entertainment", "Expense", "EntertainmentMeals"),
    ("6210", "Team Meals", "Expense", "EntertainmentMeals"),
    ("6300", "Office Supplies", "Expense", "SuppliesMaterials"),
    ("6400", "Travel", "Expense", "Travel"),
    ("6410", "Airfare", "Expense", "Travel"),
    ("6420", "Lodging", "Expense", "Travel"),
    ("6430", "Ground Transportation", "Expense", "Travel"),
    ("6500", "Software Subscriptions", "Expense", "OtherMiscellaneousServiceCost"),
    ("6600", "Telephone and Internet", "Expense", "Utilities"),
    ("6700", "Training and Education", "Expense", "OtherMiscellaneousServiceCost"),
    ("6800", "Mileage", "Expense", "Auto"),
    ("6900", "Miscellaneous", "Expense", "OtherMiscellaneousServiceCost"),
    ("7000", "Exchange Gain or Loss", "Other Expense", "ExchangeGainOrLoss"),
)
VENDORS = (
    "Delta Air Lines",
    "United Airlines",
    "Marriott Hotels",
    "Hilton Worldwide",
    "Uber Technologies",
    "Lyft",
    "Staples",
    "Amazon Business",
    "Slack Technologies",
    "Zoom Video Communications",
    "Comcast Business",
    "Blue Bottle Coffee",
)
FOREIGN_VENDORS = (("Lufthansa", "EUR"), ("Eurostar International", "GBP"), ("Air Canada", "CAD"))
EMPLOYEES = (
    ("Ada", "Lovelace"),
    ("Grace", "Hopper"),
    ("Alan", "Turing"),
    ("Katherine", "Johnson"),
    ("Edsger", "Dijkstra"),
    ("Barbara", "Liskov"),
)
CUSTOMERS = ("Acme Corporation", "Globex Inc", "Initech", "Umbrella Health", "Stark Industries")
CLASSES = ("Consulting", "Product", "Support")
DEPARTMENTS = ("Engineering", "Sales", "Marketing", "Finance", "Operations")
ITEMS = (("Contractor Hours", "6900"), ("Hardware", "1500"), ("Travel Reimbursement", "6400"))
TERMS = (("Due on receipt", 0), ("Net 15", 15), ("Net 30", 30), ("Net 60", 60))
US_TAX_CODES = (("TAX", "Taxable", True), ("NON", "Non-Taxable", False))
UK_TAX_CODES = (("20.0% S", "Standard rate", True), ("5.0% R", "Reduced rate", True), ("0.0% Z", "Zero-rated", True))
UK_TAX_CODES_EXEMPT = (("Exempt", "Exempt", False), ("No VAT", "Out of scope", False))


def _ref(obj: dict[str, Any], name_field: str = "Name") -> dict[str, str]:
    return {"value": obj["Id"], "name": obj[name_field]}


def _seed_accounts(store: RealmStore, rng: random.Random) -> dict[str, dict[str, Any]]:
    by_number: dict[str, dict[str, Any]] = {}
    for number, name, account_type, sub_type in CHART:
        balance = Decimal(rng.randint(0, 250_000)) if account_type in ("Bank", "Credit Card") else Decimal(0)
        account = store.insert(
            "Account",
            {
                "Name": name,
                "AcctNum": number,
                "SubAccount": False,
                "FullyQualifiedName": name,
                "Active": True,
                "Classification": CLASSIFICATION[account_type],
                "AccountType": account_type,
                "AccountSubType": sub_type,
                "CurrentBalance": float(balance),
                "CurrentBalanceWithSubAccounts": float(balance),
                "CurrencyRef": store.currency_ref(store.home_currency),
            },
            quiet=True,
        )
        by_number[number] = account
    return by_number


def _person(store: RealmStore, entity: str, display: str, domain: str, extra: dict[str, Any]) -> None:
    email = display.lower().replace(" ", ".") + "@" + domain
    base = {"DisplayName": display, "PrintOnCheckName": display, "Active": True, "PrimaryEmailAddr": {"Address": email}}
    store.insert(entity, base | extra, quiet=True)


def seed_realm(store: RealmStore, rng: random.Random) -> None:
    accounts = _seed_accounts(store, rng)
    domain = rng.choice(("example.com", "example.org", "example.net"))
    home = store.currency_ref(store.home_currency)
    vendors = list(VENDORS) + [f"Supplier {rng.randint(100, 999)}" for _ in range(rng.randint(2, 4))]
    for name in dict.fromkeys(vendors):
        _person(
            store, "Vendor", name, domain, {"CompanyName": name, "Vendor1099": False, "Balance": 0, "CurrencyRef": home}
        )
    if store.multicurrency:
        for name, currency in FOREIGN_VENDORS:
            extra = {
                "CompanyName": name,
                "Vendor1099": False,
                "Balance": 0,
                "CurrencyRef": store.currency_ref(currency),
            }
            _person(store, "Vendor", name, domain, extra)
    for number, (given, family) in enumerate(EMPLOYEES, start=1):
        extra = {"GivenName": given, "FamilyName": family, "EmployeeNumber": f"E{number:03d}"}
        _person(store, "Employee", f"{given} {family}", domain, extra)
    for name in CUSTOMERS:
        _person(store, "Customer", name, domain, {"CompanyName": name, "Job": False, "Balance": 0, "CurrencyRef": home})
    for entity, names, flag in (("Class", CLASSES, "SubClass"), ("Department", DEPARTMENTS, "SubDepartment")):
        for name in names:
            store.insert(entity, {"Name": name, flag: False, "FullyQualifiedName": name, "Active": True}, quiet=True)
    for item_name, account_number in ITEMS:
        item = {"Name": item_name, "FullyQualifiedName": item_name, "Type": "Service", "Active": True}
        expense = {"ExpenseAccountRef": _ref(accounts[account_number]), "PurchaseCost": 0}
        store.insert("Item", item | expense, quiet=True)
    for name, days in TERMS:
        store.insert("Term", {"Name": name, "Active": True, "Type": "STANDARD", "DueDays": days}, quiet=True)
    codes = US_TAX_CODES if store.country == "US" else UK_TAX_CODES + UK_TAX_CODES_EXEMPT
    for name, description, taxable in codes:
        code = {"Name": name, "Description": description, "Active": True, "Taxable": taxable, "TaxGroup": False}
        store.insert("TaxCode", code, quiet=True)
    for currency in store.rates:
        store.insert("CompanyCurrency", {"Code": currency, "Name": currency, "Active": True}, quiet=True)


def _rates(home: str, multicurrency: bool) -> dict[str, Decimal]:
    if not multicurrency:
        return {}
    home_in_usd = USD_RATES[home]
    return {code: (usd / home_in_usd).quantize(RATE_PLACES) for code, usd in USD_RATES.items() if code != home}


def seeded_realms(seed: int, now: Callable[[], datetime]) -> dict[str, RealmStore]:
    """The sandbox's companies: `MAIN_REALM` (US, USD, multicurrency) and `UK_REALM` (GBP, one currency)."""

    def seeded_at() -> datetime:
        return now() - SEED_AGE

    realms = {
        MAIN_REALM: RealmStore(
            MAIN_REALM, "Ledgerline Demo Co", "US", "USD", True, seeded_at, rates=_rates("USD", True)
        ),
        UK_REALM: RealmStore(UK_REALM, "Ledgerline UK Ltd", "GB", "GBP", False, seeded_at, rates=_rates("GBP", False)),
    }
    for offset, store in enumerate(realms.values()):
        seed_realm(store, random.Random(seed * 1000 + offset))
        store.now = now
    return realms


def default_account(store: RealmStore, account_type: str) -> dict[str, Any] | None:
    return next((acct for acct in store.all("Account") if acct["AccountType"] == account_type and acct["Active"]), None)
