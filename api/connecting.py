"""Connecting a tenant's systems: OAuth2 authorization code with PKCE, or credentials checked before saving.

- `GET /v1/connections/{system}/authorize?name=…` (admin key) answers 307 to the system's consent page; the state
  and PKCE verifier wait in Redis for ten minutes, single-use, and a cookie binds the flow to this browser
  (`web.oauth_binding`).
- `GET /v1/connections/{system}/callback?code&state` (no key: the browser comes back from the system) exchanges the
  code and stores the encrypted tokens on the named connection, which becomes `active` — only in the browser that
  started the flow, while the session that started it is still signed in as the same tenant.
- `POST /v1/connections/{system}/credentials` validates the tenant's fields against the spec, proves them with the
  connector's `check()` (Intacct: `getAPISession`), and only then stores them encrypted. New credentials that point
  an existing connection at other books (a field the spec marks `identifies_books`) are refused with 409 while any
  of its exports is unsettled (`sync.repointing`).
"""

import json
import uuid
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from api.connection_choices import ChoicePublic
from api.connections import ConnectionPublic
from api.deps import DatabaseDep, PrincipalDep, RepositoryDep, SettingsDep
from connectors.auth import BearerAuth
from connectors.base import AuthorizedAccount, ConnectorContext
from connectors.factory import oauth2_client, resolve_urls
from connectors.registry import connector_class
from connectors.spec import AuthMode, ConnectorSpec
from core.crypto import CredentialVault
from core.db import Database
from core.errors import AuthError, LedgerlineError
from core.models import Connection
from core.repository import TenantRepository
from core.settings import Settings
from sync.repointing import RepointingRefusedError
from web.app_state import queue_of, vault_of
from web.connection_setup import (
    ConnectionOfAnotherSystem,
    CredentialsRefused,
    SystemUnreachable,
    check_credentials,
    credential_problems,
    refuse_repointing,
    save_connection,
)
from web.constants import CONNECTION_NAME_PATTERN
from web.oauth_binding import (
    StartedBy,
    clear_state_cookie,
    continue_to,
    set_state_cookie,
    started_in_this_browser,
    wrong_browser,
)
from web.oauth_choice import ChoiceRefused, connection_holding, pending_choice, remember_choice
from web.oauth_start import OAUTH_STATE_KEY, connector_spec, secure_request, start_authorization
from web.problems import Problem, problem_responses

router = APIRouter(prefix="/connections", tags=["connections"])
callback_router = APIRouter(prefix="/connections", tags=["connections"])

NAME_PATTERN = CONNECTION_NAME_PATTERN


async def _save_connection(repository: TenantRepository, **kwargs: Any) -> Connection:
    try:
        return await save_connection(repository, **kwargs)
    except ConnectionOfAnotherSystem as exc:
        raise Problem(409, exc.message) from exc


@router.get(
    "/{system}/authorize",
    status_code=307,
    summary="Start connecting an OAuth2 system",
    responses=problem_responses(
        {
            400: "The system connects with credentials, not OAuth2.",
            404: "No connector for this system is installed.",
            503: "No OAuth client is configured for the system.",
        }
    ),
    description=(
        "Open this in the browser that will give consent, with the admin key: the answer sets a short-lived cookie "
        "binding the flow to that browser, and the callback refuses any other."
    ),
)
async def authorize(
    system: str,
    request: Request,
    repository: RepositoryDep,
    principal: PrincipalDep,
    settings: SettingsDep,
    name: Annotated[str, Query(pattern=NAME_PATTERN, description="Name of the connection to create or renew.")],
) -> JSONResponse:
    url, state = await start_authorization(
        settings=settings,
        redis=queue_of(request).redis,
        tenant_id=repository.tenant_id,
        actor=repository.actor,
        started_by=StartedBy(key_id=principal.key_id, key_prefix=principal.prefix),
        system=system,
        name=name,
    )
    response = JSONResponse({"authorize_url": url}, status_code=307, headers={"Location": url})
    set_state_cookie(response, state=state, system=system, secure=secure_request(request, settings))
    return response


