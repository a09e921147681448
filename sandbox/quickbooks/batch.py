"""`POST /v3/company/{realmId}/batch`: up to 30 operations, each with its own `bId`, answered in order.

Request `{"BatchItemRequest": [{"bId", "operation": "create"|"update"|"delete", "<Entity>": {…}} | {"bId",
"Query": "SELECT …"}]}`; response `{"BatchItemResponse": [{"bId", "<Entity>": {…}} | {"bId", "QueryResponse": {…}}
| {"bId", "Fault": {"Error": […], "type": "ValidationFault"}}], "time"}`. One item's fault leaves the others alone;
a malformed batch (too many items, a missing or repeated bId) fails whole.
"""

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from sandbox.quickbooks.api import allows_duplicates, answer, apply_write, json_body, run_query, state_of
from sandbox.quickbooks.constants import CODE_MALFORMED, MAX_BATCH_ITEMS
from sandbox.quickbooks.entities import entity_named
from sandbox.quickbooks.errors import QboFault
from sandbox.quickbooks.store import RealmStore
from sandbox.quickbooks.validation import business, missing

OPERATIONS = ("create", "update", "delete")


def _items(body: Any) -> list[dict[str, Any]]:
    items = body.get("BatchItemRequest") if isinstance(body, dict) else None
    if not isinstance(items, list) or not items:
        raise missing("BatchItemRequest")
    if len(items) > MAX_BATCH_ITEMS:
        raise business(f"A batch can carry at most {MAX_BATCH_ITEMS} operations; this one has {len(items)}.")
    seen: set[str] = set()
    for item in items:
        if not isinstance(item, dict) or not item.get("bId"):
            raise missing("bId")
        if str(item["bId"]) in seen:
            raise business(f"bId {item['bId']} is used more than once in the batch.", "bId")
        seen.add(str(item["bId"]))
    return items


def _one(store: RealmStore, item: dict[str, Any], allow_duplicate_doc: bool) -> dict[str, Any]:
    if "Query" in item:
        return {"QueryResponse": run_query(store, str(item["Query"]))}
    operation = str(item.get("operation", "create")).lower()
    if operation not in OPERATIONS:
        raise QboFault("2170", f"Invalid Enumeration : {operation}", element="operation")
    names = [key for key in item if key not in ("bId", "operation", "optionsData") and entity_named(key)]
    if len(names) != 1:
        raise QboFault(CODE_MALFORMED, "A batch item must carry exactly one object or a Query")
    entity = entity_named(names[0])
    assert entity is not None
    return {entity.name: apply_write(store, entity, item[names[0]], operation, allow_duplicate_doc)}


async def batch(request: Request, store: RealmStore) -> Response:
    items = _items(await json_body(request))
    allow = allows_duplicates(request)
    responses = []
    for item in items:
        try:
            result = _one(store, item, allow)
        except QboFault as fault:
            result = {"Fault": fault.fault()}
        responses.append(result | {"bId": str(item["bId"])})
    return answer(state_of(request), {"BatchItemResponse": responses})
