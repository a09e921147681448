"""`/v1/connections`: a tenant's links to external systems. Credentials go in, and never come back out."""

import secrets
import sys
import unicodedata
import uuid
from datetime import datetime
from functools import cache
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from api.deps import RepositoryDep
from api.json_values import JsonObject
from connectors.registry import available_systems
from connectors.spec import AuthMode, load_spec
from core.models import Connection, ConnectionRole
from sync.connection_settings import SettingProblem, setting_problems, settings_of, settings_schema
from sync.constants import GENERIC_SENDER
from web.constants import WEBHOOK_KEY_BYTES
from web.pagination import PageParams, decode_cursor, encode_cursor, page_params
from web.problems import Problem, problem_responses

router = APIRouter(prefix="/connections", tags=["connections"])


REFUSED_NAME_CATEGORIES = ("Cc", "Cf")
"""Control and (invisible) format characters: a name is shown in lists and logs, and these hide or reorder text.
Unassigned and private-use characters are kept: which they are depends on the Unicode version, so no published pattern
could say it (lone surrogates cannot arrive in UTF-8 JSON)."""


@cache
def _name_pattern() -> str:
    """What `_printable_name` checks, as a pattern: the refused characters spelled out as ranges (a property escape
    such as `\\p{Cf}` is not understood inside a class by every reader of the document)."""
    refused = [code for code in range(sys.maxunicode + 1) if unicodedata.category(chr(code)) in REFUSED_NAME_CATEGORIES]
    ranges: list[tuple[int, int]] = []
    for code in refused:
        if ranges and ranges[-1][1] == code - 1:
            ranges[-1] = (ranges[-1][0], code)
        else:
            ranges.append((code, code))

    def spelled(code: int) -> str:
        return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"

    return "^[^" + "".join(spelled(low) + ("-" + spelled(high) if high > low else "") for low, high in ranges) + "]+$"


def _printable_name(name: str) -> str:
    if any(unicodedata.category(character) in REFUSED_NAME_CATEGORIES for character in name):
        raise ValueError("must not contain control or invisible formatting characters")
    return name


ConnectionName = Annotated[
    str,
    Field(min_length=1, max_length=200, json_schema_extra=lambda schema: schema.update(pattern=_name_pattern())),
    AfterValidator(_printable_name),
]


def _roles_by_provider() -> dict[str, tuple[str, ...]]:
    """Each installed connector with the roles its spec declares, and the generic webhook sender (a source)."""
    roles = {system: tuple(declared.value for declared in load_spec(system).roles) for system in available_systems()}
    return {**roles, GENERIC_SENDER: (ConnectionRole.SOURCE.value,)}


def _role_problem(provider: str, role: ConnectionRole) -> Problem | None:
    """An installed connector in a role its spec declares, or the generic webhook sender as a source; else why not."""
    roles_by_provider = _roles_by_provider()
    roles = roles_by_provider.get(provider)
    if roles is None:
        message = f"no connector for {provider!r} is installed; choose one of {', '.join(roles_by_provider)}"
        return _field_problem("provider", message)
    if role.value not in roles:
        return _field_problem("role", f"{provider} connects only as {' or '.join(roles)}")
    return None


def _connect_flow(provider: str) -> str:
    """Where a system's credentials are given instead of here, and why."""
    if provider not in available_systems():
        return "credentials are not taken here; a system's are given through its connect flow"
    spec = load_spec(provider)
    if spec.auth.mode is AuthMode.OAUTH2:
        return (
            f"{spec.display_name} connects with OAuth2: create or renew the connection with "
            f"GET /v1/connections/{provider}/authorize?name=…, which stores what the person authorizes"
        )
    return (
        f"{spec.display_name} credentials are given with POST /v1/connections/{provider}/credentials, which checks "
        f"them with {spec.display_name} before storing them"
    )


def _field_problem(field: str, message: str) -> Problem:
    return Problem(
        422,
        f"The request is not valid: {field}: {message}.",
        problem="validation-failed",
        title="Validation failed",
        errors=[{"field": field, "message": message, "type": "value_error"}],
    )


