"""QuickBooks list objects as Ledgerline dimension values, and the queries that read them.

A full pass reads every object of a kind, active or not (QuickBooks hides inactive ones unless asked), in id order.
A pass since a cursor asks `cdc` (change data capture, one call for up to 1,000 changes) when the cursor is within
its window, else a query on `MetaData.LastUpdatedTime`. List objects are never deleted in QuickBooks, only made
inactive, which both report as a change.
"""

from datetime import datetime
from typing import Any

from connectors.quickbooks.constants import ALL_ACTIVE_STATES, ATTRIBUTE_OBJECTS, NAMED_BY_DISPLAY_NAME
from connectors.quickbooks.errors import DISPLAY_NAME
from connectors.quickbooks.queries import quoted, select
from core.domain import DimensionValue
from core.errors import ValidationError

DELETED = "Deleted"


def object_of(attribute_type: str) -> str:
    """The QuickBooks object of an attribute type; `ValidationError` for a type QuickBooks has not."""
    name = ATTRIBUTE_OBJECTS.get(attribute_type)
    if name is None:
        raise ValidationError(
            f"{DISPLAY_NAME} has no dimension {attribute_type!r}; it has {', '.join(ATTRIBUTE_OBJECTS)}.",
            code="unknown_dimension",
        )
    return name


def list_query(object_name: str, *, since: datetime | None, start: int, limit: int) -> str:
    conditions = [ALL_ACTIVE_STATES]
    if since is not None:
        conditions.append(f"MetaData.LastUpdatedTime >= {quoted(since.isoformat())}")
    return select(object_name, conditions, order_by="Id", start=start, limit=limit)


def updated_at(row: dict[str, Any]) -> datetime | None:
    meta = row.get("MetaData")
    text = meta.get("LastUpdatedTime") if isinstance(meta, dict) else None
    try:
        return datetime.fromisoformat(text) if isinstance(text, str) else None
    except ValueError:
        return None


def _email(row: dict[str, Any]) -> str | None:
    address = row.get("PrimaryEmailAddr")
    value = address.get("Address") if isinstance(address, dict) else None
    return str(value) if value else None


def _currency(row: dict[str, Any]) -> str | None:
    ref = row.get("CurrencyRef")
    value = ref.get("value") if isinstance(ref, dict) else None
    return str(value) if value else None


def dimension_value(attribute_type: str, object_name: str, row: dict[str, Any]) -> DimensionValue:
    if object_name in NAMED_BY_DISPLAY_NAME:
        name = row.get("DisplayName") or row.get("FullyQualifiedName") or row.get("Id")
    else:
        name = row.get("FullyQualifiedName") or row.get("Name") or row.get("Id")
    detail = {
        key: value
        for key, value in (
            ("account_type", row.get("AccountType")),
            ("currency", _currency(row)),
            ("email", _email(row)),
        )
        if value
    }
    return DimensionValue(
        attribute_type=attribute_type,
        remote_id=str(row["Id"]),
        name=str(name),
        active=row.get("Active", True) is not False,
        code=str(row["AcctNum"]) if row.get("AcctNum") else None,
        detail=detail,
        updated_at=updated_at(row),
    )


def changed_rows(answer: dict[str, Any], object_name: str) -> list[dict[str, Any]]:
    """The objects a `cdc` answer lists for `object_name`, without deletion stubs (they carry no name)."""
    rows: list[dict[str, Any]] = []
    for response in answer.get("CDCResponse", []):
        for part in response.get("QueryResponse", []):
            rows += [row for row in part.get(object_name, []) if row.get("status") != DELETED]
    return rows
