"""Xero's lists as Ledgerline dimension values: accounts, contacts, tax rates, items, and each organisation's own
tracking categories (`tracking:<NAME>`, the spec's user dimensions: Xero lets each organisation name at most two
active categories, so they cannot be fixed types).

Archived and deleted values are imported too, inactive, so the engine marks them so: accounts and tax rates list
every status unasked, contacts need `includeArchived`, tracking categories `includeArchived` (their options carry
their own status). Items have no status; Xero deletes them, which the daily full pass sees.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from connectors.xero.constants import (
    ACCOUNTS_PATH,
    CONTACTS_PATH,
    DISPLAY_NAME,
    IF_MODIFIED_SINCE,
    ITEMS_PATH,
    TAX_RATES_PATH,
    TRACKING_PATH,
    TRACKING_PREFIX,
)
from connectors.xero.documents import TrackingOption
from connectors.xero.wire import http_date, timestamp_of
from core.domain import DimensionValue
from core.errors import ValidationError

ACTIVE = "ACTIVE"


@dataclass(frozen=True, slots=True)
class ListObject:
    path: str
    collection: str
    id_field: str
    paged: bool = False
    archived_param: bool = False
    incremental: bool = False
    """Xero answers If-Modified-Since for it (tax rates and tracking categories, short lists, are read whole)."""


LISTS = {
    "account": ListObject(ACCOUNTS_PATH, "Accounts", "AccountID", incremental=True),
    "contact": ListObject(CONTACTS_PATH, "Contacts", "ContactID", paged=True, archived_param=True, incremental=True),
    "tax_rate": ListObject(TAX_RATES_PATH, "TaxRates", "TaxType"),
    "item": ListObject(ITEMS_PATH, "Items", "Code", incremental=True),
}
TRACKING = ListObject(TRACKING_PATH, "TrackingCategories", "TrackingCategoryID", archived_param=True)


def list_of(attribute_type: str) -> ListObject:
    if attribute_type in LISTS:
        return LISTS[attribute_type]
    if attribute_type.startswith(TRACKING_PREFIX):
        return TRACKING
    raise ValidationError(
        f"{DISPLAY_NAME} has no dimension {attribute_type!r}; it has {', '.join(LISTS)} and tracking:<NAME>.",
        code="unknown_dimension",
    )


def _text(row: dict[str, Any], name: str) -> str | None:
    value = row.get(name)
    return str(value) if value not in (None, "") else None


def dimension_value(attribute_type: str, row: dict[str, Any]) -> DimensionValue | None:
    """One listed row as a value; None for a row without its id (nothing can name it). An account is named by its
    code, as line items name it (`AccountCode`), and by its id when it has none (a bank account may not), which
    `AccountID` and a bank account's or payment's `{"AccountID"}` take."""
    found = LISTS[attribute_type]
    remote_id = _text(row, found.id_field)
    if attribute_type == "account":
        remote_id = _text(row, "Code") or remote_id
    if remote_id is None:
        return None
    status = row.get("ContactStatus") if attribute_type == "contact" else row.get("Status")
    detail = {
        key: value
        for key, value in (
            ("account_type", _text(row, "Type")),
            ("account_class", _text(row, "Class")),
            ("currency", _text(row, "CurrencyCode") or _text(row, "DefaultCurrency")),
            ("email", _text(row, "EmailAddress")),
            ("rate", _text(row, "EffectiveRate")),
            ("is_supplier", row.get("IsSupplier")),
        )
        if value not in (None, "")
    }
    if attribute_type == "item":
        detail["item_id"] = _text(row, "ItemID")
    if attribute_type == "account":
        detail["account_id"] = _text(row, "AccountID")
    return DimensionValue(
        attribute_type=attribute_type,
        remote_id=remote_id,
        name=str(_text(row, "Name") or remote_id),
        active=status in (None, ACTIVE),
        code=_text(row, "Code") if attribute_type != "item" else None,
        detail=detail,
        updated_at=timestamp_of(row.get("UpdatedDateUTC")),
    )


def tracking_values(attribute_type: str, categories: list[dict[str, Any]]) -> list[DimensionValue]:
    """The options of the category `tracking:<NAME>` names; an option is inactive when it or its category is."""
    name = attribute_type.removeprefix(TRACKING_PREFIX)
    values: list[DimensionValue] = []
    for category in categories:
        if str(category.get("Name") or "") != name:
            continue
        category_active = category.get("Status") in (None, ACTIVE)
        for option in category.get("Options") or []:
            if not isinstance(option, dict) or not option.get("TrackingOptionID"):
                continue
            values.append(
                DimensionValue(
                    attribute_type=attribute_type,
                    remote_id=str(option["TrackingOptionID"]),
                    name=str(option.get("Name") or option["TrackingOptionID"]),
                    active=category_active and option.get("Status") in (None, ACTIVE),
                    detail={"tracking_category_id": str(category.get("TrackingCategoryID") or "")},
                )
            )
    return values


def category_names(categories: list[dict[str, Any]]) -> list[str]:
    """The organisation's tracking categories, active first, as attribute types."""
    ordered = sorted(categories, key=lambda category: category.get("Status") not in (None, ACTIVE))
    names = [str(category["Name"]) for category in ordered if isinstance(category, dict) and category.get("Name")]
    return [f"{TRACKING_PREFIX}{name}" for name in dict.fromkeys(names)]


def tracking_options(categories: list[dict[str, Any]]) -> dict[str, TrackingOption]:
    """Every option by its id, with what a line needs to name it."""
    options: dict[str, TrackingOption] = {}
    for category in categories:
        for option in category.get("Options") or []:
            if isinstance(option, dict) and option.get("TrackingOptionID"):
                options[str(option["TrackingOptionID"])] = TrackingOption(
                    category_id=str(category.get("TrackingCategoryID") or ""),
                    category=str(category.get("Name") or ""),
                    option_id=str(option["TrackingOptionID"]),
                    option=str(option.get("Name") or ""),
                )
    return options


def since_header(listed: ListObject, since: datetime | None) -> dict[str, str]:
    """Only what changed since the cursor, where Xero can say so; else the whole (short) list."""
    return {IF_MODIFIED_SINCE: http_date(since)} if since is not None and listed.incremental else {}
