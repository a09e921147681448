"""Starting an OAuth2 authorization, for the API's `authorize` and the dashboard's "Connect" alike.

State, PKCE verifier and who started the flow wait in Redis for the callback (`api.connecting`), single-use, for
`OAUTH_STATE_TTL_SECONDS`; the caller binds the state to the person's browser (`web.oauth_binding`).
"""

import json
import uuid

from fastapi import Request
from redis.asyncio import Redis

from connectors.factory import oauth2_client
from connectors.registry import UnknownSystemError, connector_class
from connectors.spec import AuthMode, ConnectorSpec
from core.errors import AuthError
from core.settings import Settings
from web.constants import OAUTH_STATE_TTL_SECONDS
from web.oauth_binding import StartedBy
from web.problems import Problem

OAUTH_STATE_KEY = "ledgerline:oauth-state:{state}"


def connector_spec(system: str) -> ConnectorSpec:
    """The installed connector's spec; 404 for a system with none."""
    try:
        return connector_class(system).spec
    except UnknownSystemError as exc:
        raise Problem(404, str(exc), problem="unknown-system") from exc


def callback_url(public_url: str, system: str) -> str:
    """Where the system sends the browser back: the API's callback, whoever started the flow."""
    return f"{public_url.rstrip('/')}/v1/connections/{system}/callback"


def secure_request(request: Request, settings: Settings) -> bool:
    """Cookies get `Secure` when users reach us over https, even through a proxy that speaks http to us."""
    return settings.public_url_is_https or request.url.scheme == "https"


async def start_authorization(
    *,
    settings: Settings,
    redis: Redis,
    tenant_id: uuid.UUID,
    actor: str,
    started_by: StartedBy,
    system: str,
    name: str,
    return_to: str | None = None,
) -> tuple[str, str]:
    """The consent page to send a person to, and the state the caller binds to their browser
    (`web.oauth_binding.set_state_cookie`). State, PKCE verifier and who started the flow wait in Redis for the
    callback, which sends the person on to `return_to` (a dashboard page) when given, else answers with the
    connection."""
    spec = connector_spec(system)
    if spec.auth.mode is not AuthMode.OAUTH2:
        raise Problem(400, f"{spec.display_name} connects with credentials: POST /v1/connections/{system}/credentials.")
    try:
        client = oauth2_client(spec, settings)
    except AuthError as exc:
        raise Problem(503, exc.message, problem="system-not-configured") from exc
    redirect_uri = callback_url(settings.public_url, system)
    pending = client.authorization_request(redirect_uri=redirect_uri)
    await client.aclose()
    remembered = {
        "tenant_id": str(tenant_id),
        "actor": actor,
        "started_by": started_by.remembered(),
        "system": system,
        "name": name,
        "verifier": pending.code_verifier,
        "redirect_uri": redirect_uri,
        "return_to": return_to,
    }
    await redis.set(OAUTH_STATE_KEY.format(state=pending.state), json.dumps(remembered), ex=OAUTH_STATE_TTL_SECONDS)
    return pending.url, pending.state
