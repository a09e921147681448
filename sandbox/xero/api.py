"""The accounting API's gate, run before every handler: the bearer token (401), `xero-tenant-id` naming an
organisation the grant covers (403), the organisation's and the app's limits (429), and `Idempotency-Key` on
PUT/POST (a repeat gets the first answer back). Every answer carries the remaining-quota headers."""

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from sandbox.xero.constants import IDEMPOTENCY_HEADER, MAX_IDEMPOTENCY_KEY_LENGTH, TENANT_HEADER
from sandbox.xero.errors import XeroError, bad_request, forbidden, rate_limited, unauthorized
from sandbox.xero.idempotency import fingerprint
from sandbox.xero.oauth import Grant
from sandbox.xero.render import render
from sandbox.xero.state import XeroState
from sandbox.xero.store import OrgStore
from sandbox.xero.wiredates import ms_date

PROVIDER_NAME = "Ledgerline Xero sandbox"


@dataclass(slots=True)
class Call:
    request: Request
    state: XeroState
    store: OrgStore
    grant: Grant
    body: bytes

    @property
    def today(self) -> date:
        return self.state.clock.now().date()

    def json(self) -> Any:
        try:
            return json.loads(self.body or b"{}")
        except (UnicodeDecodeError, ValueError) as error:
            raise bad_request("The request body could not be read as JSON.") from error

    def answer(self, payload: dict[str, Any], status: int = 200) -> JSONResponse:
        """Xero's envelope: `Id`, `Status`, `ProviderName`, `DateTimeUTC`, then the collection."""
        envelope = {
            "Id": self.request.headers.get("x-correlation-id") or _uuid(),
            "Status": "OK",
            "ProviderName": PROVIDER_NAME,
            "DateTimeUTC": ms_date(self.state.clock.now()),
        }
        return JSONResponse(render(envelope | payload), status)


def _uuid() -> str:
    import uuid

    return str(uuid.uuid4())


Handler = Callable[[Call], Awaitable[Response]]


def state_of(request: Request) -> XeroState:
    state: XeroState = request.app.state.xero
    return state


async def guarded(request: Request, *, handler: Handler) -> Response:
    state = state_of(request)
    tenant_id = (request.headers.get(TENANT_HEADER) or "").strip().lower()
    grant = state.identity.bearer(request.headers.get("authorization"))
    client_id = grant.client_id if grant else ""
    response = await _run(request, state, grant, tenant_id, handler)
    if tenant_id in state.orgs:
        response.headers.update(state.limits.headers(tenant_id, client_id))
    return response


async def _run(request: Request, state: XeroState, grant: Grant | None, tenant_id: str, handler: Handler) -> Response:
    if grant is None:
        return unauthorized().response
    if tenant_id not in state.orgs or tenant_id not in grant.tenant_ids:
        return forbidden().response
    refusal = state.limits.try_acquire(tenant_id, grant.client_id)
    if refusal is not None:
        return rate_limited(refusal.retry_after, refusal.problem)
    try:
        call = Call(request, state, state.orgs[tenant_id], grant, await request.body())
        return await _idempotent(call, handler)
    except XeroError as error:
        return error.response
    finally:
        state.limits.release(tenant_id)


async def _idempotent(call: Call, handler: Handler) -> Response:
    key = call.request.headers.get(IDEMPOTENCY_HEADER)
    if call.request.method not in ("PUT", "POST") or not key:
        return await handler(call)
    if len(key) > MAX_IDEMPOTENCY_KEY_LENGTH:
        raise bad_request(f"The Idempotency-Key must be at most {MAX_IDEMPOTENCY_KEY_LENGTH} characters.")
    book, tenant = call.state.idempotency, call.store.tenant_id
    print_ = fingerprint(call.request.method, call.request.url.path, call.request.url.query, call.body)
    remembered = book.find(tenant, key, print_)
    if remembered is not None:
        return Response(remembered.body, remembered.status, media_type=remembered.media_type)
    try:
        response = await handler(call)
    except XeroError as error:
        response = error.response
    if response.status_code < 500:
        media = response.media_type or response.headers.get("content-type", "application/json")
        book.remember(tenant, key, print_, response.status_code, bytes(response.body), media)
    return response
