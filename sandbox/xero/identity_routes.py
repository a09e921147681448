"""Xero's identity wire and the connections list.

- `GET /identity/connect/authorize?response_type=code&client_id&redirect_uri&scope&state[&code_challenge…]`: the
  consent page, one checkbox per organisation the seeded user can reach (all ticked), Allow and Deny. Its form
  POSTs back here with `tenant` (repeated, the ticked organisations) and `decision`; Allow redirects to
  `redirect_uri?code=…&scope=…&state=…`, Deny (or nothing ticked) to `?error=access_denied&state=…`.
- `POST /identity/connect/token`: form body; HTTP Basic client auth (or client_secret in the form).
- `POST /identity/connect/revocation`: form `token=<refresh token>`; 200 with an empty body.
- `GET /connections` (Bearer): the organisations the grant covers, as Xero lists them; `DELETE /connections/{id}`
  disconnects one (204).
"""

import html
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from sandbox.xero.api import state_of
from sandbox.xero.constants import KNOWN_SCOPES, TENANT_TYPE
from sandbox.xero.errors import OAuthError, not_found, unauthorized
from sandbox.xero.wiredates import ms_date

FIELDS = ("client_id", "response_type", "scope", "redirect_uri", "state", "code_challenge", "code_challenge_method")
PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Xero sandbox · allow access</title></head>
<body style="font-family:system-ui,sans-serif;max-width:34rem;margin:4rem auto;line-height:1.5">
<h1>Xero sandbox</h1>
{body}
</body></html>
"""


def _error_page(message: str) -> HTMLResponse:
    return HTMLResponse(PAGE.format(body=f"<p><strong>Error:</strong> {html.escape(message)}</p>"), 400)


def _params_problem(state: Any, params: dict[str, str]) -> str | None:
    if params.get("client_id") not in state.identity.clients:
        return "unauthorized_client: unknown client_id"
    if not params.get("redirect_uri", "").startswith(("http://", "https://")):
        return "invalid_request: redirect_uri must be an absolute http(s) URL"
    if params.get("response_type") != "code":
        return "unsupported_response_type: only response_type=code is supported"
    scopes = params.get("scope", "").split()
    unknown = [scope for scope in scopes if scope not in KNOWN_SCOPES]
    if not scopes or unknown:
        return f"invalid_scope: {' '.join(unknown) or 'no scope requested'}"
    return None


async def authorize(request: Request) -> Response:
    state = state_of(request)
    if request.method == "POST":
        form = await request.form()
        params = {name: str(form.get(name, "")) for name in FIELDS}
        tenants = [str(value) for value in form.getlist("tenant")]
        decision = str(form.get("decision", "allow"))
    else:
        params = {name: request.query_params.get(name, "") for name in FIELDS}
        tenants, decision = [], ""
    problem = _params_problem(state, params)
    if problem:
        return _error_page(problem)
    if request.method == "GET":
        return _consent_page(state, params)
    chosen = tuple(tenant for tenant in tenants if tenant in state.orgs)
    redirect = params["redirect_uri"]
    separator = "&" if "?" in redirect else "?"
    if decision != "allow" or not chosen:
        query = urlencode({"error": "access_denied", "state": params["state"]})
        return RedirectResponse(f"{redirect}{separator}{query}", 303)
    code = state.identity.issue_code(
        client_id=params["client_id"],
        redirect_uri=redirect,
        tenant_ids=chosen,
        scopes=tuple(params["scope"].split()),
        challenge=params["code_challenge"] or None,
        challenge_method=params["code_challenge_method"] or "plain",
    )
    query = urlencode({"code": code, "scope": params["scope"], "state": params["state"]})
    return RedirectResponse(f"{redirect}{separator}{query}", 303)


def _consent_page(state: Any, params: dict[str, str]) -> HTMLResponse:
    hidden = "".join(
        f'<input type="hidden" name="{name}" value="{html.escape(value)}">' for name, value in params.items()
    )
    boxes = "".join(
        f'<label><input type="checkbox" name="tenant" value="{tenant}" checked> '
        f"{html.escape(store.organisation['Name'])} ({store.base_currency})</label><br>"
        for tenant, store in state.orgs.items()
    )
    body = (
        f"<p>Ledgerline wants access to: <code>{html.escape(params['scope'])}</code></p>"
        f'<form method="post">{hidden}<fieldset><legend>Organisations</legend>{boxes}</fieldset>'
        '<button name="decision" value="allow">Allow access</button> '
        '<button name="decision" value="deny">Cancel</button></form>'
    )
    return HTMLResponse(PAGE.format(body=body))


async def token(request: Request) -> Response:
    state = state_of(request)
    form = await request.form()
    params = {key: str(value) for key, value in form.items()}
    try:
        answer = state.identity.token(request.headers.get("authorization"), params)
    except OAuthError as error:
        return error.response()
    return JSONResponse(answer, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})


async def revoke(request: Request) -> Response:
    state = state_of(request)
    form = await request.form()
    try:
        state.identity.revoke(request.headers.get("authorization"), {key: str(value) for key, value in form.items()})
    except OAuthError as error:
        return error.response()
    return Response(status_code=200)


def _connection(state: Any, grant: Any, connection: Any) -> dict[str, Any]:
    store = state.orgs[connection.tenant_id]
    stamp = connection.created.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "0000"
    return {
        "id": connection.id,
        "authEventId": grant.auth_event_id,
        "tenantId": connection.tenant_id,
        "tenantType": TENANT_TYPE,
        "tenantName": store.organisation["Name"],
        "createdDateUtc": stamp,
        "updatedDateUtc": stamp,
    }


async def connections(request: Request) -> Response:
    state = state_of(request)
    grant = state.identity.bearer(request.headers.get("authorization"))
    if grant is None:
        return unauthorized().response
    connection_id = request.path_params.get("connection_id")
    if request.method == "DELETE":
        kept = [conn for conn in grant.connections if conn.id != connection_id]
        if len(kept) == len(grant.connections):
            return not_found().response
        grant.connections = kept
        return Response(status_code=204)
    return JSONResponse([_connection(state, grant, conn) for conn in grant.connections])


__all__ = ["authorize", "connections", "ms_date", "revoke", "token"]
