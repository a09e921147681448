"""Deterministic books for each seeded organisation: a chart of accounts (expense, bank, card, payables),
suppliers (a few archived, one in a foreign currency), two tracking categories with options, tax rates, items
and currencies. The same seed always gives the same ids, so tests and the demo can name them."""

import random
import uuid
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

from sandbox.xero.constants import ORGANISATIONS
from sandbox.xero.store import OrgStore

EXPENSE_ACCOUNTS = (
    ("400", "Advertising"),
    ("404", "Bank Fees"),
    ("408", "Cleaning"),
    ("412", "Consulting & Accounting"),
    ("420", "Entertainment"),
    ("425", "Freight & Courier"),
    ("429", "General Expenses"),
    ("433", "Insurance"),
    ("445", "Light, Power, Heating"),
    ("449", "Motor Vehicle Expenses"),
    ("453", "Office Expenses"),
    ("461", "Printing & Stationery"),
    ("469", "Rent"),
    ("473", "Repairs and Maintenance"),
    ("485", "Subscriptions"),
    ("489", "Telephone & Internet"),
    ("493", "Travel - National"),
    ("494", "Travel - International"),
)
SUPPLIERS = (
    "Acme Office Supplies",
    "Blue Sky Airlines",
    "City Cabs",
    "Corner Coffee",
    "Delta Hotels",
    "Express Couriers",
    "Fresh Catering",
    "Globe Telecom",
    "Harbour Parking",
    "Ink & Paper Co",
    "Jet Rentals",
    "Keystone Insurance",
    "Lighthouse Software",
    "Metro Rail",
    "Northwind Traders",
    "Orbit Internet",
    "Pinnacle Consulting",
    "Quill Stationers",
    "Riverside Restaurant",
    "Summit Conferences",
)
ARCHIVED_SUPPLIERS = ("Old Vendor Ltd", "Closed Cafe")
REGIONS = ("North", "South", "East", "West")
DEPARTMENTS = ("Engineering", "Sales", "Finance", "Operations")
TAX_RATES = {
    "USD": (("NONE", "Tax Exempt", Decimal("0")), ("INPUT", "Tax on Purchases", Decimal("8.5"))),
    "GBP": (
        ("NONE", "No VAT", Decimal("0")),
        ("INPUT2", "20% (VAT on Expenses)", Decimal("20")),
        ("ZERORATEDINPUT", "Zero Rated Expenses", Decimal("0")),
    ),
}
FOREIGN = {"USD": ("EUR", "Euro"), "GBP": ("USD", "United States Dollar")}
CURRENCY_NAMES = {"USD": "United States Dollar", "GBP": "Great British Pound", "EUR": "Euro"}


