"""`POST /webhooks/{provider}` over the real app, database and Redis: one address and one verifier token for every
QuickBooks company, each delivery split by realm and stored only for the connections holding that realm."""

import json
import secrets
from dataclasses import replace

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client import REGISTRY

from core.db import Database
from tests.conftest import TenantFixture
from tests.webhooks.app_support import (
    PATH,
    SYSTEM,
    app_ingress,
    classic,
    cloudevent,
    encode,
    events_of,
    qbo_connection,
    realm,
    signed,
    tidy,
)
from webhooks.app_ingress import UNCLAIMED_OUTCOME, AppWebhookIngress

__all__ = ["app_ingress", "tidy"]  # fixtures, imported so pytest finds them

pytestmark = pytest.mark.usefixtures("app_ingress", "tidy")


def _is_problem(response: httpx.Response, status: int, kind: str | None = None) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["detail"]
    if kind is not None:
        assert response.json()["type"].endswith(kind), response.json()


async def _post(client: httpx.AsyncClient, payload: object, *, headers: dict[str, str] | None = None) -> httpx.Response:
    body = encode(payload)
    return await client.post(PATH, content=body, headers=headers or signed(body))


async def test_a_delivery_is_stored_only_for_the_connection_holding_its_realm_and_a_redelivery_stores_nothing(
    client: httpx.AsyncClient, database: Database, tenant: TenantFixture, other_tenant: TenantFixture
) -> None:
    mine, theirs = realm(), realm()
    connection = await qbo_connection(database, tenant.id, mine)
    other = await qbo_connection(database, other_tenant.id, theirs)
    payload = classic((mine, [("Vendor", "56", "Create")]))

    response = await _post(client, payload)
    assert response.status_code == 202, response.text
    assert response.json() == {"outcome": "accepted", "events_stored": 1, "connections": 1, "unclaimed_accounts": 0}
    [event] = await events_of(database, tenant.id, connection)
    assert (event.provider, event.event_type, event.state) == (SYSTEM, "Vendor.Create", "received")
    assert event.payload == payload
    assert event.event_id.startswith("sha256:")
    assert await events_of(database, other_tenant.id, other) == []

    again = await _post(client, payload)
    assert again.status_code == 200 and again.json()["outcome"] == "duplicate"
    assert len(await events_of(database, tenant.id, connection)) == 1


async def test_one_delivery_naming_two_realms_of_two_tenants_stores_each_its_own_part_only(
    client: httpx.AsyncClient, database: Database, tenant: TenantFixture, other_tenant: TenantFixture
) -> None:
    mine, theirs = realm(), realm()
    connection = await qbo_connection(database, tenant.id, mine)
    other = await qbo_connection(database, other_tenant.id, theirs)
    payload = classic((mine, [("Bill", "145", "Update")]), (theirs, [("Account", "7", "Create")]))

    response = await _post(client, payload)
    assert response.status_code == 202 and response.json()["events_stored"] == 2, response.text
    [event] = await events_of(database, tenant.id, connection)
    [their_event] = await events_of(database, other_tenant.id, other)
    assert event.payload == classic((mine, [("Bill", "145", "Update")]))
    assert their_event.payload == classic((theirs, [("Account", "7", "Create")]))
    assert theirs not in json.dumps(event.payload) and mine not in json.dumps(their_event.payload)
    assert event.event_id != their_event.event_id
    # Neither tenant's session sees the other's event (row-level security, not only the query).
    assert [row.id for row in await events_of(database, tenant.id, other)] == []

    assert (await _post(client, payload)).json()["outcome"] == "duplicate"
    assert len(await events_of(database, tenant.id, connection)) == 1
    assert len(await events_of(database, other_tenant.id, other)) == 1


async def test_two_connections_of_one_realm_in_two_tenants_each_get_the_event(
    client: httpx.AsyncClient, database: Database, tenant: TenantFixture, other_tenant: TenantFixture
) -> None:
    shared = realm()
    first = await qbo_connection(database, tenant.id, shared)
    second = await qbo_connection(database, other_tenant.id, shared)
    response = await _post(client, classic((shared, [("Item", "3", "Update")])))
    assert response.json()["events_stored"] == 2, response.text
    assert len(await events_of(database, tenant.id, first)) == 1
    assert len(await events_of(database, other_tenant.id, second)) == 1


