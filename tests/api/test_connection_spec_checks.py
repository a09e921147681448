"""Every installed connector's connections take only what its spec declares: credentials (`auth.tenant_fields`, each
of its pattern) through its connect flow, and settings (the shared ones of its role, plus `settings`) at create and
PATCH alike; anything else is a problem+json 422 naming the field, in words, and nothing is stored.

The connectors come from the registry, not from a list here: a connector added later is held to the same checks.
"""

import re
import uuid
from typing import Any

import httpx
import pytest

from connectors.registry import available_systems
from connectors.spec import AuthMode, ConnectorSpec, SettingWriter, load_spec
from core.models import ConnectionRole
from sync.connection_settings import settings_of
from sync.constants import GENERIC_SENDER
from tests.conftest import TenantFixture

CONNECTIONS = [(system, role.value) for system in available_systems() for role in sorted(load_spec(system).roles)] + [
    (GENERIC_SENDER, ConnectionRole.SOURCE.value)
]
"""Every kind of connection a tenant can make: each installed connector in each role its spec declares."""
UNDECLARED = "colour"
WRONG_SHAPES: list[Any] = [
    {"nested": [1]},
    "not-this",
    -1,
    [],
    True,
    "   ",
    {"connection_id": str(uuid.UUID(int=1)), "kind": {}},  # a 500 once (an unhashable kind)
    {"connection_id": uuid.UUID(int=1).hex},
]
"""Values to try as a setting's: each setting refuses at least one (a check that refuses none takes anything)."""
UNMATCHED = ["<&>", " padded ", "x" * 1001, "\t", "ü", "a b"]
"""Values to try as a credential of a declared pattern: each pattern refuses at least one."""


