"""The Accounting API: `/v3/company/{realmId}/…` — create, read, update, delete, query and change data capture.

Every call authenticates (401 code 3200, 403 code 3100), passes the realm's throttles (429 code 3001), accepts
`minorversion`, and, for POSTs with `requestid`, answers a repeat with the original response (stored per realm,
faults included, so a retry after a lost answer never writes twice).
"""

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from sandbox.quickbooks import querylang, writes
from sandbox.quickbooks.constants import (
    CDC_MAX_LOOKBACK_DAYS,
    CODE_MALFORMED,
    CODE_NOT_FOUND,
    CODE_QUERY_PARSE,
    CODE_STRING_LENGTH,
    MAX_QUERY_RESULTS,
    MAX_REQUEST_ID_LENGTH,
)
from sandbox.quickbooks.entities import Entity, entity_named
from sandbox.quickbooks.errors import QboFault, authorization_fault, throttle_fault
from sandbox.quickbooks.state import QboState
from sandbox.quickbooks.store import Obj, RealmStore, StoredAnswer, public
from sandbox.quickbooks.validation import business, missing
from sandbox.quickbooks.values import format_meta_time, format_time, parse_time

Handler = Callable[[Request, RealmStore], Awaitable[Response]]


def state_of(request: Request) -> QboState:
    state: QboState = request.app.state.quickbooks
    return state


def answer(state: QboState, body: dict[str, Any]) -> JSONResponse:
    return JSONResponse(body | {"time": format_time(state.clock.now())})


async def json_body(request: Request) -> Any:
    raw = await request.body()
    try:
        return json.loads(raw) if raw.strip() else {}
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise QboFault(CODE_MALFORMED, "Request has invalid or unsupported property: the body is not JSON") from None


def entity_of(name: str) -> Entity:
    entity = entity_named(name)
    if entity is None:
        raise QboFault(CODE_MALFORMED, f"Unsupported entity {name}", status=400)
    return entity


async def guarded(request: Request, handler: Handler) -> Response:
    """Authentication, minorversion, per-realm throttles and `requestid` around one API call."""
    state = state_of(request)
    realm_id = request.path_params["realm_id"]
    try:
        state.oauth.authenticate(request.headers.get("authorization"), realm_id)
        store = state.realms.get(realm_id)
        if store is None:
            raise authorization_fault(realm_id)
        minor = request.query_params.get("minorversion")
        if minor is not None and not minor.isdigit():
            raise QboFault(CODE_MALFORMED, f"Invalid minorversion {minor}", element="minorversion")
        settings = state.settings
        wait = state.limiter.try_acquire(
            realm_id, per_minute=settings.requests_per_minute, concurrency=settings.concurrent_requests
        )
        if wait is not None:
            raise throttle_fault(wait)
    except QboFault as fault:
        return fault.response(state.clock.now())
    try:
        if settings.processing_delay_ms:
            await asyncio.sleep(settings.processing_delay_ms / 1000)
        return await _idempotent(request, store, handler)
    finally:
        state.limiter.release(realm_id)


async def _idempotent(request: Request, store: RealmStore, handler: Handler) -> Response:
    state = state_of(request)
    request_id = request.query_params.get("requestid")
    if request.method != "POST" or not request_id:
        return await _run(request, store, handler)
    if len(request_id) > MAX_REQUEST_ID_LENGTH:
        fault = QboFault(
            CODE_STRING_LENGTH, f"requestid is longer than {MAX_REQUEST_ID_LENGTH} characters", element="requestid"
        )
        return fault.response(state.clock.now())
    stored = store.answers.get(request_id)
    if stored is not None:
        return Response(stored.body, stored.status, media_type=stored.media_type)
    response = await _run(request, store, handler)
    body = bytes(response.body)
    store.remember(request_id, StoredAnswer(response.status_code, body, response.media_type or "application/json"))
    return response


async def _run(request: Request, store: RealmStore, handler: Handler) -> Response:
    try:
        return await handler(request, store)
    except QboFault as fault:
        return fault.response(state_of(request).clock.now())


# -- handlers --------------------------------------------------------------------------------------------------


def apply_write(store: RealmStore, entity: Entity, body: Any, operation: str, allow_duplicate_doc: bool) -> Obj:
    if operation == "delete":
        return writes.delete(store, entity, body)
    if operation == "update" or (isinstance(body, dict) and body.get("Id") not in (None, "")):
        return writes.update(store, entity, body, allow_duplicate_doc=allow_duplicate_doc)
    if operation not in ("", "create"):
        raise QboFault("500", f"Operation {operation} is not supported.")
    return writes.create(store, entity, body, allow_duplicate_doc=allow_duplicate_doc)


