"""`/v1/connections`: a tenant's links to external systems. Credentials go in, and never come back out."""

import secrets
import unicodedata
import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from api.deps import RepositoryDep
from api.json_values import JsonObject
from api.pagination import PageParams, decode_cursor, encode_cursor, page_params
from api.problems import Problem
from connectors.registry import available_systems
from connectors.spec import load_spec
from core.crypto import CredentialVault
from core.models import Connection, ConnectionRole
from sync.connection_settings import setting_problems
from webhooks.providers import GENERIC_SENDER

router = APIRouter(prefix="/connections", tags=["connections"])

WEBHOOK_KEY_BYTES = 24


def _printable_name(name: str) -> str:
    if any(unicodedata.category(character).startswith("C") for character in name):
        raise ValueError("must not contain control or invisible formatting characters")
    return name


ConnectionName = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_printable_name)]


def _role_problem(provider: str, role: ConnectionRole) -> Problem | None:
    """An installed connector in a role its spec declares, or the generic webhook sender as a source; else why not."""
    if provider == GENERIC_SENDER:
        roles: tuple[str, ...] = (ConnectionRole.SOURCE.value,)
    elif provider in available_systems():
        roles = tuple(declared.value for declared in load_spec(provider).roles)
    else:
        installed = ", ".join((*available_systems(), GENERIC_SENDER))
        message = f"no connector for {provider!r} is installed; choose one of {installed}"
        return _field_problem("provider", message)
    if role.value not in roles:
        return _field_problem("role", f"{provider} connects only as {' or '.join(roles)}")
    return None


def _field_problem(field: str, message: str) -> Problem:
    return Problem(
        422,
        f"The request is not valid: {field}: {message}.",
        problem="validation-failed",
        title="Validation failed",
        errors=[{"field": field, "message": message, "type": "value_error"}],
    )


class ConnectionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: ConnectionName
    provider: str = Field(min_length=1, max_length=32, description="An installed connector, or `generic` (a source).")
    role: ConnectionRole
    credentials: dict[str, str] = Field(
        default_factory=dict, max_length=50, description="Stored encrypted; never returned."
    )
    settings: JsonObject = Field(default_factory=dict)


class ConnectionUpdate(BaseModel):
    """A JSON merge patch of the connection (RFC 7396): `settings` keys given replace theirs, `null` removes one."""

    model_config = ConfigDict(extra="forbid")

    name: ConnectionName | None = None
    settings: JsonObject = Field(default_factory=dict)


def _patched(current: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    if problems := setting_problems(patch, only_editable=True):
        raise Problem(422, "; ".join(problems), problem="invalid-settings")
    merged = {**current, **patch}
    return {key: value for key, value in merged.items() if value is not None}


class ConnectionPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    provider: str
    role: str
    status: str
    status_reason: str | None
    paused: bool
    sync_interval_minutes: int | None
    has_credentials: bool
    settings: dict[str, Any]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: Connection) -> "ConnectionPublic":
        return cls.model_validate({**row.__dict__, "has_credentials": row.credentials is not None})


class ConnectionsPublic(BaseModel):
    items: list[ConnectionPublic]
    next_cursor: str | None


def _vault(request: Request) -> CredentialVault:
    vault: CredentialVault = request.app.state.vault
    return vault


VaultDep = Annotated[CredentialVault, Depends(_vault)]


@router.get("", response_model=ConnectionsPublic, summary="List connections")
async def list_connections(
    repository: RepositoryDep, page: Annotated[PageParams, Depends(page_params)]
) -> ConnectionsPublic:
    rows, position = await repository.page(Connection, after=decode_cursor(page.cursor), limit=page.limit)
    return ConnectionsPublic(items=[ConnectionPublic.of(row) for row in rows], next_cursor=encode_cursor(position))


@router.get("/{connection_id}", response_model=ConnectionPublic, summary="Read a connection")
async def read_connection(connection_id: uuid.UUID, repository: RepositoryDep) -> ConnectionPublic:
    row = await repository.get(Connection, connection_id)
    if row is None:
        raise Problem(404, f"No connection {connection_id} exists for this tenant.")
    return ConnectionPublic.of(row)


@router.post("", response_model=ConnectionPublic, status_code=201, summary="Create a connection")
async def create_connection(body: ConnectionCreate, repository: RepositoryDep, vault: VaultDep) -> ConnectionPublic:
    if refusal := _role_problem(body.provider, body.role):
        raise refusal
    if problems := setting_problems(body.settings, only_editable=False):
        raise Problem(422, "; ".join(problems), problem="invalid-settings")
    existing = await repository.session.execute(repository.scoped(Connection).where(Connection.name == body.name))
    if existing.first() is not None:
        raise Problem(409, f"A connection named {body.name!r} already exists.", problem="duplicate-name")
    row = Connection(
        id=uuid.uuid4(),
        name=body.name,
        provider=body.provider,
        role=body.role.value,
        credentials=vault.encrypt(body.credentials) if body.credentials else None,
        settings=body.settings,
        webhook_key=secrets.token_urlsafe(WEBHOOK_KEY_BYTES),
    )
    await repository.add(
        row,
        audit_action="connection.create",
        audit_data={"provider": body.provider, "role": body.role.value, "credential_fields": sorted(body.credentials)},
    )
    await repository.session.refresh(row)
    return ConnectionPublic.of(row)


@router.patch("/{connection_id}", response_model=ConnectionPublic, summary="Rename a connection or change its settings")
async def update_connection(
    connection_id: uuid.UUID, body: ConnectionUpdate, repository: RepositoryDep
) -> ConnectionPublic:
    row = await repository.get(Connection, connection_id)
    if row is None:
        raise Problem(404, f"No connection {connection_id} exists for this tenant.")
    settings = _patched(dict(row.settings), body.settings)
    if body.name is not None and body.name != row.name:
        taken = await repository.session.execute(repository.scoped(Connection).where(Connection.name == body.name))
        if taken.first() is not None:
            raise Problem(409, f"A connection named {body.name!r} already exists.", problem="duplicate-name")
        row.name = body.name
    row.settings = settings
    await repository.session.flush()
    await repository.audit(
        "connection.update",
        entity=row,
        data={"name": body.name, "settings": body.settings},
    )
    await repository.session.refresh(row)
    return ConnectionPublic.of(row)
