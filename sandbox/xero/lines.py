"""Line items as Xero checks them: an active account by code, a tax type the organisation has, at most two
tracking options naming active categories and options, and the amounts (quantity × unit amount, tax by the
document's `LineAmountTypes`). Each check adds Xero's own message to the document's `ValidationErrors`."""

from decimal import Decimal, InvalidOperation
from typing import Any

from sandbox.xero.constants import MAX_ACTIVE_TRACKING_CATEGORIES, MONEY_PLACES
from sandbox.xero.store import OrgStore


def money(value: Any, default: Decimal | None = None) -> Decimal | None:
    if value is None or value == "":
        return default
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def account_by_code(store: OrgStore, code: Any) -> dict[str, Any] | None:
    return next((acc for acc in store.all("Accounts") if str(acc.get("Code")) == str(code)), None)


def account_ref(store: OrgStore, ref: Any) -> dict[str, Any] | None:
    """`{AccountID}` or `{Code}`, as a bank account or a payment's account is named."""
    if not isinstance(ref, dict):
        return None
    if ref.get("AccountID"):
        return store.get("Accounts", str(ref["AccountID"]))
    if ref.get("Code"):
        return account_by_code(store, ref["Code"])
    return None


def check_account(store: OrgStore, code: Any, errors: list[str]) -> dict[str, Any] | None:
    if code in (None, ""):
        errors.append("Account code must be specified")
        return None
    account = account_by_code(store, code)
    if account is None:
        errors.append(f"Account code '{code}' is not a valid code for this document.")
    elif account.get("Status") != "ACTIVE":
        errors.append(
            f"Account code '{code}' has been archived, or has been deleted. Each line item must reference a valid "
            "account."
        )
    return account


def _tax_rate(store: OrgStore, tax_type: Any, errors: list[str]) -> Decimal:
    rate = store.get("TaxRates", str(tax_type))
    if rate is None or rate.get("Status") != "ACTIVE":
        errors.append(f"The TaxType code '{tax_type}' does not exist or cannot be used with this type of transaction.")
        return Decimal(0)
    return Decimal(rate["EffectiveRate"])


def _tracking(store: OrgStore, tracking: Any, errors: list[str]) -> list[dict[str, Any]]:
    if not tracking:
        return []
    if not isinstance(tracking, list):
        errors.append("Tracking must be a list of tracking categories")
        return []
    if len(tracking) > MAX_ACTIVE_TRACKING_CATEGORIES:
        errors.append("A line item may have at most 2 tracking categories.")
    resolved = []
    for entry in tracking:
        name = (entry or {}).get("Name")
        option_name = (entry or {}).get("Option")
        category = next(
            (cat for cat in store.all("TrackingCategories") if str(cat["Name"]).lower() == str(name).lower()), None
        )
        if category is None or category.get("Status") != "ACTIVE":
            errors.append(f"The TrackingCategory '{name}' does not exist or has been archived.")
            continue
        option = next(
            (opt for opt in category["Options"] if str(opt["Name"]).lower() == str(option_name).lower()), None
        )
        if option is None or option.get("Status") != "ACTIVE":
            errors.append(f"The TrackingOption '{option_name}' does not exist or has been archived.")
            continue
        resolved.append(
            {
                "TrackingCategoryID": category["TrackingCategoryID"],
                "TrackingOptionID": option["TrackingOptionID"],
                "Name": category["Name"],
                "Option": option["Name"],
            }
        )
    return resolved


def build_line(
    store: OrgStore, raw: Any, amount_types: str, errors: list[str], *, journal: bool = False
) -> dict[str, Any]:
    """One stored line; a journal line keeps its signed `LineAmount` and has no quantity."""
    raw = raw if isinstance(raw, dict) else {}
    line: dict[str, Any] = {"LineItemID": raw.get("LineItemID") or None, "Description": raw.get("Description", "")}
    account = check_account(store, raw.get("AccountCode"), errors)
    line["AccountCode"] = raw.get("AccountCode")
    if account is not None:
        line["AccountID"] = account["AccountID"]
    tax_type = raw.get("TaxType") or (account or {}).get("TaxType") or "NONE"
    rate = _tax_rate(store, tax_type, errors) if amount_types != "NoTax" else Decimal(0)
    line["TaxType"] = tax_type
    if journal:
        amount = money(raw.get("LineAmount"))
        if amount is None:
            errors.append("Line Amount must be specified on journal lines")
            amount = Decimal(0)
        line["LineAmount"] = amount.quantize(MONEY_PLACES)
    else:
        quantity = money(raw.get("Quantity"), Decimal(1))
        unit = money(raw.get("UnitAmount"))
        given = money(raw.get("LineAmount"))
        if quantity is None or quantity < 0:
            errors.append(
                f"The quantity value '{raw.get('Quantity')}' is invalid. Quantity must not be less than zero."
            )
            quantity = Decimal(1)
        if unit is None and given is None:
            errors.append("Unit Amount must be specified")
            unit = Decimal(0)
        if unit is None:
            unit = (given or Decimal(0)) / (quantity or Decimal(1))
        amount = (quantity * unit).quantize(MONEY_PLACES)
        line |= {"Quantity": quantity, "UnitAmount": unit, "LineAmount": amount}
        if raw.get("ItemCode"):
            item = next((it for it in store.all("Items") if it["Code"] == raw["ItemCode"]), None)
            if item is None:
                errors.append(f"Item code '{raw['ItemCode']}' is not valid")
            else:
                line["ItemCode"] = item["Code"]
                line["Item"] = {"ItemID": item["ItemID"], "Code": item["Code"], "Name": item["Name"]}
    tax = amount - amount / (1 + rate / 100) if amount_types == "Inclusive" else amount * rate / 100
    given_tax = money(raw.get("TaxAmount"))
    line["TaxAmount"] = (given_tax if given_tax is not None else abs(tax)).quantize(MONEY_PLACES)
    line["Tracking"] = _tracking(store, raw.get("Tracking"), errors)
    if not line["LineItemID"]:
        line.pop("LineItemID")
    return line


def totals(lines: list[dict[str, Any]], amount_types: str) -> dict[str, Decimal]:
    line_total = sum((line["LineAmount"] for line in lines), Decimal(0))
    tax = sum((line["TaxAmount"] for line in lines), Decimal(0))
    subtotal = line_total - tax if amount_types == "Inclusive" else line_total
    return {"SubTotal": subtotal, "TotalTax": tax, "Total": subtotal + tax}
