"""Bad input gets a problem+json 400/413/422 with a human message, never a 500, and never echoes secrets."""

import json

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.constants import MAX_REQUEST_BODY_BYTES
from tests.conftest import TenantFixture

VALID = {"name": "books", "provider": "intacct", "role": "destination"}


def _assert_problem(response: httpx.Response, status: int) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, object] = response.json()
    assert body["status"] == status
    assert isinstance(body["detail"], str) and body["detail"]
    assert str(body["type"]).startswith("https://")
    return body


async def test_malformed_json_is_400(client: httpx.AsyncClient, tenant: TenantFixture) -> None:
    response = await client.post(
        "/v1/connections", headers={**tenant.headers, "content-type": "application/json"}, content=b'{"name": "x",'
    )
    body = _assert_problem(response, 400)
    assert body["title"] == "Malformed JSON"


async def test_wrong_types_are_422_naming_the_field(client: httpx.AsyncClient, tenant: TenantFixture) -> None:
    response = await client.post("/v1/connections", headers=tenant.headers, json={**VALID, "name": 42, "role": "boss"})
    body = _assert_problem(response, 422)
    fields = {error["field"] for error in body["errors"]}  # type: ignore[attr-defined]
    assert {"name", "role"} <= fields
    assert "role" in str(body["detail"])


async def test_unknown_fields_are_422(client: httpx.AsyncClient, tenant: TenantFixture) -> None:
    response = await client.post("/v1/connections", headers=tenant.headers, json={**VALID, "colour": "blue"})
    body = _assert_problem(response, 422)
    assert any(error["field"] == "colour" for error in body["errors"])  # type: ignore[attr-defined]


async def test_rejected_bodies_do_not_echo_credentials(client: httpx.AsyncClient, tenant: TenantFixture) -> None:
    response = await client.post(
        "/v1/connections", headers=tenant.headers, json={**VALID, "credentials": {"password": ["hunter2-secret"]}}
    )
    _assert_problem(response, 422)
    assert "hunter2" not in response.text


async def test_a_body_over_one_mebibyte_is_413(client: httpx.AsyncClient, tenant: TenantFixture) -> None:
    oversized = json.dumps({**VALID, "settings": {"blob": "x" * MAX_REQUEST_BODY_BYTES}}).encode()
    response = await client.post(
        "/v1/connections", headers={**tenant.headers, "content-type": "application/json"}, content=oversized
    )
    _assert_problem(response, 413)


async def test_a_streamed_body_over_the_limit_is_413_without_content_length(
    client: httpx.AsyncClient, tenant: TenantFixture
) -> None:
    async def chunks():  # type: ignore[no-untyped-def]
        for _ in range(20):
            yield b"x" * (MAX_REQUEST_BODY_BYTES // 10)

    response = await client.post(
        "/v1/connections", headers={**tenant.headers, "content-type": "application/json"}, content=chunks()
    )
    _assert_problem(response, 413)


async def test_non_finite_numbers_are_422_not_a_database_error(
    client: httpx.AsyncClient, tenant: TenantFixture
) -> None:
    raw = b'{"name": "n", "provider": "fyle", "role": "source", "settings": {"rate": Infinity, "x": NaN}}'
    response = await client.post(
        "/v1/connections", headers={**tenant.headers, "content-type": "application/json"}, content=raw
    )
    _assert_problem(response, 422)


async def test_nothing_is_stored_when_a_request_is_rejected(client: httpx.AsyncClient, tenant: TenantFixture) -> None:
    await client.post("/v1/connections", headers=tenant.headers, json={**VALID, "name": "", "provider": "nope"})
    listed = (await client.get("/v1/connections", headers=tenant.headers)).json()["items"]
    assert listed == []


async def test_unknown_paths_and_methods_are_problems(client: httpx.AsyncClient, tenant: TenantFixture) -> None:
    _assert_problem(await client.get("/v1/nothing-here", headers=tenant.headers), 404)
    _assert_problem(await client.delete("/v1/tenant", headers=tenant.headers), 405)
    _assert_problem(await client.get("/v1/connections/not-a-uuid", headers=tenant.headers), 422)
    _assert_problem(await client.get("/v1/connections?limit=100000", headers=tenant.headers), 422)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.one_of(json_values, st.fixed_dictionaries({}, optional={key: json_values for key in VALID})))
async def test_no_json_body_makes_a_server_error(
    client: httpx.AsyncClient, tenant: TenantFixture, body: object
) -> None:
    response = await client.post("/v1/connections", headers=tenant.headers, json=body)
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        _assert_problem(response, response.status_code)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.binary(max_size=200))
async def test_no_raw_body_makes_a_server_error(client: httpx.AsyncClient, tenant: TenantFixture, raw: bytes) -> None:
    response = await client.post(
        "/v1/connections", headers={**tenant.headers, "content-type": "application/json"}, content=raw
    )
    assert response.status_code < 500, response.text