@callback_router.get(
    "/{system}/callback",
    response_model=ConnectionPublic,
    summary="OAuth2 redirect target",
    responses=problem_responses(
        {
            400: "The state is unknown, used or expired, or the system did not authorize the connection.",
            403: "The flow was started in another browser, or its session has ended; nothing is stored.",
            409: "The named connection belongs to another system or to books the consent does not cover, or the "
            "consent's only organisation is already connected under another name.",
            503: "The system could not be reached to exchange the code, or has no OAuth client configured.",
        }
    ),
)
async def callback(
    system: str,
    request: Request,
    database: DatabaseDep,
    settings: SettingsDep,
    state: Annotated[str, Query(max_length=200)],
    code: Annotated[str | None, Query(max_length=2000)] = None,
    error: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    spec = connector_spec(system)
    # Taken (single use) before anything else: a state that reached the wrong browser is spent.
    raw = await queue_of(request).redis.getdel(OAUTH_STATE_KEY.format(state=state))
    if raw is None:
        raise Problem(400, "This authorization link is unknown, used or expired; start connecting again.")
    remembered: dict[str, Any] = json.loads(raw)
    if remembered["system"] != system:
        raise Problem(400, "This authorization belongs to another system; start connecting again.")
    tenant_id = uuid.UUID(remembered["tenant_id"])
    if not started_in_this_browser(request, state):
        response = wrong_browser(
            request,
            f"Connecting {spec.display_name} must be finished in the browser that started it, by the person who "
            "started it. If someone sent you this link, ask them to finish it themselves; to connect your own "
            "company, sign in to Ledgerline and start connecting from there.",
        )
    elif not await StartedBy.from_remembered(remembered["started_by"]).still_signed_in(database, tenant_id=tenant_id):
        response = wrong_browser(
            request,
            f"The session that started connecting {spec.display_name} has ended (signed out, or its key was "
            "revoked or has expired). Sign in again and start connecting again.",
        )
    else:
        try:
            response = await _finish(
                request, database, settings, spec=spec, remembered=remembered, code=code, error=error
            )
        except Problem as refused:
            if not remembered.get("return_to"):
                raise
            # Started from the dashboard: back to its page, which explains what went wrong in words.
            response = continue_to(f"{remembered['return_to']}?{urlencode({'error': refused.detail})}")
    clear_state_cookie(response, system=system, secure=secure_request(request, settings))
    return response


async def _finish(
    request: Request,
    database: Database,
    settings: Settings,
    *,
    spec: ConnectorSpec,
    remembered: dict[str, Any],
    code: str | None,
    error: str | None,
) -> Response:
    """Exchange the code and store the tokens, once the callback has proven who and where the flow belongs to."""
    if error is not None or code is None:
        raise Problem(400, f"{spec.display_name} did not authorize the connection ({error or 'no code'}).")
    client = oauth2_client(spec, settings)
    try:
        tokens = await client.exchange_code(
            code=code, redirect_uri=remembered["redirect_uri"], code_verifier=remembered["verifier"]
        )
    except LedgerlineError as exc:
        raise Problem(400 if isinstance(exc, AuthError) else 503, exc.message, problem="authorization-failed") from exc
    finally:
        await client.aclose()
    tenant_id = uuid.UUID(remembered["tenant_id"])
    context = ConnectorContext(
        tenant_id=tenant_id,
        connection_id=uuid.uuid4(),
        urls=resolve_urls(spec, settings),
        app=settings.connector_app(spec.system),
        auth=BearerAuth(tokens.access_token),
    )
    try:
        async with connector_class(spec.system)(context) as connector:
            accounts = await connector.authorized_accounts(dict(request.query_params))
    except LedgerlineError as exc:
        raise Problem(
            503, f"{spec.display_name} authorized the connection, but finishing it failed: {exc.message}"
        ) from exc
    if not accounts:
        raise Problem(400, f"The consent covers no {spec.display_name} organisation; start again and choose one.")
    vault: CredentialVault = vault_of(request)
    credentials = vault.encrypt(tokens.as_credentials())
    async with database.tenant_session(tenant_id) as session:
        repository = TenantRepository(session, tenant_id, remembered["actor"])
        account = await _account_to_connect(repository, spec=spec, name=remembered["name"], accounts=accounts)
        if account is None:
            choice_id = await remember_choice(
                queue_of(request).redis,
                vault,
                tenant_id=tenant_id,
                system=spec.system,
                name=remembered["name"],
                accounts=accounts,
                credentials=credentials,
                return_to=remembered.get("return_to"),
            )
            if remembered.get("return_to"):
                return continue_to(f"{remembered['return_to']}?{urlencode({'choose': choice_id})}")
            pending = await pending_choice(
                queue_of(request).redis, vault, choice_id=choice_id, tenant_id=tenant_id, system=spec.system
            )
            return JSONResponse(ChoicePublic.of(pending).model_dump(mode="json"))
        row = await _save_connection(
            repository,
            spec=spec,
            name=remembered["name"],
            credentials=credentials,
            action="connection.authorize",
            settings=dict(account.settings),
        )
        public = ConnectionPublic.of(row)
    if remembered.get("return_to"):
        return continue_to(remembered["return_to"])
    return JSONResponse(public.model_dump(mode="json"))


async def _account_to_connect(
    repository: TenantRepository, *, spec: ConnectorSpec, name: str, accounts: list[AuthorizedAccount]
) -> AuthorizedAccount | None:
    """The one account the named connection becomes or stays; None when the admin must pick among several. A
    connection exporting to an account the consent does not cover is not re-pointed, and a new one to books another
    connection exports to is not made: 409."""
    if any(account.account_id for account in accounts):
        try:
            return await connection_holding(repository, spec=spec, name=name, accounts=accounts)
        except ChoiceRefused as exc:
            kind = "other-books" if "" in exc.problems else "already-connected"
            raise Problem(409, next(iter(exc.problems.values())), problem=kind) from exc
    return accounts[0] if len(accounts) == 1 else None


class CredentialsConnect(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=NAME_PATTERN)
    credentials: dict[str, str] = Field(
        max_length=20, description="The fields the system's spec names; never returned."
    )


def _validated(spec: ConnectorSpec, given: dict[str, str]) -> dict[str, str]:
    """The tenant fields the spec declares, each present if required and of its declared form; 422 naming each
    field that is not."""
    problems = credential_problems(spec, given)
    if problems:
        raise Problem(
            422,
            f"The credentials are not valid: {'; '.join(f'{name}: {message}' for name, message in problems)}.",
            problem="validation-failed",
            title="Validation failed",
            errors=[
                {"field": f"credentials.{name}", "message": message, "type": "value_error"}
                for name, message in problems
            ],
        )
    return {name: value for name, value in given.items() if value}


async def _refuse_repointing(repository: TenantRepository, **kwargs: Any) -> None:
    """409 when the new credentials name other books while the connection's exports are unsettled."""
    try:
        await refuse_repointing(repository, **kwargs)
    except RepointingRefusedError as exc:
        raise Problem(
            409, str(exc), problem="unsettled-exports", unsettled_items=exc.unsettled, fields=list(exc.fields)
        ) from exc


@router.post(
    "/{system}/credentials",
    response_model=ConnectionPublic,
    status_code=201,
    summary="Connect with credentials",
    responses=problem_responses(
        {
            400: "The system refused the credentials.",
            409: "The connection would point at other books while some of its exports are unsettled.",
            422: "A field is missing, unknown or malformed.",
            503: "The system could not be reached to check the credentials.",
        }
    ),
)
async def connect_with_credentials(
    system: str,
    body: CredentialsConnect,
    request: Request,
    repository: RepositoryDep,
    settings: SettingsDep,
) -> ConnectionPublic:
    spec = connector_spec(system)
    if spec.auth.mode is not AuthMode.CREDENTIALS:
        raise Problem(400, f"{spec.display_name} connects with OAuth2: GET /v1/connections/{system}/authorize.")
    credentials = _validated(spec, body.credentials)
    vault: CredentialVault = vault_of(request)
    # Before the system is called: a change that must wait is refused as it stands, whatever the system says of it.
    await _refuse_repointing(repository, spec=spec, name=body.name, credentials=credentials, vault=vault)
    try:
        await check_credentials(spec, settings=settings, tenant_id=repository.tenant_id, credentials=credentials)
    except CredentialsRefused as exc:
        raise Problem(400, exc.message, problem="credentials-refused") from exc
    except SystemUnreachable as exc:
        raise Problem(503, exc.message) from exc
    row = await _save_connection(
        repository, spec=spec, name=body.name, credentials=vault.encrypt(credentials), action="connection.connect"
    )
    return ConnectionPublic.of(row)
