"""`/v1/connections`: a tenant's links to external systems. Credentials go in, and never come back out."""

import secrets
import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from api.deps import RepositoryDep
from api.json_values import JsonObject
from api.pagination import PageParams, decode_cursor, encode_cursor, page_params
from api.problems import Problem
from core.crypto import CredentialVault
from core.models import Connection, ConnectionRole

router = APIRouter(prefix="/connections", tags=["connections"])

Provider = Literal["fyle", "intacct", "quickbooks", "xero", "generic"]
WEBHOOK_KEY_BYTES = 24


class ConnectionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    provider: Provider
    role: ConnectionRole
    credentials: dict[str, str] = Field(
        default_factory=dict, max_length=50, description="Stored encrypted; never returned."
    )
    settings: JsonObject = Field(default_factory=dict)


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