def _id(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _account(rng: random.Random, code: str, name: str, kind: str, cls: str, tax: str, **extra: Any) -> dict[str, Any]:
    return {
        "AccountID": _id(rng),
        "Code": code,
        "Name": name,
        "Type": kind,
        "Status": "ACTIVE",
        "TaxType": tax,
        "Class": cls,
        "EnablePaymentsToAccount": False,
        "ShowInExpenseClaims": kind == "EXPENSE",
        "ReportingCode": cls[:3],
        "HasAttachments": False,
        **extra,
    }


def _contact(rng: random.Random, name: str, status: str, currency: str | None = None) -> dict[str, Any]:
    contact: dict[str, Any] = {
        "ContactID": _id(rng),
        "ContactStatus": status,
        "Name": name,
        "EmailAddress": name.lower().replace(" ", ".").replace("&", "and") + "@example.com",
        "IsSupplier": True,
        "IsCustomer": False,
        "HasAttachments": False,
        "Addresses": [],
        "Phones": [],
        "ContactGroups": [],
        "ContactPersons": [],
        "HasValidationErrors": False,
    }
    if currency:
        contact["DefaultCurrency"] = currency
    return contact


def _tracking(rng: random.Random, name: str, options: tuple[str, ...]) -> dict[str, Any]:
    return {
        "TrackingCategoryID": _id(rng),
        "Name": name,
        "Status": "ACTIVE",
        "Options": [
            {
                "TrackingOptionID": _id(rng),
                "Name": option,
                "Status": "ACTIVE",
                "IsActive": True,
                "IsDeleted": False,
                "IsArchived": False,
            }
            for option in options
        ],
    }


def _organisation(tenant: str, name: str, short: str, currency: str, country: str) -> dict[str, Any]:
    return {
        "OrganisationID": tenant,
        "APIKey": "",
        "Name": name,
        "LegalName": name,
        "PaysTax": True,
        "Version": "US" if country == "US" else "UK",
        "OrganisationType": "COMPANY",
        "BaseCurrency": currency,
        "CountryCode": country,
        "IsDemoCompany": False,
        "OrganisationStatus": "ACTIVE",
        "FinancialYearEndDay": 31,
        "FinancialYearEndMonth": 12,
        "SalesTaxBasis": "ACCRUALS",
        "DefaultSalesTax": "Tax Exclusive",
        "DefaultPurchasesTax": "Tax Exclusive",
        "PeriodLockDate": None,
        "EndOfYearLockDate": None,
        "Timezone": "EASTERNSTANDARDTIME" if country == "US" else "GMTSTANDARDTIME",
        "OrganisationEntityType": "COMPANY",
        "ShortCode": short,
        "Edition": "BUSINESS",
        "Class": "STANDARD",
        "Addresses": [],
        "Phones": [],
        "ExternalLinks": [],
        "PaymentTerms": {},
    }


def seed_organisation(index: int, seed: int, now: Callable[[], datetime]) -> OrgStore:
    tenant, name, short, currency, country = ORGANISATIONS[index]
    rng = random.Random(f"xero:{seed}:{tenant}")
    store = OrgStore(tenant, _organisation(tenant, name, short, currency, country), now)
    rates = TAX_RATES[currency]
    purchase_tax = rates[1][0]
    for code, title in EXPENSE_ACCOUNTS:
        store.put("Accounts", _account(rng, code, title, "EXPENSE", "EXPENSE", purchase_tax), created=False)
    store.put(
        "Accounts",
        _account(rng, "800", "Accounts Payable", "CURRLIAB", "LIABILITY", "NONE", SystemAccount="CREDITORS"),
        created=False,
    )
    store.put(
        "Accounts",
        _account(
            rng,
            "090",
            "Business Bank Account",
            "BANK",
            "ASSET",
            "NONE",
            BankAccountNumber="12-3456-7890123-00",
            BankAccountType="BANK",
            CurrencyCode=currency,
            EnablePaymentsToAccount=True,
        ),
        created=False,
    )
    store.put(
        "Accounts",
        _account(
            rng,
            "091",
            "Company Credit Card",
            "BANK",
            "ASSET",
            "NONE",
            BankAccountNumber="4111-0000-0000-1111",
            BankAccountType="CREDITCARD",
            CurrencyCode=currency,
            EnablePaymentsToAccount=True,
        ),
        created=False,
    )
    store.put(
        "Accounts",
        _account(rng, "477", "Wages and Salaries", "EXPENSE", "EXPENSE", "NONE", Status="ARCHIVED"),
        created=False,
    )
    foreign, _ = FOREIGN[currency]
    for supplier in SUPPLIERS:
        store.put("Contacts", _contact(rng, supplier, "ACTIVE"), created=False)
    store.put("Contacts", _contact(rng, f"Overseas Supplier ({foreign})", "ACTIVE", foreign), created=False)
    for supplier in ARCHIVED_SUPPLIERS:
        store.put("Contacts", _contact(rng, supplier, "ARCHIVED"), created=False)
    store.put("TrackingCategories", _tracking(rng, "Region", REGIONS), created=False)
    store.put("TrackingCategories", _tracking(rng, "Department", DEPARTMENTS), created=False)
    for tax_type, title, rate in rates:
        store.put(
            "TaxRates",
            {
                "Name": title,
                "TaxType": tax_type,
                "Status": "ACTIVE",
                "ReportTaxType": "INPUT",
                "CanApplyToAssets": True,
                "CanApplyToEquity": True,
                "CanApplyToExpenses": True,
                "CanApplyToLiabilities": True,
                "CanApplyToRevenue": False,
                "DisplayTaxRate": rate,
                "EffectiveRate": rate,
                "TaxComponents": [{"Name": title, "Rate": rate, "IsCompound": False, "IsNonRecoverable": False}],
            },
            created=False,
        )
    for code, title in (("MILEAGE", "Mileage"), ("PERDIEM", "Per diem"), ("TRAIN", "Train ticket")):
        store.put(
            "Items",
            {
                "ItemID": _id(rng),
                "Code": code,
                "Name": title,
                "Description": title,
                "IsSold": False,
                "IsPurchased": True,
                "IsTrackedAsInventory": False,
                "PurchaseDetails": {"AccountCode": "493", "TaxType": purchase_tax},
            },
            created=False,
        )
    for code in (currency, foreign):
        store.put("Currencies", {"Code": code, "Description": CURRENCY_NAMES[code]}, created=False)
    store.creates.clear()
    return store


def seeded_organisations(seed: int, now: Callable[[], datetime]) -> dict[str, OrgStore]:
    stores = (seed_organisation(index, seed, now) for index in range(len(ORGANISATIONS)))
    return {store.tenant_id: store for store in stores}
