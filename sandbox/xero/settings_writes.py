"""Writes to an organisation's settings: currencies (PUT /Currencies) and tracking categories with their options
(PUT /TrackingCategories, PUT /TrackingCategories/{id}/Options, POST to rename or archive). Xero allows at most
two active tracking categories; a third is refused with its message."""

from typing import Any

from starlette.responses import Response

from sandbox.xero.api import Call
from sandbox.xero.constants import MAX_ACTIVE_TRACKING_CATEGORIES
from sandbox.xero.errors import not_found, validation_error
from sandbox.xero.store import OrgStore

TRACKING_LIMIT_MESSAGE = "You can only have 2 active tracking categories."
KNOWN_CURRENCIES = {"USD", "GBP", "EUR", "AUD", "NZD", "CAD", "JPY", "CHF", "SGD", "INR", "ZAR", "HKD", "SEK"}


def _first(call: Call, name: str) -> dict[str, Any]:
    body = call.json()
    if isinstance(body, dict) and isinstance(body.get(name), list) and body[name]:
        first = body[name][0]
        return first if isinstance(first, dict) else {}
    return body if isinstance(body, dict) else {}


async def put_currency(call: Call) -> Response:
    raw = _first(call, "Currencies")
    code = str(raw.get("Code") or "").upper()
    if code not in KNOWN_CURRENCIES:
        raise validation_error(f"'{code}' is not a valid currency code", element=raw)
    currency = call.store.get("Currencies", code) or call.store.put(
        "Currencies", {"Code": code, "Description": raw.get("Description") or code}, created=True
    )
    return call.answer({"Currencies": [currency]})


def active_categories(store: OrgStore) -> list[dict[str, Any]]:
    return [cat for cat in store.all("TrackingCategories") if cat.get("Status") == "ACTIVE"]


def add_category(store: OrgStore, name: str) -> dict[str, Any]:
    """A new active category, or Xero's refusal when two are already active."""
    if len(active_categories(store)) >= MAX_ACTIVE_TRACKING_CATEGORIES:
        raise validation_error(TRACKING_LIMIT_MESSAGE, element={"Name": name})
    if any(str(cat["Name"]).lower() == name.lower() for cat in store.all("TrackingCategories")):
        raise validation_error(f"A tracking category with the name '{name}' already exists.", element={"Name": name})
    return store.put("TrackingCategories", {"Name": name, "Status": "ACTIVE", "Options": []}, created=True)


def set_category_status(store: OrgStore, category: dict[str, Any], status: str) -> None:
    reactivating = status == "ACTIVE" and category["Status"] != "ACTIVE"
    if reactivating and len(active_categories(store)) >= MAX_ACTIVE_TRACKING_CATEGORIES:
        raise validation_error(TRACKING_LIMIT_MESSAGE, element={"Name": category["Name"]})
    category["Status"] = status
    store.touch("TrackingCategories", category)


def add_option(store: OrgStore, category: dict[str, Any], name: str) -> dict[str, Any]:
    import uuid

    if any(str(opt["Name"]).lower() == name.lower() for opt in category["Options"]):
        raise validation_error(f"A tracking option with the name '{name}' already exists.", element={"Name": name})
    option = {
        "TrackingOptionID": str(uuid.uuid4()),
        "Name": name,
        "Status": "ACTIVE",
        "TrackingCategoryID": category["TrackingCategoryID"],
    }
    category["Options"].append(option)
    store.touch("TrackingCategories", category)
    return option


async def put_tracking_category(call: Call) -> Response:
    raw = _first(call, "TrackingCategories")
    name = str(raw.get("Name") or "").strip()
    if not name:
        raise validation_error("Tracking category name must be specified", element=raw)
    return call.answer({"TrackingCategories": [add_category(call.store, name)]})


async def post_tracking_category(call: Call) -> Response:
    category = call.store.get("TrackingCategories", call.request.path_params["object_id"])
    if category is None:
        raise not_found()
    raw = _first(call, "TrackingCategories")
    if raw.get("Name"):
        category["Name"] = str(raw["Name"])
    if raw.get("Status") in ("ACTIVE", "ARCHIVED"):
        set_category_status(call.store, category, str(raw["Status"]))
    call.store.touch("TrackingCategories", category)
    return call.answer({"TrackingCategories": [category]})


async def put_tracking_options(call: Call) -> Response:
    category = call.store.get("TrackingCategories", call.request.path_params["object_id"])
    if category is None:
        raise not_found()
    body = call.json()
    raws: list[Any] = body["Options"] if isinstance(body, dict) and isinstance(body.get("Options"), list) else [body]
    options = [add_option(call.store, category, str((raw or {}).get("Name") or "")) for raw in raws]
    return call.answer({"Options": options})