def _settings_problem(problems: list[SettingProblem]) -> Problem:
    """422 naming each refused setting (`settings.<key>`), in words a person can act on."""
    return Problem(
        422,
        f"The settings are not valid: {'; '.join(map(str, problems))}.",
        problem="invalid-settings",
        title="Validation failed",
        errors=[{"field": f"settings.{one.key}", "message": one.message, "type": "value_error"} for one in problems],
    )


def _declare_providers(schema: dict[str, Any]) -> None:
    """The document names the installed connectors, the roles each may take and the settings each takes in each
    role, as the checks above enforce them."""
    roles_by_provider = _roles_by_provider()
    schema["properties"]["provider"]["enum"] = list(roles_by_provider)
    schema["anyOf"] = [
        {
            "properties": {
                "provider": {"const": provider},
                "role": {"const": role},
                "settings": settings_schema(settings_of(provider, ConnectionRole(role))),
            }
        }
        for provider, roles in roles_by_provider.items()
        for role in roles
    ]


def _any_settings() -> dict[str, Any]:
    """Every setting some connection takes: what a PATCH's document can say without knowing the connection."""
    merged: dict[str, Any] = {}
    for provider, roles in _roles_by_provider().items():
        for role in roles:
            merged.update(settings_of(provider, ConnectionRole(role)))
    return settings_schema(merged)


class ConnectionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra=_declare_providers)

    name: ConnectionName
    provider: str = Field(min_length=1, max_length=32, description="An installed connector, or `generic` (a source).")
    role: ConnectionRole
    settings: JsonObject = Field(
        default_factory=dict, description="The settings a connection of this provider and role takes (see `anyOf`)."
    )

    @model_validator(mode="before")
    @classmethod
    def _credentials_go_through_the_connect_flow(cls, given: Any) -> Any:
        """Credentials stored unchecked failed at the first run: a system's are taken only by its connect flow."""
        if isinstance(given, dict) and "credentials" in given:
            raise ValueError(_connect_flow(str(given.get("provider", ""))))
        return given


class ConnectionUpdate(BaseModel):
    """A JSON merge patch of the connection (RFC 7396): `settings` keys given replace theirs, `null` removes one."""

    model_config = ConfigDict(extra="forbid")

    name: ConnectionName | None = None
    settings: JsonObject = Field(
        default_factory=dict,
        description="Those the connection's provider and role take, of those named here.",
        json_schema_extra=lambda schema: schema.update(_any_settings()),
    )


def _patched(row: Connection, patch: dict[str, Any]) -> dict[str, Any]:
    if problems := setting_problems(patch, provider=row.provider, role=ConnectionRole(row.role)):
        raise _settings_problem(problems)
    current = dict(row.settings)
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
async def create_connection(body: ConnectionCreate, repository: RepositoryDep) -> ConnectionPublic:
    """A connection with its name, role and settings. A system's credentials come only through its connect flow
    (`api.connecting`), which checks them, or with an OAuth authorization; a generic sender signs with the webhook
    secrets made for it."""
    if refusal := _role_problem(body.provider, body.role):
        raise refusal
    if problems := setting_problems(body.settings, provider=body.provider, role=body.role):
        raise _settings_problem(problems)
    existing = await repository.session.execute(repository.scoped(Connection).where(Connection.name == body.name))
    if existing.first() is not None:
        raise Problem(409, f"A connection named {body.name!r} already exists.", problem="duplicate-name")
    row = Connection(
        id=uuid.uuid4(),
        name=body.name,
        provider=body.provider,
        role=body.role.value,
        settings={key: value for key, value in body.settings.items() if value is not None},
        webhook_key=secrets.token_urlsafe(WEBHOOK_KEY_BYTES),
    )
    await repository.add(
        row,
        audit_action="connection.create",
        audit_data={"provider": body.provider, "role": body.role.value},
    )
    await repository.session.refresh(row)
    return ConnectionPublic.of(row)


@router.patch(
    "/{connection_id}",
    response_model=ConnectionPublic,
    summary="Rename a connection or change its settings",
    responses=problem_responses({409: "Another connection of this tenant has that name."}),
)
async def update_connection(
    connection_id: uuid.UUID, body: ConnectionUpdate, repository: RepositoryDep
) -> ConnectionPublic:
    row = await repository.get(Connection, connection_id)
    if row is None:
        raise Problem(404, f"No connection {connection_id} exists for this tenant.")
    settings = _patched(row, body.settings)
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
