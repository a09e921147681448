"""Which Intacct object each dimension type reads, and how one of its records becomes a `DimensionValue`.

`remote_id` is the identifier documents reference (ACCOUNTNO on a line, VENDORID on a bill, ACCOUNTLABEL as an
expense type…), so a mapping can be written straight into a document.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from connectors.intacct import constants as names
from connectors.intacct.constants import TIMESTAMP_FORMAT, UDD_PREFIX
from core.domain import DimensionValue
from core.errors import ValidationError

ACTIVE = "active"


@dataclass(frozen=True)
class DimensionObject:
    object_name: str
    key: str
    """The field documents reference."""
    name: str
    """The field people recognise the value by."""
    details: tuple[str, ...] = ()
    """Further fields kept in `detail` (an expense type's GL account, an employee's location…)."""
    status: str | None = "STATUS"
    modified: str = "WHENMODIFIED"

    @property
    def fields(self) -> tuple[str, ...]:
        extra = (self.status,) if self.status else ()
        return tuple(dict.fromkeys((self.key, self.name, *self.details, *extra, self.modified)))

    def since(self, moment: datetime) -> str:
        """The readByQuery condition for values changed at or after `moment` (Intacct compares in UTC)."""
        return f"{self.modified} >= '{moment.astimezone(UTC).strftime(TIMESTAMP_FORMAT)}'"

    def value(self, attribute_type: str, row: Mapping[str, str]) -> DimensionValue:
        modified = row.get(self.modified, "")
        return DimensionValue(
            attribute_type=attribute_type,
            remote_id=row[self.key],
            name=row.get(self.name) or row[self.key],
            active=self.status is None or row.get(self.status, ACTIVE) == ACTIVE,
            code=row[self.key],
            detail={field: row[field] for field in self.details if row.get(field)},
            updated_at=datetime.strptime(modified, TIMESTAMP_FORMAT).replace(tzinfo=UTC) if modified else None,
        )


OBJECTS: dict[str, DimensionObject] = {
    names.ACCOUNT: DimensionObject("GLACCOUNT", "ACCOUNTNO", "TITLE", ("ACCOUNTTYPE", "CATEGORY")),
    names.EXPENSE_TYPE: DimensionObject(
        "EEACCOUNTLABEL", "ACCOUNTLABEL", "DESCRIPTION", ("GLACCOUNTNO", "GLACCOUNTTITLE")
    ),
    names.VENDOR: DimensionObject("VENDOR", "VENDORID", "NAME", ("DISPLAYCONTACT.EMAIL1", "CURRENCY")),
    names.EMPLOYEE: DimensionObject(
        "EMPLOYEE", "EMPLOYEEID", "CONTACT.PRINTAS", ("CONTACT.EMAIL1", "LOCATIONID", "DEPARTMENTID")
    ),
    names.DEPARTMENT: DimensionObject("DEPARTMENT", "DEPARTMENTID", "TITLE"),
    names.LOCATION: DimensionObject("LOCATION", "LOCATIONID", "NAME", ("PARENTID",)),
    names.ENTITY: DimensionObject("LOCATIONENTITY", "LOCATIONID", "NAME", ("CURRENCY",)),
    names.CLASS: DimensionObject("CLASS", "CLASSID", "NAME"),
    names.PROJECT: DimensionObject("PROJECT", "PROJECTID", "NAME", ("CUSTOMERID",)),
    names.CUSTOMER: DimensionObject("CUSTOMER", "CUSTOMERID", "NAME"),
    names.ITEM: DimensionObject("ITEM", "ITEMID", "NAME"),
    names.TAX_DETAIL: DimensionObject("TAXDETAIL", "DETAILID", "DESCRIPTION", ("TAXRATE", "TAXTYPE")),
    names.CHARGE_CARD_ACCOUNT: DimensionObject("CREDITCARD", "CARDID", "DESCRIPTION", ("CURRENCY",)),
    names.CHECKING_ACCOUNT: DimensionObject(
        "CHECKINGACCOUNT", "BANKACCOUNTID", "BANKACCOUNTID", ("BANKNAME", "GLACCOUNTNO", "CURRENCY")
    ),
}
"""The standard dimension types, in the order `spec.streams` lists them."""


def user_defined(object_name: str) -> DimensionObject:
    """A user-defined dimension is a platform object: lower-case fields, no status (every value is usable)."""
    return DimensionObject(object_name, "id", "name", ("description",), status=None, modified="whenModified")


def udd_object_name(attribute_type: str) -> str | None:
    """`udd:PARTNER` → `PARTNER`; None for a standard type."""
    return attribute_type.removeprefix(UDD_PREFIX) if attribute_type.startswith(UDD_PREFIX) else None


def unknown_type(attribute_type: str) -> ValidationError:
    return ValidationError(
        f"Sage Intacct has no dimension type {attribute_type!r}.",
        code="unknown_dimension_type",
        hint=f"Use one of {', '.join(OBJECTS)} or udd:<NAME> for a user-defined dimension.",
    )
