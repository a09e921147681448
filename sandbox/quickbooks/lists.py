"""Name-list objects (accounts, vendors, employees, customers, classes, departments, items, terms): what a create
or full update must carry and what QuickBooks fills in."""

from sandbox.quickbooks.constants import MAX_DISPLAY_NAME_LENGTH, MAX_NAME_LENGTH
from sandbox.quickbooks.entities import ENTITIES
from sandbox.quickbooks.seed import CLASSIFICATION
from sandbox.quickbooks.store import Obj, RealmStore
from sandbox.quickbooks.validation import (
    business,
    check_enum,
    check_length,
    check_unique_name,
    missing,
    present,
    require,
    resolve,
)

PERSON_NAME_PARTS = ("Title", "GivenName", "MiddleName", "FamilyName", "Suffix")
PARENT_FLAGS = {"Class": "SubClass", "Department": "SubDepartment", "Account": "SubAccount"}


def _display_name(obj: Obj) -> str:
    """DisplayName defaults to the person's name parts, or the company name, as QuickBooks does."""
    if present(obj.get("DisplayName")):
        return str(obj["DisplayName"])
    parts = [str(obj[part]) for part in PERSON_NAME_PARTS if present(obj.get(part))]
    if parts:
        return " ".join(parts)
    if present(obj.get("CompanyName")):
        return str(obj["CompanyName"])
    raise business("Title, GivenName, MiddleName, FamilyName, DisplayName, Suffix - one of these must be non-empty.")


def prepare_list_object(store: RealmStore, entity: str, obj: Obj, own_id: str | None) -> Obj:
    name_field = ENTITIES[entity].name_field
    assert name_field is not None
    if name_field == "DisplayName":
        obj["DisplayName"] = _display_name(obj)
        check_length(obj["DisplayName"], MAX_DISPLAY_NAME_LENGTH, "DisplayName")
        obj.setdefault("PrintOnCheckName", obj["DisplayName"])
        currency = obj.get("CurrencyRef") or {"value": store.home_currency}
        code = str(currency.get("value", store.home_currency)) if isinstance(currency, dict) else store.home_currency
        if store.rate_of(code) is None:
            raise business(f"Currency {code} is not enabled for this company.", "CurrencyRef")
        if entity != "Employee":
            obj["CurrencyRef"] = store.currency_ref(code)
            obj.setdefault("Balance", 0)
    else:
        name = str(require(obj, name_field))
        check_length(name, MAX_NAME_LENGTH, name_field)
        if ":" in name:
            raise business("The name can't contain a colon (:).", name_field)
    check_unique_name(store, entity, str(obj[name_field]), own_id)
    obj.setdefault("Active", True)
    if entity in PARENT_FLAGS:
        parent = resolve(store, obj.get("ParentRef"), entity, "ParentRef")
        obj[PARENT_FLAGS[entity]] = parent is not None
        prefix = f"{parent['FullyQualifiedName']}:" if parent else ""
        obj["FullyQualifiedName"] = prefix + str(obj[name_field])
    if entity == "Account":
        account_type = check_enum(obj.get("AccountType"), CLASSIFICATION, "AccountType")
        obj["Classification"] = CLASSIFICATION[account_type]
        obj.setdefault("CurrentBalance", 0)
        obj.setdefault("CurrentBalanceWithSubAccounts", obj["CurrentBalance"])
        obj.setdefault("CurrencyRef", store.currency_ref(store.home_currency))
    elif entity == "Item":
        obj.setdefault("FullyQualifiedName", obj["Name"])
        check_enum(obj.setdefault("Type", "Service"), ("Service", "NonInventory", "Inventory"), "Type")
        resolve(store, obj.get("ExpenseAccountRef"), "Account", "ExpenseAccountRef")
        resolve(store, obj.get("IncomeAccountRef"), "Account", "IncomeAccountRef")
    elif entity == "Term":
        obj.setdefault("Type", "STANDARD")
    elif entity == "Employee" and not any(present(obj.get(part)) for part in ("GivenName", "FamilyName")):
        raise missing("GivenName")
    return obj