async def test_a_nul_or_a_lone_surrogate_anywhere_in_a_json_body_is_422_naming_the_field_and_stores_nothing(
    client: httpx.AsyncClient, tenant: TenantFixture
) -> None:
    """JSON's `\\u0000` and `\\ud800` escapes parse into text PostgreSQL cannot store: refused before any storage."""
    headers = {**tenant.headers, "content-type": "application/json"}
    cases = {
        b'"settings": {"memo": "a\\u0000b"}': "settings.memo",
        b'"settings": {"lines": [1, {"x": "\\ud800"}]}': "settings.lines.1.x",
        b'"settings": {"k\\u0000": 1}': "settings.k\\u0000",
        b'"name": "\\udfff books"': "name",
    }
    for fragment, field in cases.items():
        raw = b'{"provider": "fyle", "role": "source", "name": "n", ' + fragment + b"}"
        raw = raw.replace(b'"name": "n", "name"', b'"name"')
        body = _assert_problem(await client.post("/v1/connections", headers=headers, content=raw), 422)
        assert [error["field"] for error in body["errors"]] == [field], body  # type: ignore[attr-defined]
        assert field.split(".")[0] in str(body["detail"])
    listed = (await client.get("/v1/connections", headers=tenant.headers)).json()["items"]
    assert listed == []


async def test_a_nul_in_a_query_value_is_422_naming_it(client: httpx.AsyncClient, tenant: TenantFixture) -> None:
    response = await client.get("/v1/export-items?expense_id=tx%00a", headers=tenant.headers)
    body = _assert_problem(response, 422)
    assert [error["field"] for error in body["errors"]] == ["query.expense_id"]  # type: ignore[attr-defined]


async def test_a_connection_needs_an_installed_connector_in_a_role_its_spec_declares(
    client: httpx.AsyncClient, tenant: TenantFixture
) -> None:
    """Before, a provider with no connector, a Fyle destination and an Intacct source were stored, and every later
    run of them crashed."""
    refusals = {
        ("no-such-system", "destination"): "provider",
        ("fyle", "destination"): "role",
        ("intacct", "source"): "role",
        ("generic", "destination"): "role",
    }
    for (provider, role), field in refusals.items():
        response = await client.post(
            "/v1/connections", headers=tenant.headers, json={**VALID, "provider": provider, "role": role}
        )
        body = _assert_problem(response, 422)
        assert [error["field"] for error in body["errors"]] == [field], body  # type: ignore[attr-defined]
    listed = (await client.get("/v1/connections", headers=tenant.headers)).json()["items"]
    assert listed == []
    accepted = await client.post("/v1/connections", headers=tenant.headers, json={**VALID, "name": "Books (US)"})
    assert accepted.status_code == 201, accepted.text


async def test_a_connection_name_of_control_characters_is_422(client: httpx.AsyncClient, tenant: TenantFixture) -> None:
    for name in ("\x07\x08", "books\u200b", "line\nbreak"):
        body = _assert_problem(
            await client.post("/v1/connections", headers=tenant.headers, json={**VALID, "name": name}), 422
        )
        assert [error["field"] for error in body["errors"]] == ["name"]  # type: ignore[attr-defined]
    created = (await client.post("/v1/connections", headers=tenant.headers, json=VALID)).json()
    renamed = await client.patch(f"/v1/connections/{created['id']}", headers=tenant.headers, json={"name": "a\x1bb"})
    _assert_problem(renamed, 422)


@pytest.mark.parametrize(
    ("provider", "role", "flow"),
    [("intacct", "destination", "POST /v1/connections/intacct/credentials"), ("fyle", "source", "/authorize")],
)
async def test_credentials_are_refused_outside_the_connect_flow_that_checks_them(
    client: httpx.AsyncClient, tenant: TenantFixture, provider: str, role: str, flow: str
) -> None:
    """Before, any fields were stored unchecked (`{"password": …}` for Intacct, which has none of that name), and
    the connection failed at its first run."""
    body = {"name": f"unchecked-{provider}", "provider": provider, "role": role, "credentials": {"password": "pw-1"}}
    refused = _assert_problem(await client.post("/v1/connections", headers=tenant.headers, json=body), 422)
    assert flow in str(refused["detail"]) and "pw-1" not in str(refused)
    listed = await client.get("/v1/connections", headers=tenant.headers)
    assert all(row["name"] != body["name"] for row in listed.json()["items"])
