"""The checks every write shares, each raising the Fault QuickBooks answers: required fields (2020), references
(2500, or 610 for an inactive object), string lengths (2050), enumerations (2170), unique names (6240)."""

from collections.abc import Iterable
from typing import Any

from sandbox.quickbooks.constants import (
    CODE_BUSINESS,
    CODE_DUPLICATE_NAME,
    CODE_INVALID_ENUM,
    CODE_INVALID_REFERENCE,
    CODE_NOT_FOUND,
    CODE_REQUIRED,
    CODE_STRING_LENGTH,
)
from sandbox.quickbooks.entities import ENTITIES, PARTY
from sandbox.quickbooks.errors import QboFault
from sandbox.quickbooks.store import Obj, RealmStore

INACTIVE = (
    "Object Not Found : Something you're trying to use has been made inactive. Check the fields with accounts, "
    "customers, items, vendors or employees."
)
PLURALS = {"Class": "Classes", "Department": "Departments", "TaxCode": "TaxCodes", "Term": "Terms"}


def missing(element: str) -> QboFault:
    return QboFault(CODE_REQUIRED, f"Required parameter {element} is missing in the request", element=element)


def business(detail: str, element: str = "") -> QboFault:
    return QboFault(CODE_BUSINESS, f"Business Validation Error: {detail}", element=element)


def present(value: Any) -> bool:
    return value not in (None, "", [], {})


def require(obj: Obj, key: str, element: str | None = None) -> Any:
    value = obj.get(key)
    if not present(value):
        raise missing(element or key)
    return value


def check_length(value: Any, limit: int, element: str) -> None:
    if isinstance(value, str) and len(value) > limit:
        raise QboFault(
            CODE_STRING_LENGTH,
            f"String length specified does not match the supported length. Min:0 Max:{limit} supported. "
            f"Supplied length:{len(value)}",
            element=element,
        )


def check_enum(value: Any, allowed: Iterable[str], element: str) -> str:
    if not present(value):
        raise missing(element)
    if value not in allowed:
        raise QboFault(CODE_INVALID_ENUM, f"Invalid Enumeration : {value}", element=element)
    return str(value)


def resolve(store: RealmStore, ref: Any, entity: str, element: str, *, required: bool = False) -> Obj | None:
    """The object a `{"value": id}` reference names, filling in the ref's `name` as QuickBooks does."""
    if not present(ref) or (isinstance(ref, dict) and not present(ref.get("value"))):
        if required:
            raise missing(element)
        return None
    if not isinstance(ref, dict):
        raise QboFault(CODE_INVALID_REFERENCE, f"Invalid Reference Id : {element} is not a reference", element=element)
    target = store.get(entity, str(ref["value"]))
    if target is None:
        plural = PLURALS.get(entity, entity + "s")
        raise QboFault(
            CODE_INVALID_REFERENCE,
            f"Invalid Reference Id : {plural} element id {ref['value']} not found",
            element=element,
        )
    if target.get("Active") is False:
        raise QboFault(CODE_NOT_FOUND, INACTIVE, element=element)
    name_field = ENTITIES[entity].name_field
    ref.clear()
    ref["value"] = target["Id"]
    if name_field:
        ref["name"] = target.get("FullyQualifiedName") or target[name_field]
    return target


def check_unique_name(store: RealmStore, entity: str, name: str, own_id: str | None) -> None:
    group = ENTITIES[entity].name_group
    name_field = ENTITIES[entity].name_field
    peers = [other for other, spec in ENTITIES.items() if spec.name_group == group]
    wanted = name.strip().casefold()
    for peer in peers:
        field = ENTITIES[peer].name_field
        assert field is not None and name_field is not None
        for obj in store.all(peer):
            if obj["Id"] != own_id and str(obj.get(field, "")).strip().casefold() == wanted:
                who = "customer, vendor or employee" if group == PARTY else entity.lower()
                raise QboFault(
                    CODE_DUPLICATE_NAME,
                    f"The name supplied already exists. : Another {who} is already using this name. "
                    f"Please use a different name. Id={obj['Id']}",
                    element=name_field,
                )
