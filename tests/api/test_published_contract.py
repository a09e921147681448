"""The API keeps its published contract: Schemathesis, every check and every phase (examples, coverage, fuzzing, and
stateful sequences along the links it infers), against the app served over HTTP on the session's PostgreSQL server
(in a migrated database of its own) and Redis, with a fixed seed and a bounded number of examples. Any failure fails
the test and prints Schemathesis's report, each failure with a `curl` that reproduces it.

The app is its own instance of the session's settings: uvicorn runs it (and its lifespan) on a thread of its own,
since the session's `app` fixture lives on pytest's event loop. Schemathesis runs as its command line does, so the
README's longer pass is this same test with larger bounds.

Four settings of the run are deliberate, not leniency:
- operations that page take `cursor`, an opaque string: any string is schema-valid, and one this API did not issue is
  answered 400 as the document states, so for those operations 400 is an accepted answer to valid data;
- `RULE_BOUND` operations take bodies whose validity depends on more than their shape (`RULE_BOUND` says what), so
  for them a 422 (a problem naming the field) is an accepted answer to data that only looks valid;
- `CREATED_LATER` sub-resources are not expected to exist as soon as their parent does;
- strings are drawn without NUL characters: the API refuses them (422, `api.storable_text`), as the document's 422
  says; `tests/api/test_bad_input.py` holds that refusal.
"""

import json
import os
import re
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from core import migrate
from core.constants import IDEMPOTENCY_KEY_MAX_LENGTH
from core.db import Database
from core.settings import Settings
from ledgerline.app import create_app
from sandbox.server import free_port
from tests.conftest import TenantFixture, create_database, drop_database, make_tenant
from web.constants import CURSOR_PARAMETER

SEED = int(os.environ.get("LEDGERLINE_CONTRACT_SEED", "18"))
"""The same cases on every run (18: the issue); the README's longer pass may pick another."""
MAX_EXAMPLES = int(os.environ.get("LEDGERLINE_CONTRACT_EXAMPLES", "6"))
"""Cases per operation and phase (and stateful scenarios in proportion); the README's longer pass raises it."""
SCHEMATHESIS = str(Path(sys.executable).with_name("schemathesis"))
HOOKS = Path(__file__).with_name("contract_hooks.py")
STARTUP_SECONDS = 30.0
RUN_TIMEOUT_SECONDS = 600 + 30 * MAX_EXAMPLES


class _Served:
    """The app on a loopback port, from a thread with its own event loop; its lifespan runs there too."""

    def __init__(self, settings: Settings) -> None:
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        config = uvicorn.Config(
            create_app(settings), host="127.0.0.1", port=port, log_level="warning", access_log=False, lifespan="on"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name=f"contract:{port}", daemon=True)

    def __enter__(self) -> "_Served":
        self._thread.start()
        deadline = time.monotonic() + STARTUP_SECONDS
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError(f"the app did not start at {self.url}")
            time.sleep(0.05)
        return self

    def __exit__(self, *_: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=15)


@pytest.fixture(scope="module")
def contract_settings(settings: Settings) -> Iterator[Settings]:
    """The session's settings on a database and queue of the run's own: what it creates (connections, runs waiting
    in a queue, failed sign-ins counted in Redis) is no other test's business. One address sends every request, many
    deliberately without a valid key, so the sign-in throttle (tested on its own) is raised for the run."""
    url = create_database("ledgerline_contract")
    migrate.upgrade(url)
    yield settings.model_copy(
        update={
            "database_url": url,
            "queue_name": f"{settings.queue_name}:contract",
            "sign_in_failure_limit": 10_000,
        }
    )
    drop_database(url)


@pytest.fixture(scope="module")
def served(contract_settings: Settings) -> Iterator[_Served]:
    with _Served(contract_settings) as server:
        yield server


@pytest.fixture(scope="module")
async def contract_key(contract_settings: Settings) -> str:
    database = Database(contract_settings)
    try:
        return (await make_tenant(database, "Contract")).key
    finally:
        await database.dispose()


RULE_BOUND = {
    "GET /v1/connections/{connection_id}/reconciliation": "`from` must not come after `to`",
    "POST /v1/connections/{connection_id}/mappings": "types from the mappings vocabulary, an attribute of this "
    "destination of the named type",
    "POST /v1/connections/{connection_id}/mappings/bulk": "as for one mapping, for each",
    "PATCH /v1/connections/{connection_id}": "the settings of the connection's own provider and role, of those the "
    "document names for every connection",
    "PUT /v1/connections/{connection_id}/export-settings": "rules across fields (card transactions need a charge-card "
    "account, …) and accounts that exist in this destination",
}
CREATED_LATER = {
    "GET /v1/connections/{connection_id}/export-settings": "made by its own PUT, so a new destination has none (404) "
    "until then",
}
"""Sub-resources that creating their parent does not create: `ensure_resource_availability` reads their 404 right
after the parent's POST as the parent gone missing."""
ACCEPTED_FOR_VALID_DATA = ["2xx", "3xx", "401", "403", "404", "409", "429"]
"""Schemathesis's default for valid data, less 5xx: a server error is never an accepted answer."""


