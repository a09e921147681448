"""Request dependencies as `Annotated` aliases, so a route's signature reads as its contract."""

import uuid
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request

from core.api_keys import Principal
from core.crypto import CredentialVault
from core.db import Database
from core.log import bind_context
from core.models import ApiKeyRole
from core.repository import TenantRepository
from core.settings import Settings
from sync.queue import Queue
from web.app_state import database_of, queue_of, settings_of, vault_of
from web.problems import Problem
from web.sign_in_throttle import sign_in_once, too_many_failures

DatabaseDep = Annotated[Database, Depends(database_of)]
SettingsDep = Annotated[Settings, Depends(settings_of)]
QueueDep = Annotated[Queue, Depends(queue_of)]
VaultDep = Annotated[CredentialVault, Depends(vault_of)]

_UNAUTHORIZED_HEADERS = {"WWW-Authenticate": 'Bearer realm="ledgerline"'}


async def get_principal(request: Request, database: DatabaseDep) -> Principal:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Problem(
            401,
            "Send an API key as `Authorization: Bearer <key>`.",
            problem="missing-credentials",
            headers=_UNAUTHORIZED_HEADERS,
        )
    outcome = await sign_in_once(request, database, token.strip())
    if outcome.retry_after is not None:
        raise too_many_failures(outcome.retry_after)
    principal = outcome.principal
    if principal is None:
        raise Problem(
            401,
            "The API key is unknown, revoked or expired.",
            problem="invalid-credentials",
            headers=_UNAUTHORIZED_HEADERS,
        )
    bind_context(api_key_id=str(principal.key_id), tenant_id=str(principal.tenant_id or "*"))
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def get_tenant_id(principal: PrincipalDep) -> uuid.UUID:
    if principal.role is not ApiKeyRole.ADMIN or principal.tenant_id is None:
        raise Problem(
            403,
            "This endpoint acts for one tenant; use that tenant's admin key.",
            problem="tenant-key-required",
        )
    return principal.tenant_id


TenantDep = Annotated[uuid.UUID, Depends(get_tenant_id)]


async def get_repository(
    database: DatabaseDep, tenant_id: TenantDep, principal: PrincipalDep
) -> AsyncIterator[TenantRepository]:
    """One transaction per request, scoped to the caller's tenant; committed when the route returns."""
    async with database.tenant_session(tenant_id) as session:
        yield TenantRepository(session, tenant_id, principal.actor)


RepositoryDep = Annotated[TenantRepository, Depends(get_repository, scope="function")]
"""`scope="function"`: the transaction commits before the response is sent. By default FastAPI closes a dependency
with `yield` after sending, so a client could read a 201 and not find what it created (Schemathesis's stateful run
did), and a failed commit came after a success had been answered."""