async def test_cloudevents_are_stored_one_event_each_under_their_own_ids(
    client: httpx.AsyncClient, database: Database, tenant: TenantFixture, other_tenant: TenantFixture
) -> None:
    mine, theirs = realm(), realm()
    connection = await qbo_connection(database, tenant.id, mine)
    other = await qbo_connection(database, other_tenant.id, theirs)
    bill, vendor, elsewhere = (
        cloudevent(mine, "Bill", "145"),
        cloudevent(mine, "Vendor", "9", "updated"),
        cloudevent(theirs, "Customer", "1"),
    )
    response = await _post(client, [bill, vendor, elsewhere])
    assert response.status_code == 202 and response.json()["events_stored"] == 3, response.text
    stored = {event.event_id: event for event in await events_of(database, tenant.id, connection)}
    assert set(stored) == {bill["id"], vendor["id"]}
    assert stored[bill["id"]].payload == bill and stored[bill["id"]].event_type == "qbo.bill.created.v1"
    assert [event.event_id for event in await events_of(database, other_tenant.id, other)] == [elsewhere["id"]]
    # Batched differently, the same events are still the same events.
    assert (await _post(client, [vendor, bill])).json()["outcome"] == "duplicate"


def _counted(outcome: str) -> float:
    return REGISTRY.get_sample_value("ledgerline_webhooks_total", {"provider": SYSTEM, "outcome": outcome}) or 0.0


async def test_a_realm_no_connection_holds_is_acknowledged_counted_and_dropped(
    client: httpx.AsyncClient, database: Database, tenant: TenantFixture
) -> None:
    mine, nobodys = realm(), realm()
    connection = await qbo_connection(database, tenant.id, mine)
    before = _counted(UNCLAIMED_OUTCOME)
    response = await _post(client, classic((nobodys, [("Bill", "1", "Create")])))
    assert response.status_code == 200 and response.json()["outcome"] == "unclaimed", response.text
    mixed = await _post(client, classic((nobodys, [("Bill", "2", "Create")]), (mine, [("Bill", "2", "Create")])))
    assert mixed.status_code == 202 and mixed.json()["unclaimed_accounts"] == 1
    assert _counted(UNCLAIMED_OUTCOME) == before + 2
    assert len(await events_of(database, tenant.id, connection)) == 1


async def test_wrong_missing_or_garbled_signatures_are_401_and_store_nothing(
    client: httpx.AsyncClient, database: Database, tenant: TenantFixture
) -> None:
    mine = realm()
    connection = await qbo_connection(database, tenant.id, mine)
    body = encode(classic((mine, [("Bill", "1", "Create")])))
    _is_problem(await client.post(PATH, content=body, headers=signed(body, "another app's token")), 401)
    _is_problem(await client.post(PATH, content=body + b" ", headers=signed(body)), 401)
    _is_problem(
        await client.post(PATH, content=body, headers={"content-type": "application/json"}), 401, "missing-signature"
    )
    for garbled in ("not base64!", "A" * 300, ""):
        headers = {"content-type": "application/json", "intuit-signature": garbled}
        _is_problem(await client.post(PATH, content=body, headers=headers), 401)
    assert await events_of(database, tenant.id, connection) == []


async def test_without_a_configured_verifier_token_every_delivery_is_refused(
    app: FastAPI, client: httpx.AsyncClient, database: Database, tenant: TenantFixture
) -> None:
    mine = realm()
    connection = await qbo_connection(database, tenant.id, mine)
    app.state.app_webhook_ingress = AppWebhookIngress(app.state.webhook_ingress, app_credentials=lambda system: {})
    body = encode(classic((mine, [("Bill", "1", "Create")])))
    refused = await client.post(PATH, content=body, headers=signed(body))
    _is_problem(refused, 401, "no-webhook-secret")
    assert "webhook_verifier_token" in refused.json()["detail"]
    assert await events_of(database, tenant.id, connection) == []