def _problem(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["detail"] and body["title"]
    assert all(error["message"] for error in body["errors"]), body
    return body


def _fields(response: httpx.Response) -> set[str]:
    return {error["field"] for error in _problem(response)["errors"]}


async def _create(
    client: httpx.AsyncClient, tenant: TenantFixture, provider: str, role: str, settings: dict[str, Any]
) -> httpx.Response:
    body = {"name": f"{provider}-{uuid.uuid4().hex[:8]}", "provider": provider, "role": role, "settings": settings}
    return await client.post("/v1/connections", headers=tenant.headers, json=body)


async def _listed(client: httpx.AsyncClient, tenant: TenantFixture) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = (await client.get("/v1/connections", headers=tenant.headers)).json()["items"]
    return items


@pytest.mark.parametrize(("provider", "role"), CONNECTIONS)
async def test_a_setting_no_spec_declares_is_refused_at_create_and_patch(
    client: httpx.AsyncClient, tenant: TenantFixture, provider: str, role: str
) -> None:
    """Before, a new connection stored any settings key unchecked (`{"realm_id": …}` on Intacct)."""
    refused = await _create(client, tenant, provider, role, {UNDECLARED: "blue"})
    assert _fields(refused) == {f"settings.{UNDECLARED}"}
    assert await _listed(client, tenant) == []
    created = await _create(client, tenant, provider, role, {})
    assert created.status_code == 201, created.text
    patched = await client.patch(
        f"/v1/connections/{created.json()['id']}", headers=tenant.headers, json={"settings": {UNDECLARED: "blue"}}
    )
    assert _fields(patched) == {f"settings.{UNDECLARED}"}
    assert (await _listed(client, tenant))[0]["settings"] == {}


@pytest.mark.parametrize(("provider", "role"), CONNECTIONS)
async def test_a_setting_of_another_kind_of_connection_is_refused(
    client: httpx.AsyncClient, tenant: TenantFixture, provider: str, role: str
) -> None:
    """A setting only other connections read (a destination's on a source, a sender's `trigger` on a connector,
    another system's own) is refused as if no spec declared it: this connection would never read it."""
    own = settings_of(provider, ConnectionRole(role))
    others = {
        key
        for other_provider, other_role in CONNECTIONS
        for key in settings_of(other_provider, ConnectionRole(other_role))
        if key not in own
    }
    created = await _create(client, tenant, provider, role, {})
    assert created.status_code == 201, created.text
    for key in sorted(others):
        refused = await _create(client, tenant, provider, role, {key: None})
        assert _fields(refused) == {f"settings.{key}"}, key
        patched = await client.patch(
            f"/v1/connections/{created.json()['id']}", headers=tenant.headers, json={"settings": {key: None}}
        )
        assert _fields(patched) == {f"settings.{key}"}, key
    assert len(await _listed(client, tenant)) == 1


@pytest.mark.parametrize(("provider", "role"), CONNECTIONS)
async def test_each_setting_a_person_writes_refuses_a_value_of_the_wrong_shape(
    client: httpx.AsyncClient, tenant: TenantFixture, provider: str, role: str
) -> None:
    created = await _create(client, tenant, provider, role, {})
    assert created.status_code == 201, created.text
    path = f"/v1/connections/{created.json()['id']}"
    writable = {
        key: definition
        for key, definition in settings_of(provider, ConnectionRole(role)).items()
        if definition.written_by is SettingWriter.PERSON
    }
    for key, definition in writable.items():
        wrong = [value for value in WRONG_SHAPES if definition.check(value) is not None]
        assert wrong, f"{key} takes anything"
        for value in wrong:
            assert _fields(await _create(client, tenant, provider, role, {key: value})) == {f"settings.{key}"}
            patched = await client.patch(path, headers=tenant.headers, json={"settings": {key: value}})
            assert _fields(patched) == {f"settings.{key}"}, (key, value)
    assert [row["settings"] for row in await _listed(client, tenant)] == [{}]


@pytest.mark.parametrize(("provider", "role"), CONNECTIONS)
async def test_a_setting_the_system_writes_is_never_taken_from_a_person(
    client: httpx.AsyncClient, tenant: TenantFixture, provider: str, role: str
) -> None:
    """What a connect flow learns (Fyle's cluster) decides where tokens are sent: a person may not give it."""
    written = [
        key
        for key, definition in settings_of(provider, ConnectionRole(role)).items()
        if definition.written_by is SettingWriter.SYSTEM
    ]
    created = await _create(client, tenant, provider, role, {})
    assert created.status_code == 201, created.text
    for key in written:
        refused = _problem(await _create(client, tenant, provider, role, {key: "https://elsewhere.example"}))
        assert [error["field"] for error in refused["errors"]] == [f"settings.{key}"]
        assert "written by Ledgerline" in refused["detail"]
        patched = await client.patch(
            f"/v1/connections/{created.json()['id']}", headers=tenant.headers, json={"settings": {key: "x"}}
        )
        assert _fields(patched) == {f"settings.{key}"}
    assert [row["settings"] for row in await _listed(client, tenant)] == [{}]


async def test_the_document_states_the_settings_each_connection_takes(client: httpx.AsyncClient) -> None:
    """What a generated client may send is what the checks take: per provider and role at create, and at PATCH
    (which cannot know the connection) every setting some connection takes, and no other."""
    schemas = (await client.get("/openapi.json")).json()["components"]["schemas"]
    branches = {
        (branch["properties"]["provider"]["const"], branch["properties"]["role"]["const"]): branch["properties"][
            "settings"
        ]
        for branch in schemas["ConnectionCreate"]["anyOf"]
    }
    assert set(branches) == set(CONNECTIONS)
    writable: set[str] = set()
    for (provider, role), schema in branches.items():
        takes = {
            key
            for key, definition in settings_of(provider, ConnectionRole(role)).items()
            if definition.written_by is SettingWriter.PERSON
        }
        assert set(schema["properties"]) == takes and schema["additionalProperties"] is False, (provider, role)
        writable |= takes
    patch = schemas["ConnectionUpdate"]["properties"]["settings"]
    assert set(patch["properties"]) == writable and patch["additionalProperties"] is False


CREDENTIAL_SYSTEMS = [system for system in available_systems() if load_spec(system).auth.mode is AuthMode.CREDENTIALS]
OAUTH_SYSTEMS = [system for system in available_systems() if load_spec(system).auth.mode is AuthMode.OAUTH2]


def _unmatched(pattern: str) -> str:
    found = [value for value in UNMATCHED if not re.fullmatch(pattern, value)]
    assert found, f"no value breaks {pattern!r}"
    return found[0]


def _well_formed(spec: ConnectorSpec) -> dict[str, str]:
    """A value of its form for each tenant field (the check refuses before anyone calls the system)."""
    return {field.name: "Field_1" for field in spec.auth.tenant_fields}


@pytest.mark.parametrize("system", CREDENTIAL_SYSTEMS)
async def test_credentials_take_only_the_fields_the_spec_declares_each_of_its_form(
    client: httpx.AsyncClient, tenant: TenantFixture, system: str
) -> None:
    spec = load_spec(system)
    path = f"/v1/connections/{system}/credentials"
    for field in spec.auth.tenant_fields:
        assert field.pattern is None or re.fullmatch(field.pattern, "Field_1"), "the well-formed value fits"
    unknown = await client.post(
        path, headers=tenant.headers, json={"name": "books", "credentials": {**_well_formed(spec), UNDECLARED: "x"}}
    )
    assert _fields(unknown) == {f"credentials.{UNDECLARED}"}
    required = [field.name for field in spec.auth.tenant_fields if field.required]
    missing = await client.post(path, headers=tenant.headers, json={"name": "books", "credentials": {}})
    assert _fields(missing) == {f"credentials.{name}" for name in required}
    for field in spec.auth.tenant_fields:
        if field.pattern is None:
            continue
        broken = {**_well_formed(spec), field.name: _unmatched(field.pattern)}
        refused = _problem(
            await client.post(path, headers=tenant.headers, json={"name": "books", "credentials": broken})
        )
        assert [error["field"] for error in refused["errors"]] == [f"credentials.{field.name}"]
        assert field.help in refused["detail"] and broken[field.name] not in refused["detail"]
    assert await _listed(client, tenant) == []


@pytest.mark.parametrize("system", OAUTH_SYSTEMS)
async def test_an_oauth_system_takes_no_credentials_from_a_person(
    client: httpx.AsyncClient, tenant: TenantFixture, system: str
) -> None:
    refused = await client.post(
        f"/v1/connections/{system}/credentials", headers=tenant.headers, json={"name": "f", "credentials": {}}
    )
    assert refused.status_code == 400 and f"/v1/connections/{system}/authorize" in refused.json()["detail"]
    assert await _listed(client, tenant) == []
