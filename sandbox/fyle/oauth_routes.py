"""The authorization server's wire: `POST /oauth/token`, `POST /oauth/cluster` and the sandbox consent page.

The consent page (`GET /app/developers/oauth/authorize?client_id&redirect_uri&response_type=code&state
[&code_challenge&code_challenge_method]`) shows an Allow and a Deny button; the form posts back to the same path,
which redirects to `redirect_uri?code=…&state=…` (or `?error=access_denied&state=…`). A bad client or redirect URI
gets an error page instead of a redirect, as RFC 6749 §4.1.2.1 requires.
"""

import html
import json
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from sandbox.fyle.constants import AUTHORIZE_PATHS, ORG_NAME
from sandbox.fyle.errors import BadRequest
from sandbox.fyle.state import FyleState
from sandbox.fyle.wire import GrantDep, StateDep, public_base

router = APIRouter(tags=["oauth"])
AUTHORIZE_FIELDS = ("client_id", "redirect_uri", "response_type", "state", "code_challenge", "code_challenge_method")
PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Authorize {client_id} · Fyle sandbox</title>
<style>body{{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;line-height:1.5}}
button{{font-size:1rem;padding:.5rem 1.5rem;margin-right:1rem}}</style></head>
<body><h1>Fyle sandbox</h1>
{body}
</body></html>
"""
CONSENT = """<p><strong>{client_id}</strong> asks to read and update the data of <strong>{org}</strong>
(expenses, reports, categories, projects, cost centers, files).</p>
<form method="post" action="{action}">{hidden}
<button type="submit" name="decision" value="allow" id="allow">Allow</button>
<button type="submit" name="decision" value="deny" id="deny">Deny</button>
</form>"""


def _page(client_id: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(PAGE.format(client_id=html.escape(client_id), body=body), status_code=status)


def _with_query(uri: str, extra: dict[str, str]) -> str:
    parts = urlsplit(uri)
    query = urlencode([*parse_qsl(parts.query, keep_blank_values=True), *extra.items()])
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))


def _checked(state: FyleState, params: dict[str, str]) -> HTMLResponse | None:
    """An error page when the request must not be redirected back, else None."""
    try:
        state.oauth.check_authorization_request(
            client_id=params.get("client_id", ""),
            redirect_uri=params.get("redirect_uri", ""),
            response_type=params.get("response_type", ""),
            code_challenge_method=params.get("code_challenge_method") or None,
        )
    except BadRequest as error:
        body = f"<p>This authorization request cannot be completed: {html.escape(str(error))} ({error.error}).</p>"
        return _page(params.get("client_id", ""), body, status=400)
    return None


async def _show_consent(request: Request, state: StateDep) -> Response:
    params = {name: request.query_params[name] for name in AUTHORIZE_FIELDS if name in request.query_params}
    refusal = _checked(state, params)
    if refusal is not None:
        return refusal
    hidden = "".join(
        f'\n<input type="hidden" name="{name}" value="{html.escape(value, quote=True)}">'
        for name, value in params.items()
    )
    consent = CONSENT.format(
        client_id=html.escape(params["client_id"]),
        org=html.escape(ORG_NAME),
        action=html.escape(request.url.path, quote=True),
        hidden=hidden,
    )
    return _page(params["client_id"], consent)


async def _decide(request: Request, state: StateDep) -> Response:
    form = await request.form()
    params = {name: str(form[name]) for name in AUTHORIZE_FIELDS if form.get(name)}
    refusal = _checked(state, params)
    if refusal is not None:
        return refusal
    echo = {"state": params["state"]} if "state" in params else {}
    if form.get("decision") != "allow":
        return RedirectResponse(_with_query(params["redirect_uri"], {"error": "access_denied", **echo}), 302)
    code = state.oauth.issue_code(
        client_id=params["client_id"],
        redirect_uri=params["redirect_uri"],
        code_challenge=params.get("code_challenge"),
        code_challenge_method=params.get("code_challenge_method"),
    )
    return RedirectResponse(_with_query(params["redirect_uri"], {"code": code, **echo}), 302)


for authorize_path in AUTHORIZE_PATHS:
    router.add_api_route(authorize_path, _show_consent, methods=["GET"], response_class=HTMLResponse)
    router.add_api_route(authorize_path, _decide, methods=["POST"], response_class=HTMLResponse)


async def _token_params(request: Request) -> dict[str, Any]:
    """The spec documents a JSON body (what the SDK sends); OAuth2 libraries send a form, so both are accepted."""
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            body = json.loads(await request.body())
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise BadRequest("request body must be JSON", error="invalid_request") from None
        if not isinstance(body, dict):
            raise BadRequest("request body must be an object", error="invalid_request")
        return body
    form = await request.form()
    return {name: value for name, value in form.items() if isinstance(value, str)}


@router.post("/oauth/token")
async def token(request: Request, state: StateDep) -> JSONResponse:
    issued = state.oauth.token(await _token_params(request))
    return JSONResponse(issued, headers={"Cache-Control": "no-store"})


@router.post("/oauth/cluster")
@router.post("/oauth/cluster/")
async def cluster(request: Request, _: GrantDep) -> JSONResponse:
    """Where this user's data lives: the simulator itself, so `cluster_domain + "/platform/v1"` is the API base."""
    return JSONResponse({"cluster_domain": public_base(request)})