async def test_wrong_media_type_malformed_unreadable_and_oversize_bodies(
    client: httpx.AsyncClient, database: Database, tenant: TenantFixture
) -> None:
    mine = realm()
    connection = await qbo_connection(database, tenant.id, mine)
    body = encode(classic((mine, [("Bill", "1", "Create")])))
    _is_problem(await client.post(PATH, content=body, headers={**signed(body), "content-type": "text/plain"}), 415)
    for broken in (b'{"eventNotifications": ', b"\xff\xfe", b"NaN", b'"text"', b"[" * 100_000):
        _is_problem(await client.post(PATH, content=broken, headers=signed(broken)), 400)
    for unreadable in ({"something": "else"}, [1, 2], {"eventNotifications": "no"}, [{"no": "cloudevent"}]):
        _is_problem(await _post(client, unreadable), 400, "malformed-payload")
    nul = encode(classic((mine, [("Bill", "a\u0000b", "Create")])))
    _is_problem(await client.post(PATH, content=nul, headers=signed(nul)), 400)
    huge = encode(classic((mine, [("Bill", "x" * (1024 * 1024), "Create")])))
    _is_problem(await client.post(PATH, content=huge, headers=signed(huge)), 413)
    assert await events_of(database, tenant.id, connection) == []
    empty = await _post(client, [])
    assert empty.status_code == 200 and empty.json()["outcome"] == "ignored"


async def test_providers_are_held_to_their_address(client: httpx.AsyncClient, tenant: TenantFixture) -> None:
    body = encode(classic((realm(), [("Bill", "1", "Create")])))
    _is_problem(await client.post("/webhooks/fyle", content=body, headers=signed(body)), 404, "unknown-provider")
    _is_problem(await client.post("/webhooks/made-up", content=body, headers=signed(body)), 404, "unknown-provider")
    per_connection = await client.post(f"{PATH}/{'k' * 32}", content=body, headers=signed(body))
    _is_problem(per_connection, 404, "app-level-provider")


async def test_forged_deliveries_spend_the_failure_budget_while_signed_ones_still_get_in(
    app: FastAPI, database: Database, tenant: TenantFixture
) -> None:
    mine = realm()
    connection = await qbo_connection(database, tenant.id, mine)
    ingress = app.state.webhook_ingress
    ingress.limits = replace(ingress.limits, failures_per_address=5)  # the conftest puts the limits back
    body = encode(classic((mine, [("Bill", "1", "Create")])))
    forged = signed(body, "a forger's guess")
    address = f"198.51.100.{secrets.randbelow(250) + 1}"  # an address of its own: no earlier test's failures count
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=(address, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://ledgerline.test") as client:
        statuses = [(await client.post(PATH, content=body, headers=forged)).status_code for _ in range(8)]
        assert statuses == [401] * 5 + [429] * 3, statuses
        blocked = await client.post(PATH, content=body, headers=forged)
        _is_problem(blocked, 429, "too-many-failures")
        assert int(blocked.headers["Retry-After"]) >= 1
        assert (await client.post(PATH, content=body, headers=signed(body))).status_code == 202
    assert len(await events_of(database, tenant.id, connection)) == 1


async def test_a_connection_with_a_full_inbox_holds_its_part_back_and_the_redelivery_stores_it(
    app: FastAPI, client: httpx.AsyncClient, database: Database, tenant: TenantFixture, other_tenant: TenantFixture
) -> None:
    busy, calm = realm(), realm()
    busy_connection = await qbo_connection(database, tenant.id, busy)
    calm_connection = await qbo_connection(database, other_tenant.id, calm)
    assert (await _post(client, classic((busy, [("Vendor", "1", "Create")])))).status_code == 202
    ingress = app.state.webhook_ingress
    limits = ingress.limits
    ingress.limits = replace(limits, inbox_limit=1)
    ingress.inbox.forget()
    payload = classic((busy, [("Bill", "5", "Create")]), (calm, [("Bill", "6", "Create")]))
    try:
        held = await _post(client, payload)
        _is_problem(held, 429, "held-back")
        assert held.json()["events_stored"] == 1 and int(held.headers["Retry-After"]) >= 1
        assert len(await events_of(database, other_tenant.id, calm_connection)) == 1
        assert len(await events_of(database, tenant.id, busy_connection)) == 1
    finally:
        ingress.limits = limits
        ingress.inbox.forget()
    again = await _post(client, payload)
    assert again.status_code == 202 and again.json()["events_stored"] == 1, again.text
    assert len(await events_of(database, tenant.id, busy_connection)) == 2
    assert len(await events_of(database, other_tenant.id, calm_connection)) == 1


async def test_a_disabled_connection_stores_its_events_as_on_the_per_connection_route(
    client: httpx.AsyncClient, database: Database, tenant: TenantFixture
) -> None:
    mine = realm()
    connection = await qbo_connection(database, tenant.id, mine, status="disabled")
    assert (await _post(client, classic((mine, [("Bill", "1", "Create")])))).status_code == 202
    assert len(await events_of(database, tenant.id, connection)) == 1