def _paging_operations(document: dict[str, Any]) -> list[str]:
    return [
        f"{method.upper()} {path}"
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if any(
            parameter["in"] == "query" and parameter["name"] == CURSOR_PARAMETER
            for parameter in operation.get("parameters", [])
        )
    ]


def _config(document: dict[str, Any]) -> str:
    """`schemathesis.toml` for the run (TOML written from JSON values: strings and lists read the same)."""
    paging = _paging_operations(document)
    assert not set(paging) & set(RULE_BOUND)
    return "\n".join(
        [
            f"seed = {SEED}",
            f"hooks = {json.dumps(str(HOOKS))}  # a fresh Idempotency-Key per request, as clients send",
            "[checks]",
            "enabled = true  # every check (`--checks=all` would also override the per-operation settings below)",
            "[generation]",
            "allow-x00 = false",
            'database = "none"',
            "[[operations]]",
            f"include-name = {json.dumps(paging)}",
            "[operations.checks.positive_data_acceptance]",
            f"expected-statuses = {json.dumps([*ACCEPTED_FOR_VALID_DATA, '400'])}",
            "[[operations]]",
            f"include-name = {json.dumps(list(RULE_BOUND))}",
            "[operations.checks.positive_data_acceptance]",
            f"expected-statuses = {json.dumps([*ACCEPTED_FOR_VALID_DATA, '422'])}",
            "[[operations]]",
            f"include-name = {json.dumps(list(CREATED_LATER))}",
            "[operations.checks.ensure_resource_availability]",
            "enabled = false",
        ]
    )


def test_the_api_answers_as_its_published_document_says(served: _Served, contract_key: str, tmp_path: Path) -> None:
    document = httpx.get(f"{served.url}/openapi.json", timeout=30).json()
    config = tmp_path / "schemathesis.toml"
    config.write_text(_config(document))
    report = tmp_path / "report.json"
    command = [
        SCHEMATHESIS,
        "--no-color",
        f"--config-file={config}",
        "run",
        f"{served.url}/openapi.json",
        f"--max-examples={MAX_EXAMPLES}",
        "--workers=1",
        "--output-truncate=false",
        "--report=json",
        f"--report-json-path={report}",
        "--header",
        f"Authorization: Bearer {contract_key}",
    ]
    outcome = subprocess.run(command, capture_output=True, text=True, timeout=RUN_TIMEOUT_SECONDS, cwd=tmp_path)
    assert report.exists(), outcome.stdout + outcome.stderr
    summary = json.loads(report.read_text())
    print(  # shown with -s, or by pytest when the test fails
        f"Schemathesis {summary['schemathesis_version']}: {summary['test_cases']['generated']} cases, "
        f"{summary['operations']['tested']} operations, {summary['running_time']:.1f} s"
    )
    assert summary["operations"]["tested"] == summary["operations"]["total"], outcome.stdout
    assert all(phase["status"] in ("success", "skip") for phase in summary["phases"].values()), outcome.stdout
    assert summary["phases"]["stateful"]["status"] == "success", outcome.stdout
    assert not summary["failures"] and not summary["errors"], outcome.stdout
    assert outcome.returncode == 0, outcome.stdout + outcome.stderr


async def _destination(client: httpx.AsyncClient, tenant: TenantFixture) -> str:
    created = await client.post(
        "/v1/connections",
        headers=tenant.headers,
        json={"name": f"books-{uuid.uuid4().hex[:6]}", "provider": "intacct", "role": "destination"},
    )
    assert created.status_code == 201, created.text
    connection_id: str = created.json()["id"]
    return connection_id


def _is_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["detail"]
    return body


async def test_a_literal_segment_is_never_read_as_a_mapping_id(
    client: httpx.AsyncClient, tenant: TenantFixture
) -> None:
    connection_id = await _destination(client, tenant)
    for literal, allowed in (("auto-map", "POST"), ("bulk", "POST")):
        response = await client.get(f"/v1/connections/{connection_id}/mappings/{literal}", headers=tenant.headers)
        _is_problem(response, 405)
        assert response.headers["allow"] == allowed


async def test_allow_names_every_method_of_the_path(client: httpx.AsyncClient, tenant: TenantFixture) -> None:
    connection_id = await _destination(client, tenant)
    response = await client.request("OPTIONS", f"/v1/connections/{connection_id}", headers=tenant.headers)
    body = _is_problem(response, 405)
    assert response.headers["allow"] == "GET, PATCH"
    assert "GET, PATCH" in body["detail"]
    response = await client.delete("/v1/connections", headers=tenant.headers)
    assert _is_problem(response, 405) and response.headers["allow"] == "GET, POST"