def allows_duplicates(request: Request) -> bool:
    return "allowduplicatedocnum" in request.query_params.get("include", "").split(",")


async def write(request: Request, store: RealmStore) -> Response:
    entity = entity_of(request.path_params["entity"])
    body = await json_body(request)
    operation = request.query_params.get("operation", "")
    obj = apply_write(store, entity, body, operation, allows_duplicates(request))
    return answer(state_of(request), {entity.name: obj})


async def read(request: Request, store: RealmStore) -> Response:
    entity = entity_of(request.path_params["entity"])
    obj = store.get(entity.name, request.path_params["object_id"])
    if obj is None:
        raise QboFault(CODE_NOT_FOUND, f"Object Not Found : {entity.name} {request.path_params['object_id']}")
    return answer(state_of(request), {entity.name: public(obj)})


def run_query(store: RealmStore, text: str) -> dict[str, Any]:
    if not text.strip():
        raise missing("query")
    query = querylang.parse(text)
    objects = [public(obj) for obj in store.all(query.entity.name)]
    return querylang.run(query, objects)


async def query(request: Request, store: RealmStore) -> Response:
    text = request.query_params.get("query")
    if text is None:
        text = (await request.body()).decode("utf-8", errors="replace")
    return answer(state_of(request), {"QueryResponse": run_query(store, text)})


async def company_info(request: Request, store: RealmStore) -> Response:
    info = {
        "CompanyName": store.company_name,
        "LegalName": store.company_name,
        "Country": store.country,
        "Id": store.realm_id,
        "SyncToken": "0",
        "domain": "QBO",
        "sparse": False,
    }
    return answer(state_of(request), {"CompanyInfo": info})


def preferences_of(store: RealmStore) -> dict[str, Any]:
    return {
        "AccountingInfoPrefs": {
            "BookCloseDate": store.closing_date.isoformat() if store.closing_date else None,
            "UseAccountNumbers": True,
            "ClassTrackingPerTxnLine": True,
            "TrackDepartments": True,
        },
        "CurrencyPrefs": {
            "MultiCurrencyEnabled": store.multicurrency,
            "HomeCurrency": {"value": store.home_currency},
        },
        "OtherPrefs": {
            "NameValue": [
                {
                    "Name": "VendorAndPurchasesPrefs.WarnDuplicateBillNumber",
                    "Value": str(store.duplicate_doc_number_check).lower(),
                },
                {"Name": "WarnDuplicateCheckNumber", "Value": str(store.duplicate_doc_number_check).lower()},
                {"Name": "WarnDuplicateJournalNumber", "Value": str(store.duplicate_doc_number_check).lower()},
            ]
        },
        "Id": "1",
        "SyncToken": "0",
        "domain": "QBO",
        "sparse": False,
    }


async def preferences(request: Request, store: RealmStore) -> Response:
    return answer(state_of(request), {"Preferences": preferences_of(store)})


async def cdc(request: Request, store: RealmStore) -> Response:
    state = state_of(request)
    names = request.query_params.get("entities", "")
    since_text = request.query_params.get("changedSince", "")
    if not names:
        raise missing("entities")
    if not since_text:
        raise missing("changedSince")
    since = parse_time(since_text)
    if since is None:
        raise QboFault(CODE_MALFORMED, f"Invalid changedSince {since_text}", element="changedSince")
    if state.clock.now() - since > timedelta(days=CDC_MAX_LOOKBACK_DAYS):
        raise business(f"changedSince must be within the last {CDC_MAX_LOOKBACK_DAYS} days.", "changedSince")
    responses = []
    for name in names.split(","):
        entity = entity_named(name.strip())
        if entity is None:
            raise QboFault(CODE_QUERY_PARSE, f"QueryValidationError: Invalid entity name: {name}")
        changed = [public(obj) for obj in store.all(entity.name) if obj["_updated"] > since]
        for object_id, when in store.deleted.get(entity.name, {}).items():
            if when > since:
                meta = {"LastUpdatedTime": format_meta_time(when)}
                changed.append({"domain": "QBO", "status": "Deleted", "Id": object_id, "MetaData": meta})
        changed = changed[:MAX_QUERY_RESULTS]
        body: dict[str, Any] = {entity.name: changed, "startPosition": 1, "maxResults": len(changed)} if changed else {}
        responses.append(body)
    return answer(state, {"CDCResponse": [{"QueryResponse": responses}]})
