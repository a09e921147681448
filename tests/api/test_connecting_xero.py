"""Connecting Xero through the API, where one consent covers several organisations: the callback answers a choice
listing them and connects nothing; the tenant admin then picks which become connections, each named, all sharing the
consent's tokens under one grant. A choice is single use, belongs to the tenant that consented, and is refused as a
whole (problem+json, nothing taken) when a name is taken, an organisation is already connected, or the pick names
books the consent does not cover — the admin corrects the pick without consenting again."""

import html
import re
import secrets
import uuid
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlparse

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from redis.asyncio import Redis
from sqlalchemy import select

from core.crypto import CredentialVault
from core.db import Database
from core.models import Connection
from core.settings import Settings
from ledgerline.app import create_app
from sandbox.xero.constants import CLIENT_ID, CLIENT_SECRET, MAIN_TENANT, ORGANISATIONS, UK_TENANT
from tests.api.test_connecting import local_path
from tests.conftest import TenantFixture
from tests.sandbox_fixtures import RunningSandbox
from web.constants import OAUTH_CHOICE_KEY, OAUTH_STATE_TTL_SECONDS

ORGANISATION_NAMES = {tenant_id: name for tenant_id, name, *_ in ORGANISATIONS}
NOT_COVERED = "6f2b9c44-1d6a-4c58-9a55-3e0a6c0d1999"
PROBLEM = "application/problem+json"