async def test_a_body_that_is_not_json_is_415(client: httpx.AsyncClient, tenant: TenantFixture) -> None:
    response = await client.post(
        "/v1/connections",
        headers={**tenant.headers, "content-type": "text/plain"},
        content=b'{"name": "x", "provider": "intacct", "role": "destination"}',
    )
    assert "application/json" in _is_problem(response, 415)["detail"]


async def test_a_date_written_as_a_number_is_422(client: httpx.AsyncClient, tenant: TenantFixture) -> None:
    response = await client.get("/v1/export-items", params={"updated_to": "0.5"}, headers=tenant.headers)
    assert _is_problem(response, 422)["errors"][0]["field"] == "query.updated_to"


async def test_the_document_states_the_problems_and_opaque_cursors(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    assert document["components"]["schemas"]["Problem"]["required"] == ["type", "title", "status", "detail"]
    operations = [
        (path, method, operation)
        for path, methods in document["paths"].items()
        if path.startswith("/v1/")
        for method, operation in methods.items()
    ]
    for path, method, operation in operations:
        responses = operation["responses"]
        for status, response in responses.items():
            if int(status) >= 400:
                assert response["content"] == problem, (method, path, status)
        if operation.get("security"):
            assert {"401", "403", "422", "429"} <= set(responses), (method, path)
            assert "Retry-After" in responses["429"]["headers"]
            assert "WWW-Authenticate" in responses["401"]["headers"]
        if "{" in path:
            assert "404" in responses, (method, path)
        if method in ("post", "put", "patch"):
            assert {"413", "415"} <= set(responses), (method, path)
        cursor = [parameter for parameter in operation.get("parameters", []) if parameter["name"] == CURSOR_PARAMETER]
        if cursor:
            assert cursor[0]["schema"]["anyOf"][0] == {"type": "string"}
            assert "400" in responses and "not issue" in cursor[0]["description"]
    assert ("/v1/connections", "post") in {(path, method) for path, method, _ in operations}
    assert "HTTPValidationError" not in document["components"]["schemas"]


async def test_every_post_that_keeps_answers_declares_the_idempotency_key_and_what_it_can_cause(
    client: httpx.AsyncClient, tenant: TenantFixture
) -> None:
    """Before, the header was honoured on every tenant POST but stated on none, so no generated client sent it and
    no fuzzer tried its limit."""
    document = (await client.get("/openapi.json")).json()
    posts = [
        (path, operation)
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
        if method == "post" and path.startswith("/v1/") and operation.get("security")
    ]
    assert ("/v1/connections", document["paths"]["/v1/connections"]["post"]) in posts
    for path, operation in posts:
        declared = [parameter for parameter in operation["parameters"] if parameter["name"] == "Idempotency-Key"]
        assert len(declared) == 1, path
        schema = declared[0]["schema"]
        assert (declared[0]["in"], declared[0]["required"]) == ("header", False)
        assert (schema["minLength"], schema["maxLength"]) == (1, IDEMPOTENCY_KEY_MAX_LENGTH), path
        assert {"400", "409", "422"} <= set(operation["responses"]), path
        created = next(response for status, response in operation["responses"].items() if status.startswith("2"))
        assert "Idempotent-Replayed" in created["headers"], path
    others = [
        operation
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
        if (method, path[:4]) != ("post", "/v1/") or not operation.get("security")
    ]
    assert all(parameter["name"] != "Idempotency-Key" for one in others for parameter in one.get("parameters", []))

    # What it states is what happens: the limit, and a key reused with another request.
    def fits(key: str) -> bool:
        return schema["minLength"] <= len(key) <= schema["maxLength"] and bool(re.fullmatch(schema["pattern"], key))

    body = {"name": "keyed", "provider": "intacct", "role": "destination"}
    longest = "k" * IDEMPOTENCY_KEY_MAX_LENGTH
    for key, status in ((longest, 201), (longest + "k", 400), ("", 400)):
        assert fits(key) == (status == 201), key
        answer = await client.post("/v1/connections", headers={**tenant.headers, "Idempotency-Key": key}, json=body)
        assert answer.status_code == status, answer.text
    replayed = await client.post("/v1/connections", headers={**tenant.headers, "Idempotency-Key": longest}, json=body)
    assert replayed.status_code == 201 and replayed.headers["Idempotent-Replayed"] == "true"
    reused = {**body, "name": "other"}
    _is_problem(
        await client.post("/v1/connections", headers={**tenant.headers, "Idempotency-Key": longest}, json=reused), 422
    )
    assert fits("a b") and not fits(" padded ") and not fits("é") and not fits("tab\there")
