"""Checks every write shares: references to master data (exists, visible in the entity, active), amounts, dates,
open periods, currencies. A `Checker` collects all problems of one document, then refuses it with them all."""

from datetime import date
from decimal import Decimal
from xml.etree.ElementTree import Element

from sandbox.intacct.constants import BASE_CURRENCY, KNOWN_CURRENCIES
from sandbox.intacct.context import Context
from sandbox.intacct.errors import (
    ErrorDetail,
    business,
    could_not_create,
    inactive_reference,
    invalid_reference,
    missing_field,
    not_a_date,
    not_a_number,
)
from sandbox.intacct.seed import Record
from sandbox.intacct.store import visible
from sandbox.intacct.values import parse_date, parse_decimal, parse_legacy_date

GENERIC_DIMENSIONS: dict[str, tuple[str, str]] = {
    "LOCATIONID": ("LOCATION", "Location"),
    "DEPARTMENTID": ("DEPARTMENT", "Department"),
    "PROJECTID": ("PROJECT", "Project"),
    "CUSTOMERID": ("CUSTOMER", "Customer"),
    "VENDORID": ("VENDOR", "Vendor"),
    "EMPLOYEEID": ("EMPLOYEE", "Employee"),
    "ITEMID": ("ITEM", "Item"),
    "CLASSID": ("CLASS", "Class"),
}
"""Dimension fields of generic (upper-case) lines and the objects they must name."""
JOURNAL_DIMENSIONS: dict[str, tuple[str, str]] = {
    **GENERIC_DIMENSIONS,
    "LOCATION": ("LOCATION", "Location"),
    "DEPARTMENT": ("DEPARTMENT", "Department"),
}
"""GLENTRY names location and department without the ID suffix; both spellings are accepted."""
LEGACY_DIMENSIONS: dict[str, tuple[str, str]] = {name.lower(): target for name, target in GENERIC_DIMENSIONS.items()}
UDD_PREFIX = "GLDIM"
"""A user-defined dimension on a line is the field GLDIM<NAME> (e.g. GLDIMPARTNER)."""


def month_name(day: date) -> str:
    return f"Month Ended {day.strftime('%B %Y')}"


class Checker:
    def __init__(self, ctx: Context, label: str) -> None:
        self.ctx = ctx
        self.label = label
        self.errors: list[ErrorDetail] = []

    def fail(self, error: ErrorDetail) -> None:
        self.errors.append(error)

    def done(self) -> None:
        """Refuse the document if anything failed: every cause, then `Could not create … record!`."""
        if self.errors:
            raise could_not_create(self.label, *self.errors)

    def text(self, element: Element, tag: str, *, required: bool = False) -> str:
        value = (element.findtext(tag) or "").strip()
        if required and not value:
            self.fail(missing_field(tag, self.label))
        return value

    def amount(self, element: Element, tag: str, *, required: bool = True) -> Decimal | None:
        text = self.text(element, tag, required=required)
        if not text:
            return None
        value = parse_decimal(text)
        if value is None:
            self.fail(not_a_number(tag, text))
        return value

    def date_of(self, element: Element, tag: str, *, required: bool = True) -> date | None:
        text = self.text(element, tag, required=required)
        if not text:
            return None
        value = parse_date(text)
        if value is None:
            self.fail(not_a_date(tag, text))
        return value

    def legacy_date_of(self, element: Element, tag: str) -> date | None:
        """A required `<tag><year/><month/><day/></tag>` date of the legacy functions."""
        container = element.find(tag)
        value = parse_legacy_date(container)
        if value is None:
            self.fail(
                missing_field(tag, self.label)
                if container is None
                else not_a_date(tag, "".join(container.itertext()).strip())
            )
        return value

    def reference(self, object_name: str, value: str, label: str) -> Record | None:
        """The active, visible row `value` names in `object_name`, or None after recording why not."""
        table = self.ctx.store.table(object_name)
        row = table.find(value) if table is not None else None
        if row is None and table is not None and value.isdigit():
            row = table.get(int(value)) if object_name in self.ctx.store.udd_names else None
        if row is None or not visible(row, self.ctx.entity, False):
            self.fail(invalid_reference(label, value))
            return None
        if row.get("STATUS") == "inactive":
            self.fail(inactive_reference(label, value))
            return None
        return row

    def dimensions(self, line: Element, fields: dict[str, tuple[str, str]]) -> None:
        for tag, (object_name, label) in fields.items():
            value = (line.findtext(tag) or "").strip()
            if value:
                self.reference(object_name, value, label)
        for child in line:
            name = child.tag.upper().removeprefix(UDD_PREFIX)
            if child.tag.upper().startswith(UDD_PREFIX) and (child.text or "").strip():
                if name in self.ctx.store.udd_names:
                    self.reference(name, (child.text or "").strip(), name.title())
                else:
                    self.fail(business(f"Invalid dimension field {child.tag}."))

    def open_period(self, day: date | None) -> None:
        if day is not None and not self.ctx.store.periods_of(self.ctx.entity).is_open(day):
            self.fail(
                business(
                    f"Periods are closed. Your transaction date ({day.strftime('%m/%d/%Y')}) is within a period "
                    "that's been closed.",
                    f"Post the transaction into an open period, or ask your administrator to reopen the period "
                    f"'{month_name(day)}'.",
                )
            )

    def currency(self, value: str) -> str:
        if not value:
            return base_currency(self.ctx)
        if value.upper() not in KNOWN_CURRENCIES:
            self.fail(business(f"Currency {value} is not valid", "Use an ISO 4217 currency code."))
        return value.upper()


def base_currency(ctx: Context) -> str:
    """An entity's own currency inside the entity; the company's otherwise."""
    table = ctx.store.table("LOCATIONENTITY")
    entity = table.find(ctx.entity) if ctx.entity and table is not None else None
    return entity["CURRENCY"] if entity else BASE_CURRENCY
