"""GET on the accounting API: lists with `where`, `order`, `If-Modified-Since` (on `UpdatedDateUTC`), the
collection's own filters (`IDs`, `InvoiceNumbers`, `ContactIDs`, `Statuses`, `includeArchived`), and `page` /
`pageSize` (100 by default, at most 1,000) where Xero pages; one object by id (an invoice also by its number);
the Organisation."""

from typing import Any

from starlette.responses import Response

from sandbox.xero.api import Call
from sandbox.xero.collections import Collection, collection_named
from sandbox.xero.constants import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from sandbox.xero.errors import bad_request, not_found
from sandbox.xero.wherelang import order_key, sort, where
from sandbox.xero.wiredates import parse_timestamp

ARCHIVED = {"Contacts": "ContactStatus", "TrackingCategories": "Status"}
LIST_FILTERS = {
    "IDs": None,
    "InvoiceNumbers": "InvoiceNumber",
    "ContactIDs": "Contact.ContactID",
    "Statuses": "Status",
}


def _csv(value: str) -> set[str]:
    return {part.strip().lower() for part in value.split(",") if part.strip()}


def _value(obj: dict[str, Any], path: str) -> str:
    current: Any = obj
    for part in path.split("."):
        current = current.get(part) if isinstance(current, dict) else None
    return str(current or "").lower()


def _int(call: Call, name: str, default: int | None) -> int | None:
    raw = call.request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as error:
        raise bad_request(f"The {name} parameter must be a number") from error


def _filtered(call: Call, collection: Collection) -> list[dict[str, Any]]:
    params = call.request.query_params
    objects = call.store.all(collection.name)
    status_field = ARCHIVED.get(collection.name)
    if status_field and params.get("includeArchived", "false").lower() != "true":
        objects = [obj for obj in objects if obj.get(status_field) != "ARCHIVED"]
    for param, path in LIST_FILTERS.items():
        if params.get(param):
            wanted = _csv(params[param])
            field = path or collection.id_field
            objects = [obj for obj in objects if _value(obj, field) in wanted]
    since_text = call.request.headers.get("if-modified-since")
    if since_text:
        since = parse_timestamp(since_text)
        if since is None:
            raise bad_request("The If-Modified-Since header is not a valid date")
        objects = [obj for obj in objects if obj["UpdatedDateUTC"] > since]
    if params.get("where"):
        predicate = where(params["where"], type_name=collection.type_name, fields=collection.fields)
        objects = [obj for obj in objects if predicate(obj)]
    if params.get("searchTerm") and collection.name == "Contacts":
        term = params["searchTerm"].lower()
        objects = [
            obj
            for obj in objects
            if term in str(obj.get("Name", "")).lower() or term in str(obj.get("EmailAddress", "")).lower()
        ]
    if params.get("order"):
        objects = sort(
            list(objects), order_key(params["order"], type_name=collection.type_name, fields=collection.fields)
        )
    return objects


async def list_objects(call: Call) -> Response:
    collection = collection_named(call.request.path_params["collection"])
    if collection is None:
        raise not_found()
    objects = _filtered(call, collection)
    payload: dict[str, Any] = {}
    page = _int(call, "page", None) if collection.paged else None
    if page is not None:
        size = min(max(1, _int(call, "pageSize", DEFAULT_PAGE_SIZE) or DEFAULT_PAGE_SIZE), MAX_PAGE_SIZE)
        page = max(1, page)
        total = len(objects)
        objects = objects[(page - 1) * size : page * size]
        payload["pagination"] = {"page": page, "pageSize": size, "pageCount": -(-total // size), "itemCount": total}
    payload[collection.name] = [_with_attachments(call, collection, obj) for obj in objects]
    return call.answer(payload)


def find(call: Call, collection: Collection, object_id: str) -> dict[str, Any] | None:
    found = call.store.get(collection.name, object_id)
    if found is None and collection.name == "Invoices":
        found = next((inv for inv in call.store.all("Invoices") if inv.get("InvoiceNumber") == object_id), None)
    return found


def _with_attachments(call: Call, collection: Collection, obj: dict[str, Any]) -> dict[str, Any]:
    files = call.store.attachments.get(str(obj.get(collection.id_field)), [])
    return obj | {"HasAttachments": True} if files else obj


async def get_object(call: Call) -> Response:
    collection = collection_named(call.request.path_params["collection"])
    if collection is None:
        raise not_found()
    found = find(call, collection, call.request.path_params["object_id"])
    if found is None:
        raise not_found()
    return call.answer({collection.name: [_with_attachments(call, collection, found)]})


async def organisation(call: Call) -> Response:
    org = {key: value for key, value in call.store.organisation.items() if value is not None}
    return call.answer({"Organisations": [org]})
