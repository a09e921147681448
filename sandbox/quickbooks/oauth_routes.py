"""Intuit's OAuth2 wire: the OpenID discovery document, the consent page, the token and revoke endpoints.

- `GET /.well-known/openid_configuration` (and `openid_sandbox_configuration`): `issuer`, `authorization_endpoint`,
  `token_endpoint`, `revocation_endpoint`, `userinfo_endpoint`, `jwks_uri`, … all pointing back at this simulator;
  give its URL to `intuit-oauth`'s `AuthClient(environment=…)`.
- `GET /connect/oauth2?client_id&response_type=code&scope&redirect_uri&state`: a consent page with a company
  chooser and Allow/Deny; the form redirects to `redirect_uri?code=…&state=…&realmId=…` (or `error=access_denied`).
  An unknown client or a non-http(s) redirect gets an error page rather than a redirect (RFC 6749 §4.1.2.1).
- `POST /oauth2/v1/tokens/bearer`: form body, client authentication by HTTP Basic.
- `POST /v2/oauth2/tokens/revoke`: JSON `{"token"}`, HTTP Basic; 200 with an empty body.
"""

import html
import json
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from sandbox.quickbooks.api import state_of
from sandbox.quickbooks.constants import (
    AUTHORIZE_PATH,
    ISSUER,
    JWKS_PATH,
    KNOWN_SCOPES,
    REVOKE_PATH,
    SCOPE_ACCOUNTING,
    TOKEN_PATH,
    USERINFO_PATH,
)
from sandbox.quickbooks.errors import OAuthError

FIELDS = ("client_id", "response_type", "scope", "redirect_uri", "state")
PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Connect to QuickBooks · sandbox</title></head>
<body style="font-family:system-ui,sans-serif;max-width:34rem;margin:4rem auto;line-height:1.5">
<h1>QuickBooks sandbox</h1>
{body}
</body></html>
"""


def public_base(request: Request) -> str:
    return f"{request.url.scheme}://{request.url.netloc}{request.scope.get('root_path', '')}"


async def discovery(request: Request) -> JSONResponse:
    base = public_base(request)
    return JSONResponse(
        {
            "issuer": ISSUER,
            "authorization_endpoint": base + AUTHORIZE_PATH,
            "token_endpoint": base + TOKEN_PATH,
            "userinfo_endpoint": base + USERINFO_PATH,
            "revocation_endpoint": base + REVOKE_PATH,
            "jwks_uri": base + JWKS_PATH,
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": sorted(KNOWN_SCOPES),
            "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
            "claims_supported": ["aud", "exp", "iat", "iss", "realmid", "sub"],
        }
    )


async def jwks(_: Request) -> JSONResponse:
    return JSONResponse({"keys": []})


def _error_page(message: str) -> HTMLResponse:
    body = f"<p>This connection request cannot be completed: {html.escape(message)}.</p>"
    return HTMLResponse(PAGE.format(body=body), status_code=400)


def _refusal(request: Request, params: dict[str, str]) -> HTMLResponse | None:
    state = state_of(request)
    if params.get("client_id") not in state.oauth.clients:
        return _error_page("unknown client_id (invalid_client)")
    redirect = urlsplit(params.get("redirect_uri", ""))
    if redirect.scheme not in ("http", "https") or not redirect.netloc or redirect.fragment:
        return _error_page("redirect_uri must be an absolute http(s) URL (invalid_request)")
    if params.get("response_type") != "code":
        return _error_page("response_type must be code (unsupported_response_type)")
    scopes = params.get("scope", "").split()
    if not scopes or any(scope not in KNOWN_SCOPES for scope in scopes):
        return _error_page(f"scope must name known scopes, such as {SCOPE_ACCOUNTING} (invalid_scope)")
    return None


def _with_query(uri: str, extra: dict[str, str]) -> str:
    parts = urlsplit(uri)
    query = urlencode([*parse_qsl(parts.query, keep_blank_values=True), *extra.items()])
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))


async def consent(request: Request) -> Response:
    state = state_of(request)
    if request.method == "GET":
        params = {name: request.query_params[name] for name in FIELDS if name in request.query_params}
    else:
        form = await request.form()
        params = {name: str(form[name]) for name in FIELDS if form.get(name)}
    refusal = _refusal(request, params)
    if refusal is not None:
        return refusal
    if request.method == "GET":
        hidden = "".join(
            f'<input type="hidden" name="{name}" value="{html.escape(value, quote=True)}">'
            for name, value in params.items()
        )
        options = "".join(
            f'<option value="{realm}">{html.escape(store.company_name)} ({realm})</option>'
            for realm, store in state.realms.items()
        )
        body = (
            f"<p><strong>{html.escape(params['client_id'])}</strong> asks to connect to your company "
            f"({html.escape(params['scope'])}).</p>"
            f'<form method="post" action="{html.escape(request.url.path, quote=True)}">{hidden}'
            f'<label>Company <select name="realmId" id="realmId">{options}</select></label><p>'
            '<button type="submit" name="decision" value="allow" id="allow">Connect</button> '
            '<button type="submit" name="decision" value="deny" id="deny">Cancel</button></p></form>'
        )
        return HTMLResponse(PAGE.format(body=body))
    echo = {"state": params["state"]} if "state" in params else {}
    if form.get("decision") != "allow":
        return RedirectResponse(_with_query(params["redirect_uri"], {"error": "access_denied", **echo}), 302)
    realm_id = str(form.get("realmId") or next(iter(state.realms)))
    if realm_id not in state.realms:
        return _error_page(f"no company {realm_id}")
    code = state.oauth.issue_code(
        client_id=params["client_id"],
        redirect_uri=params["redirect_uri"],
        realm_id=realm_id,
        scopes=tuple(params["scope"].split()),
    )
    return RedirectResponse(_with_query(params["redirect_uri"], {"code": code, **echo, "realmId": realm_id}), 302)


async def token(request: Request) -> Response:
    state = state_of(request)
    try:
        form = await request.form()
        params: dict[str, Any] = {key: value for key, value in form.items() if isinstance(value, str)}
        issued = state.oauth.token(request.headers.get("authorization"), params)
    except OAuthError as error:
        return error.response()
    return JSONResponse(issued, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})


async def revoke(request: Request) -> Response:
    state = state_of(request)
    try:
        raw = await request.body()
        if request.headers.get("content-type", "").startswith("application/json"):
            body = json.loads(raw or b"{}")
        else:
            body = dict(parse_qsl(raw.decode()))
        token_value = body.get("token") if isinstance(body, dict) else None
        if not token_value:
            raise OAuthError("invalid_request", 400, "token is required")
        state.oauth.revoke(request.headers.get("authorization"), str(token_value))
    except json.JSONDecodeError:
        return OAuthError("invalid_request", 400, "body must be JSON").response()
    except OAuthError as error:
        return error.response()
    return Response(status_code=200)


async def userinfo(request: Request) -> Response:
    state = state_of(request)
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    record = state.oauth.access_tokens.get(value.strip()) if scheme.lower() == "bearer" else None
    grant = state.oauth.grants.get(record.grant_id) if record else None
    if record is None or grant is None or grant.revoked or state.clock.now() >= record.expires_at:
        return JSONResponse({"error": "invalid_token"}, 401)
    return JSONResponse({"sub": grant.id, "realmid": grant.realm_id, "email": "admin@example.com"})