@pytest.fixture
async def xero_app(settings: Settings, sandbox: RunningSandbox) -> AsyncIterator[FastAPI]:
    apps = {"xero": {"client_id": SecretStr(CLIENT_ID), "client_secret": SecretStr(CLIENT_SECRET)}}
    app: FastAPI = create_app(settings.model_copy(update={"sandbox_url": sandbox.url, "connector_apps": apps}))
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def api(xero_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=xero_app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://ledgerline.test") as client:
        yield client


@pytest.fixture
async def redis(settings: Settings) -> AsyncIterator[Redis]:
    client = Redis.from_url(settings.redis_url or "")
    yield client
    await client.aclose()


def xero_consent(authorize_url: str, tenants: tuple[str, ...]) -> str:
    """A person on Xero's consent page ticking `tenants` and allowing; returns where Xero sends the browser back."""
    with httpx.Client(timeout=10) as browser:
        page = browser.get(authorize_url)
        assert page.status_code == 200, page.text
        hidden = {
            name: html.unescape(value)
            for name, value in re.findall(r'type="hidden" name="(\w+)" value="([^"]*)"', page.text)
        }
        form: dict[str, str | list[str]] = {**hidden, "tenant": list(tenants), "decision": "allow"}
        answer = browser.post(urlparse(authorize_url)._replace(query="").geturl(), data=form)
    assert answer.status_code == 303, answer.text
    assert "code=" in answer.headers["location"]
    return answer.headers["location"]


async def consented(
    api: httpx.AsyncClient, tenant: TenantFixture, *, tenants: tuple[str, ...] = (MAIN_TENANT, UK_TENANT)
) -> httpx.Response:
    """The API flow from `authorize` through Xero's consent page to the callback's answer."""
    started = await api.get("/v1/connections/xero/authorize", params={"name": "books"}, headers=tenant.headers)
    assert started.status_code == 307, started.text
    return await api.get(local_path(xero_consent(started.headers["location"], tenants)))


async def a_choice(api: httpx.AsyncClient, tenant: TenantFixture) -> str:
    answered = await consented(api, tenant)
    assert answered.status_code == 200, answered.text
    choice: str = answered.json()["choice"]
    return choice


async def choose(api: httpx.AsyncClient, tenant: TenantFixture, choice: str, picked: dict[str, str]) -> httpx.Response:
    body = {"connections": [{"account_id": account_id, "name": name} for account_id, name in picked.items()]}
    return await api.post(f"/v1/connections/xero/choices/{choice}", headers=tenant.headers, json=body)


async def xero_connections(database: Database, tenant: TenantFixture) -> list[Connection]:
    async with database.tenant_session(tenant.id) as session:
        query = select(Connection).where(Connection.provider == "xero").order_by(Connection.name)
        return list((await session.scalars(query)).all())


def assert_refused(response: httpx.Response, status: int, *words: str) -> dict[str, Any]:
    """A problem+json refusal whose detail says in words what went wrong."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert len(body["detail"].split()) >= 4, f"not a sentence a person can act on: {body['detail']!r}"
    for word in words:
        assert word in response.text, f"{word!r} not in {response.text}"
    return body


async def test_a_consent_covering_two_organisations_answers_a_choice_and_connects_nothing_yet(
    api: httpx.AsyncClient, tenant: TenantFixture, database: Database
) -> None:
    answered = await consented(api, tenant)

    assert answered.status_code == 200, answered.text
    choice = answered.json()
    assert choice["system"] == "xero"
    assert choice["expires_in_seconds"] == OAUTH_STATE_TTL_SECONDS
    listed = {account["account_id"]: account for account in choice["accounts"]}
    assert set(listed) == {MAIN_TENANT, UK_TENANT}
    assert {account_id: account["name"] for account_id, account in listed.items()} == ORGANISATION_NAMES
    suggested = [account["suggested_name"] for account in choice["accounts"]]
    assert len(set(suggested)) == 2 and all(suggested), "a distinct name per organisation nobody has to type"
    assert await xero_connections(database, tenant) == []

    read = await api.get(f"/v1/connections/xero/choices/{choice['choice']}", headers=tenant.headers)
    assert read.status_code == 200
    assert read.json() == choice, "reading the choice again neither changes nor takes it"
    assert await xero_connections(database, tenant) == []


async def test_the_waiting_consent_is_encrypted_in_redis_and_expires(
    api: httpx.AsyncClient, tenant: TenantFixture, settings: Settings, redis: Redis
) -> None:
    choice = await a_choice(api, tenant)
    key = OAUTH_CHOICE_KEY.format(choice=choice)
    raw = await redis.get(key)
    assert raw is not None
    assert 0 < await redis.ttl(key) <= OAUTH_STATE_TTL_SECONDS
    for clear_text in (MAIN_TENANT.encode(), b"token", str(tenant.id).encode()):
        assert clear_text not in raw
    vault = CredentialVault(settings.vault_key_list())
    tokens = vault.decrypt(vault.decrypt(raw)["credentials"].encode())
    assert tokens["access_token"] and tokens["refresh_token"]


async def test_choosing_both_organisations_makes_two_connections_sharing_one_grant(
    api: httpx.AsyncClient, tenant: TenantFixture, database: Database, settings: Settings, sandbox: RunningSandbox
) -> None:
    choice = await a_choice(api, tenant)

    chosen = await choose(api, tenant, choice, {MAIN_TENANT: "Xero US", UK_TENANT: "Xero UK"})

    assert chosen.status_code == 201, chosen.text
    items = {item["name"]: item for item in chosen.json()["items"]}
    assert set(items) == {"Xero US", "Xero UK"}
    assert all(item["status"] == "active" and item["has_credentials"] for item in items.values())
    uk, us = await xero_connections(database, tenant)  # ordered by name
    assert (uk.name, us.name) == ("Xero UK", "Xero US")
    assert us.settings["tenant_id"] == MAIN_TENANT and uk.settings["tenant_id"] == UK_TENANT
    assert us.oauth_grant is not None and us.oauth_grant == uk.oauth_grant
    assert us.role == uk.role == "destination"
    vault = CredentialVault(settings.vault_key_list())
    tokens = vault.decrypt(us.credentials or b"")
    assert vault.decrypt(uk.credentials or b"") == tokens
    # The tokens are the consent's own: Xero lists exactly the two organisations for them.
    async with httpx.AsyncClient(base_url=f"{sandbox.url}/xero", timeout=10) as xero:
        listed = await xero.get("/connections", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert {row["tenantId"] for row in listed.json()} == {MAIN_TENANT, UK_TENANT}
    listing = await api.get("/v1/connections", headers=tenant.headers)
    assert {item["name"] for item in listing.json()["items"]} == {"Xero US", "Xero UK"}


async def test_choosing_one_organisation_connects_only_that_one(
    api: httpx.AsyncClient, tenant: TenantFixture, database: Database
) -> None:
    choice = await a_choice(api, tenant)

    chosen = await choose(api, tenant, choice, {UK_TENANT: "Xero UK"})

    assert chosen.status_code == 201, chosen.text
    assert [item["name"] for item in chosen.json()["items"]] == ["Xero UK"]
    [row] = await xero_connections(database, tenant)
    assert row.name == "Xero UK" and row.settings["tenant_id"] == UK_TENANT
    assert row.oauth_grant is not None


async def test_a_choice_is_used_once(api: httpx.AsyncClient, tenant: TenantFixture, database: Database) -> None:
    choice = await a_choice(api, tenant)
    assert (await choose(api, tenant, choice, {MAIN_TENANT: "Xero US"})).status_code == 201

    again = await choose(api, tenant, choice, {UK_TENANT: "Xero UK"})
    body = assert_refused(again, 404, "start connecting again")
    assert body["type"].endswith("choice-gone")
    assert_refused(await api.get(f"/v1/connections/xero/choices/{choice}", headers=tenant.headers), 404)
    assert [row.name for row in await xero_connections(database, tenant)] == ["Xero US"]


async def test_another_tenants_admin_can_neither_read_nor_use_the_choice(
    api: httpx.AsyncClient, tenant: TenantFixture, other_tenant: TenantFixture, database: Database
) -> None:
    choice = await a_choice(api, tenant)

    read = await api.get(f"/v1/connections/xero/choices/{choice}", headers=other_tenant.headers)
    used = await choose(api, other_tenant, choice, {MAIN_TENANT: "Stolen US", UK_TENANT: "Stolen UK"})
    unknown = await api.get("/v1/connections/xero/choices/no-such-choice", headers=other_tenant.headers)

    for refused in (read, used):
        body = assert_refused(refused, 404)
        said = {key: body[key] for key in ("type", "title", "detail")}
        assert said == {key: unknown.json()[key] for key in said}, "told no more than of any unknown id"
        assert MAIN_TENANT not in refused.text and ORGANISATION_NAMES[MAIN_TENANT] not in refused.text
    assert await xero_connections(database, other_tenant) == []
    assert await xero_connections(database, tenant) == []
    # Nor through another system's path, for the tenant itself.
    assert_refused(await api.get(f"/v1/connections/quickbooks/choices/{choice}", headers=tenant.headers), 404)
    # Their attempts took nothing: the tenant that consented still chooses.
    assert (await choose(api, tenant, choice, {MAIN_TENANT: "Xero US"})).status_code == 201


async def _add_connection(database: Database, tenant: TenantFixture, *, name: str, provider: str) -> None:
    async with database.tenant_session(tenant.id) as session:
        session.add(
            Connection(
                id=uuid.uuid4(),
                tenant_id=tenant.id,
                name=name,
                provider=provider,
                role="source" if provider == "fyle" else "destination",
                webhook_key=secrets.token_hex(8),
            )
        )


async def test_a_name_already_taken_is_refused_before_the_choice_is_taken(
    api: httpx.AsyncClient, tenant: TenantFixture, database: Database
) -> None:
    await _add_connection(database, tenant, name="Expenses", provider="fyle")
    choice = await a_choice(api, tenant)

    refused = await choose(api, tenant, choice, {MAIN_TENANT: "Xero US", UK_TENANT: "Expenses"})

    body = assert_refused(refused, 409, "Expenses", "already exists")
    assert body["type"].endswith("choice-refused")
    assert [error["account_id"] for error in body["errors"]] == [UK_TENANT]
    assert await xero_connections(database, tenant) == [], "a refused pick saves none of it"
    corrected = await choose(api, tenant, choice, {MAIN_TENANT: "Xero US", UK_TENANT: "Xero UK"})
    assert corrected.status_code == 201, "the refusal came before the choice was taken: no second consent needed"
    assert [row.name for row in await xero_connections(database, tenant)] == ["Xero UK", "Xero US"]


async def test_a_pick_the_consent_does_not_cover_or_cannot_name_is_refused_and_can_be_corrected(
    api: httpx.AsyncClient, tenant: TenantFixture, database: Database
) -> None:
    choice = await a_choice(api, tenant)

    not_covered = await choose(api, tenant, choice, {MAIN_TENANT: "Xero US", NOT_COVERED: "Somebody else"})
    body = assert_refused(not_covered, 422, "not one the consent covers")
    assert [error["account_id"] for error in body["errors"]] == [NOT_COVERED]
    same_name = await choose(api, tenant, choice, {MAIN_TENANT: "Xero", UK_TENANT: "Xero"})
    assert_refused(same_name, 422, "cannot both be named")
    body = {"connections": [{"account_id": MAIN_TENANT, "name": "A"}, {"account_id": MAIN_TENANT, "name": "B"}]}
    twice = await api.post(f"/v1/connections/xero/choices/{choice}", headers=tenant.headers, json=body)
    assert_refused(twice, 422, "picked twice")
    nothing = await api.post(f"/v1/connections/xero/choices/{choice}", headers=tenant.headers, json={"connections": []})
    assert_refused(nothing, 422)
    bad_name = await choose(api, tenant, choice, {MAIN_TENANT: "Xero <US>"})
    assert_refused(bad_name, 422)
    assert await xero_connections(database, tenant) == []

    assert (await choose(api, tenant, choice, {MAIN_TENANT: "Xero US"})).status_code == 201


async def test_an_organisation_already_connected_is_refused_under_another_name(
    api: httpx.AsyncClient, tenant: TenantFixture, database: Database
) -> None:
    first = await a_choice(api, tenant)
    assert (await choose(api, tenant, first, {MAIN_TENANT: "Xero US"})).status_code == 201
    [before] = await xero_connections(database, tenant)

    second = await a_choice(api, tenant)
    refused = await choose(api, tenant, second, {MAIN_TENANT: "Xero US again", UK_TENANT: "Xero UK"})

    body = assert_refused(refused, 409, "already connected as", "Xero US")
    assert [error["account_id"] for error in body["errors"]] == [MAIN_TENANT]
    [after] = await xero_connections(database, tenant)
    assert (after.id, after.credentials, after.oauth_grant) == (before.id, before.credentials, before.oauth_grant)
    # Picking only the organisation not yet connected goes through on the same choice.
    assert (await choose(api, tenant, second, {UK_TENANT: "Xero UK"})).status_code == 201
    assert [row.settings["tenant_id"] for row in await xero_connections(database, tenant)] == [UK_TENANT, MAIN_TENANT]


async def test_an_organisation_chosen_again_under_its_own_name_is_re_authorized_not_duplicated(
    api: httpx.AsyncClient, tenant: TenantFixture, database: Database
) -> None:
    first = await a_choice(api, tenant)
    assert (await choose(api, tenant, first, {MAIN_TENANT: "Xero US"})).status_code == 201
    [before] = await xero_connections(database, tenant)

    second = await a_choice(api, tenant)
    again = await choose(api, tenant, second, {MAIN_TENANT: "Xero US", UK_TENANT: "Xero UK"})

    assert again.status_code == 201, again.text
    us, uk = sorted(await xero_connections(database, tenant), key=lambda row: row.name, reverse=True)
    assert us.id == before.id and us.credentials != before.credentials
    assert us.oauth_grant == uk.oauth_grant != before.oauth_grant


async def test_a_consent_covering_one_organisation_connects_it_straight_away(
    api: httpx.AsyncClient, tenant: TenantFixture, database: Database
) -> None:
    answered = await consented(api, tenant, tenants=(UK_TENANT,))

    assert answered.status_code == 200, answered.text
    assert "choice" not in answered.json()
    assert answered.json()["name"] == "books" and answered.json()["settings"]["tenant_id"] == UK_TENANT
    [row] = await xero_connections(database, tenant)
    assert row.name == "books" and row.settings["tenant_id"] == UK_TENANT and row.status == "active"


async def test_no_token_or_secret_appears_in_any_answer(
    api: httpx.AsyncClient, tenant: TenantFixture, database: Database, settings: Settings
) -> None:
    answers = [await consented(api, tenant)]
    choice = answers[0].json()["choice"]
    answers.append(await api.get(f"/v1/connections/xero/choices/{choice}", headers=tenant.headers))
    answers.append(await choose(api, tenant, choice, {MAIN_TENANT: "Xero", UK_TENANT: "Xero"}))
    answers.append(await choose(api, tenant, choice, {MAIN_TENANT: "Xero US", UK_TENANT: "Xero UK"}))
    answers.append(await choose(api, tenant, choice, {MAIN_TENANT: "Xero US"}))
    answers.append(await api.get("/v1/connections", headers=tenant.headers))
    assert [answer.status_code for answer in answers] == [200, 200, 422, 201, 404, 200]

    vault = CredentialVault(settings.vault_key_list())
    [row, *_] = await xero_connections(database, tenant)
    tokens = vault.decrypt(row.credentials or b"")
    secrets_ = [tokens["access_token"], tokens["refresh_token"], CLIENT_SECRET, (row.credentials or b"").decode()]
    for answer in answers:
        for secret in secrets_:
            assert secret not in answer.text, f"a secret in {answer.request.url}"
        assert "token" not in answer.text.lower()


async def test_a_consent_covering_one_organisation_already_connected_under_another_name_is_refused(
    api: httpx.AsyncClient, tenant: TenantFixture, database: Database
) -> None:
    """The choice refuses connecting an organisation twice; a consent covering only that organisation must not slip
    past it: two connections exporting to one set of books would each create every document there."""
    choice = await a_choice(api, tenant)
    assert (await choose(api, tenant, choice, {UK_TENANT: "Xero UK"})).status_code == 201
    [before] = await xero_connections(database, tenant)

    refused = await consented(api, tenant, tenants=(UK_TENANT,))  # asks for the connection "books"

    assert_refused(refused, 409, "already connected as", "Xero UK")
    [after] = await xero_connections(database, tenant)
    assert (after.id, after.name, after.credentials) == (before.id, before.name, before.credentials)
