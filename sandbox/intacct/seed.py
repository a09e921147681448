"""Deterministic master data per company, generated from `random.Random` lazily and cached per seed.

A reset must stay far below 100 ms, so rows are generated per (seed, company, object) the first time a table is
read, cached, and shared read-only by every store made from them; writes never touch them (see `store.Table`).
Each object draws from its own `Random`, so generating one never shifts the rows of another.
"""

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache

from sandbox.intacct.constants import (
    BASE_CURRENCY,
    ENTITY_IDS,
    INACTIVE_EVERY,
    PRIVATE_EVERY,
    SEED_EPOCH,
    SEED_SPAN_DAYS,
    UDD_VALUES,
    VOLUMES_MULTI,
    VOLUMES_SINGLE,
)
from sandbox.intacct.schema import MASTER_OBJECTS, UDD_FIELDS, ObjectDef
from sandbox.intacct.values import format_date, format_timestamp

Record = dict[str, str]


def _words(text: str, separator: str | None = None) -> tuple[str, ...]:
    """Word lists kept as one string each, so they read as prose rather than a column of quotes."""
    return tuple(text.split(separator))


ENTITY_NAMES = {"E100": ("Ledgerline US", "USD", "US"), "E200": ("Ledgerline UK", "GBP", "GB")}
_FIRST = _words(
    "Ada Ben Chloe Dev Elena Farid Grace Hiro Ines Jon Kavya Liam Mei Noah Olga Priya Quinn Rosa Sam "
    "Tariq Uma Vik Wen Yara Zoe"
)
_LAST = _words(
    "Adams Baker Chen Diaz Evans Fischer Garcia Haddad Ito Jensen Khan Lopez Martin Nguyen Okafor Patel "
    "Rossi Silva Tanaka Usman Varga Weber Young"
)
_WORDS = _words(
    "Summit Harbor Atlas Cedar Beacon Granite Meridian Pioneer Riverside Northwind Bluebird Keystone "
    "Silverline Evergreen Orchard Lakeside Redwood Ironclad"
)
_TRADES = _words(
    "Supplies Logistics Consulting Catering Travel Software Print Facilities Media Hardware Couriers Labs "
    "Analytics Rentals"
)
_SUFFIXES = ("Inc", "LLC", "Ltd", "Co", "Group", "Partners")
_CITIES = _words(
    "New York|San Francisco|Austin|Chicago|Seattle|Boston|Denver|Atlanta|London|"
    "Manchester|Toronto|Sydney|Berlin|Paris|Dublin|Singapore|Bangalore|Tokyo",
    "|",
)
_DEPARTMENTS = _words("Sales Engineering Marketing Finance Operations Support Legal People Product Research")
_EXPENSE_TYPES = _words(
    "Travel|Meals|Lodging|Mileage|Airfare|Office Supplies|Software|"
    "Training|Telephone|Entertainment|Parking|Taxi|Conferences|Postage|Equipment",
    "|",
)
_ACCOUNT_CLASSES = (  # first digit of ACCOUNTNO → (category, type, normal balance)
    ("Cash and Equivalents", "balancesheet", "debit"),
    ("Current Assets", "balancesheet", "debit"),
    ("Accounts Payable", "balancesheet", "credit"),
    ("Equity", "balancesheet", "credit"),
    ("Revenue", "incomestatement", "credit"),
    ("Cost of Sales", "incomestatement", "debit"),
    ("Operating Expenses", "incomestatement", "debit"),
    ("Travel and Entertainment", "incomestatement", "debit"),
)


@dataclass(frozen=True)
class SeedSpec:
    """Which data: the same spec always yields the same rows."""

    seed: int
    company_id: str
    multi_entity: bool

    @property
    def entities(self) -> tuple[str, ...]:
        return ENTITY_IDS if self.multi_entity else ()


UDD_NAMES = tuple(UDD_VALUES)


class _Context:
    def __init__(self, spec: SeedSpec, object_name: str) -> None:
        self.spec = spec
        self.rng = random.Random(f"{spec.seed}:{spec.company_id}:{object_name}")
        self.multi = spec.multi_entity
        self.volumes = VOLUMES_MULTI if spec.multi_entity else VOLUMES_SINGLE

    def rows(self, object_name: str) -> tuple[Record, ...]:
        return seed_rows(self.spec, object_name)

    def stamp(self) -> tuple[str, str]:
        created = SEED_EPOCH - timedelta(days=SEED_SPAN_DAYS, seconds=-self.rng.randrange(SEED_SPAN_DAYS * 43_200))
        modified = created + timedelta(seconds=self.rng.randrange(SEED_SPAN_DAYS * 43_200))
        return format_timestamp(created), format_timestamp(modified)

    def pick(self, object_name: str, field: str) -> str:
        rows = self.rows(object_name)
        return self.rng.choice(rows)[field] if rows else ""

    def entity_for(self, index: int) -> str:
        """Every PRIVATE_EVERY-th row of an entity-owned list belongs to one entity in a multi-entity company."""
        if not self.multi or index % PRIVATE_EVERY != PRIVATE_EVERY - 1:
            return ""
        return ENTITY_IDS[(index // PRIVATE_EVERY) % len(ENTITY_IDS)]


def _company_name(rng: random.Random) -> str:
    return f"{rng.choice(_WORDS)} {rng.choice(_TRADES)} {rng.choice(_SUFFIXES)}"


def _glaccount(ctx: _Context, index: int) -> Record:
    number = 10000 + index * (70000 // ctx.volumes["GLACCOUNT"])  # spread over every account class
    category, kind, balance = _ACCOUNT_CLASSES[min(number // 10000 - 1, len(_ACCOUNT_CLASSES) - 1)]
    return {
        "ACCOUNTNO": str(number),
        "TITLE": f"{category} - {ctx.rng.choice(_WORDS)} {index:04d}",
        "ACCOUNTTYPE": kind,
        "NORMALBALANCE": balance,
        "CATEGORY": category,
        "REQUIREDEPT": "false",
        "REQUIRELOC": "false",
        "CLOSINGTYPE": "closing account" if kind == "incomestatement" else "non-closing account",
    }


def _vendor(ctx: _Context, index: int) -> Record:
    name = _company_name(ctx.rng)
    vendor_id = f"V{index + 1:05d}"
    slug = name.split()[0].lower()
    return {
        "VENDORID": vendor_id,
        "NAME": name,
        "DISPLAYCONTACT.CONTACTNAME": f"{name} ({vendor_id})",
        "DISPLAYCONTACT.COMPANYNAME": name,
        "DISPLAYCONTACT.PRINTAS": name,
        "DISPLAYCONTACT.EMAIL1": f"ap+{index}@{slug}.example",
        "DISPLAYCONTACT.PHONE1": f"555-{index:04d}",
        "VENDTYPE": ctx.rng.choice(("Supplier", "Contractor", "Employee")),
        "APACCOUNT": "30000",
        "APACCOUNTTITLE": "Accounts Payable",
        "ONETIME": "false",
        "ONHOLD": "false",
        "CURRENCY": BASE_CURRENCY,
        "MEGAENTITYID": ctx.entity_for(index),
    }


def _employee(ctx: _Context, index: int) -> Record:
    first, last = ctx.rng.choice(_FIRST), ctx.rng.choice(_LAST)
    entity = ctx.entity_for(index)
    location = ctx.pick("LOCATION", "LOCATIONID")
    if entity:
        location = next(row["LOCATIONID"] for row in ctx.rows("LOCATION") if row["MEGAENTITYID"] == entity)
    return {
        "EMPLOYEEID": str(1001 + index),
        "TITLE": ctx.rng.choice(("Analyst", "Manager", "Engineer", "Director")),
        "LOCATIONID": location,
        "DEPARTMENTID": ctx.pick("DEPARTMENT", "DEPARTMENTID"),
        "STARTDATE": format_date((SEED_EPOCH - timedelta(days=400 + index)).date()),
        "EMPLOYEETYPE": "Full Time",
        "CONTACT.CONTACTNAME": f"{last}, {first} ({1001 + index})",
        "CONTACT.FIRSTNAME": first,
        "CONTACT.LASTNAME": last,
        "CONTACT.PRINTAS": f"{first} {last}",
        "CONTACT.EMAIL1": f"{first}.{last}.{index}@ledgerline.example".lower(),
        "CURRENCY": BASE_CURRENCY,
        "MEGAENTITYID": entity,
    }


def _department(ctx: _Context, index: int) -> Record:
    name = _DEPARTMENTS[index % len(_DEPARTMENTS)]
    return {
        "DEPARTMENTID": str(100 + index * 10),
        "TITLE": name if index < len(_DEPARTMENTS) else f"{name} {index // len(_DEPARTMENTS)}",
        "SUPERVISORNAME": f"{ctx.rng.choice(_FIRST)} {ctx.rng.choice(_LAST)}",
    }


def _location(ctx: _Context, index: int) -> Record:
    entity = ENTITY_IDS[index % len(ENTITY_IDS)] if ctx.multi else ""
    city = _CITIES[index % len(_CITIES)]
    return {
        "LOCATIONID": str((index + 1) * 100),
        "NAME": city if index < len(_CITIES) else f"{city} {index}",
        "PARENTID": entity,
        "CURRENCY": ENTITY_NAMES[entity][1] if entity else BASE_CURRENCY,
        "MEGAENTITYID": entity,
    }


def _class(ctx: _Context, index: int) -> Record:
    name = f"{ctx.rng.choice(_WORDS)} Program"
    return {"CLASSID": f"C{index + 1:03d}", "NAME": name, "DESCRIPTION": f"{name} {index}"}


def _customer(ctx: _Context, index: int) -> Record:
    return {
        "CUSTOMERID": f"C-{index + 1:05d}",
        "NAME": _company_name(ctx.rng),
        "ONETIME": "false",
        "ONHOLD": "false",
        "TOTALDUE": "0.00",
        "ENTITY": f"C-{index + 1:05d}",
    }


def _project(ctx: _Context, index: int) -> Record:
    customer = ctx.rng.choice(ctx.rows("CUSTOMER"))
    return {
        "PROJECTID": str(10001 + index),
        "NAME": f"{ctx.rng.choice(_WORDS)} {ctx.rng.choice(_TRADES)} Rollout",
        "CURRENCY": BASE_CURRENCY,
        "PROJECTCATEGORY": "Contract",
        "PROJECTSTATUS": "In Progress",
        "CUSTOMERID": customer["CUSTOMERID"],
        "CUSTOMERNAME": customer["NAME"],
        "CUSTOMERKEY": customer["RECORDNO"],
        "PROJECTTYPE": "External",
        "MEGAENTITYID": ctx.entity_for(index),
    }


def _item(ctx: _Context, index: int) -> Record:
    return {
        "ITEMID": f"I-{index + 1:04d}",
        "NAME": f"{ctx.rng.choice(_TRADES)} service {index + 1}",
        "ITEMTYPE": "Non-Inventory",
        "GLGROUP": "Services",
    }


def _taxdetail(ctx: _Context, index: int) -> Record:
    rate = (index % 5) * 5 + 5
    return {
        "DETAILID": f"Tax {rate}% #{index + 1}",
        "DESCRIPTION": f"Purchase tax at {rate}%",
        "TAXTYPE": "Purchase",
        "VALUE": f"{rate}.00",
        "TAXRATE": f"{rate}.00",
        "GLACCOUNT": "20100",
        "TAXSOLUTIONID": "Standard",
    }


def _creditcard(ctx: _Context, index: int) -> Record:
    brand = ("AMEX", "VISA", "MC")[index % 3]
    return {
        "CARDID": f"{brand}-{1001 + index}",
        "DESCRIPTION": f"{brand} corporate card {index + 1}",
        "CARDTYPE": brand,
        "EXP_MONTH": "December",
        "EXP_YEAR": "2030",
        "LIABILITYTYPE": "Corporate",
        "VENDORID": ctx.pick("VENDOR", "VENDORID"),
        "CURRENCY": BASE_CURRENCY,
    }


def _checkingaccount(ctx: _Context, index: int) -> Record:
    return {
        "BANKACCOUNTID": f"BOA-{index + 1:02d}",
        "BANKACCOUNTNO": f"00012{index:05d}",
        "GLACCOUNTNO": "10030",
        "BANKNAME": "Bank of Ledgers",
        "ROUTINGNO": "121000358",
        "BANKACCOUNTTYPE": "checking",
        "COMPANYNAME": "Ledgerline",
        "CURRENCY": BASE_CURRENCY,
    }


def _expense_type(ctx: _Context, index: int) -> Record:
    expense_accounts = [row for row in ctx.rows("GLACCOUNT") if int(row["ACCOUNTNO"]) >= 70000]
    account = expense_accounts[index % len(expense_accounts)]
    name = _EXPENSE_TYPES[index % len(_EXPENSE_TYPES)]
    return {
        "ACCOUNTLABEL": name if index < len(_EXPENSE_TYPES) else f"{name} {index // len(_EXPENSE_TYPES)}",
        "DESCRIPTION": f"{name} expenses",
        "GLACCOUNTNO": account["ACCOUNTNO"],
        "GLACCOUNTTITLE": account["TITLE"],
    }


_GENERATORS: dict[str, Callable[[_Context, int], Record]] = {  # each may read the rows of the others
    "GLACCOUNT": _glaccount,
    "DEPARTMENT": _department,
    "LOCATION": _location,
    "CLASS": _class,
    "CUSTOMER": _customer,
    "PROJECT": _project,
    "VENDOR": _vendor,
    "EMPLOYEE": _employee,
    "ITEM": _item,
    "TAXDETAIL": _taxdetail,
    "CREDITCARD": _creditcard,
    "CHECKINGACCOUNT": _checkingaccount,
    "EEACCOUNTLABEL": _expense_type,
}

_PAYMENT_TYPES = (
    ("Company Credit Card", "true"),
    ("Personal Card", "false"),
    ("Cash", "false"),
    ("Reimbursable", "false"),
)


def _finish(ctx: _Context, definition: ObjectDef, index: int, values: Record) -> Record:
    """Fill the fields every master row has: record number, status, stamps, entity, blanks for the rest."""
    row = dict.fromkeys(definition.field_names, "")
    row.update(values)
    created, modified = ctx.stamp()
    row["RECORDNO"] = str(index + 1)
    row["WHENCREATED"], row["WHENMODIFIED"] = created, modified
    if "STATUS" in row:
        row["STATUS"] = "inactive" if index % INACTIVE_EVERY == INACTIVE_EVERY - 1 else "active"
    entity = row.get("MEGAENTITYID", "")
    if entity:
        row["MEGAENTITYKEY"] = str(ENTITY_IDS.index(entity) + 1)
        row["MEGAENTITYNAME"] = ENTITY_NAMES[entity][0]
    return row


def _entities(ctx: _Context, definition: ObjectDef) -> list[Record]:
    if not ctx.multi:
        return []
    return [
        _finish(
            ctx,
            definition,
            index,
            {
                "LOCATIONID": entity,
                "NAME": name,
                "REPORTPRINTAS": name,
                "CURRENCY": currency,
                "OPCOUNTRY": country,
                "LEGALNAME": f"{name} Limited",
                "FIRSTMONTH": "January",
                "WEEKSTART": "Monday",
            },
        )
        for index, (entity, (name, currency, country)) in enumerate(ENTITY_NAMES.items())
    ]


def _udd_rows(ctx: _Context, name: str) -> list[Record]:
    rows = []
    for index in range(UDD_VALUES[name]):
        created, modified = ctx.stamp()
        values = (
            str(index + 1),
            f"{name.title()} {ctx.rng.choice(_WORDS)} {index + 1}",
            f"{name.title()} value",
            "1",
            "1",
            created,
            modified,
        )
        rows.append(dict(zip(UDD_FIELDS, values, strict=True)))
    return rows


@lru_cache(maxsize=256)
def seed_rows(spec: SeedSpec, object_name: str) -> tuple[Record, ...]:
    """The seeded rows of one object of one company (none for documents: clients create those)."""
    ctx = _Context(spec, object_name)
    definitions = {definition.name: definition for definition in MASTER_OBJECTS}
    if object_name in UDD_VALUES:
        return tuple(_udd_rows(ctx, object_name))
    if object_name == "LOCATIONENTITY":
        return tuple(_entities(ctx, definitions[object_name]))
    if object_name == "EXPENSEPAYMENTTYPE":
        return tuple(
            _finish(
                ctx,
                definitions[object_name],
                index,
                {"NAME": name, "DESCRIPTION": name, "NONREIMBURSABLE": flag, "OFFSETACCTNO": "30000"},
            )
            for index, (name, flag) in enumerate(_PAYMENT_TYPES)
        )
    generate = _GENERATORS.get(object_name)
    if generate is None:
        return ()
    rows = [
        _finish(ctx, definitions[object_name], index, generate(ctx, index)) for index in range(ctx.volumes[object_name])
    ]
    if object_name == "LOCATION" and ctx.multi:  # entities are locations too, shared at the top level
        rows.extend(
            _finish(
                ctx,
                definitions[object_name],
                len(rows) + index,
                {"LOCATIONID": entity, "NAME": ENTITY_NAMES[entity][0], "CURRENCY": ENTITY_NAMES[entity][1]},
            )
            for index, entity in enumerate(ENTITY_IDS)
        )
    return tuple(rows)
