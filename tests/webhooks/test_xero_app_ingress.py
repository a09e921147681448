"""`POST /webhooks/xero` over the real app, database and Redis: Xero's intent-to-receive answered from the signature
alone, every delivery taken answered 200 with no body, each event stored only for the connections of its
organisation, redeliveries deduplicated, and the news read into an import or a payments run by the real handler."""

import time
import uuid
from collections.abc import AsyncIterator
from typing import Any, NoReturn

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from core.crypto import CredentialVault
from core.db import Database
from core.models import SyncRun
from core.settings import Settings
from sandbox.clock import SandboxClock
from sandbox.xero.state import XeroState
from sandbox.xero.webhooks import XeroWebhookDispatcher
from sync.queue import Queue
from sync.webhook_events import process_webhook_event
from tests.conftest import TenantFixture
from tests.webhooks.app_support import events_of, put_away, tidy
from tests.webhooks.xero_support import (
    PATH,
    SYSTEM,
    WEBHOOK_KEY,
    batch,
    encode,
    event,
    organisation,
    signed,
    xero_connection,
    xero_ingress,
)

__all__ = ["tidy", "xero_ingress"]  # fixtures, imported so pytest finds them

pytestmark = pytest.mark.usefixtures("xero_ingress", "tidy")

INTENT_TO_RECEIVE_SECONDS = 5.0


def _is_problem(response: httpx.Response, status: int, kind: str | None = None) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    if kind is not None:
        assert response.json()["type"].endswith(kind), response.json()


def _taken(response: httpx.Response) -> None:
    """As Xero demands of every answer: 200, no body, no cookies."""
    assert response.status_code == 200, response.text
    assert response.content == b""
    assert "set-cookie" not in response.headers


async def _post(client: httpx.AsyncClient, payload: object, *, key: str = WEBHOOK_KEY) -> httpx.Response:
    body = encode(payload)
    return await client.post(PATH, content=body, headers=signed(body, key))


def _no_database(*args: object, **kwargs: object) -> NoReturn:
    raise AssertionError("a handshake touched the database")


@pytest.mark.parametrize("events", [[], None])
async def test_intent_to_receive_signed_is_answered_200_empty_at_once_without_the_database(
    app: FastAPI, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, events: list[Any] | None
) -> None:
    monkeypatch.setattr(app.state.webhook_ingress.pool, "connection", _no_database)
    payload = {"events": events, "firstEventSequence": 0, "lastEventSequence": 0, "entropy": "S0m3r4Nd0mt3xt"}
    started = time.monotonic()
    response = await _post(client, payload)
    _taken(response)
    assert time.monotonic() - started < INTENT_TO_RECEIVE_SECONDS


async def test_intent_to_receive_mis_signed_is_401_as_any_forgery(
    app: FastAPI, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(app.state.webhook_ingress.pool, "connection", _no_database)
    body = encode(batch([]))
    _is_problem(await client.post(PATH, content=body, headers=signed(body, "not the app's key")), 401)
    _is_problem(await client.post(PATH, content=body, headers={"content-type": "application/json"}), 401)
    _is_problem(await client.post(PATH, content=body + b" ", headers=signed(body)), 401)


async def test_a_batch_of_two_organisations_is_stored_each_for_its_own_connection_only(
    client: httpx.AsyncClient, database: Database, tenant: TenantFixture, other_tenant: TenantFixture
) -> None:
    mine, theirs, nobodys = organisation(), organisation(), organisation()
    connection = await xero_connection(database, tenant.id, mine)
    other = await xero_connection(database, other_tenant.id, theirs)
    bill, contact = event(mine, "INVOICE", "UPDATE"), event(theirs, "CONTACT", "CREATE")
    _taken(await _post(client, batch([bill, contact, event(nobodys, "INVOICE", "UPDATE")])))

    [stored] = await events_of(database, tenant.id, connection)
    [their_stored] = await events_of(database, other_tenant.id, other)
    assert (stored.provider, stored.event_type, stored.payload) == (SYSTEM, "INVOICE.UPDATE", {"events": [bill]})
    assert (their_stored.event_type, their_stored.payload) == ("CONTACT.CREATE", {"events": [contact]})
    assert theirs not in str(stored.payload) and mine not in str(their_stored.payload)
    # Neither tenant's session sees the other's event (row-level security, not only the query).
    assert await events_of(database, tenant.id, other) == []


async def test_redeliveries_deduplicate_even_regrouped_with_new_entropy(
    client: httpx.AsyncClient, database: Database, tenant: TenantFixture
) -> None:
    mine = organisation()
    connection = await xero_connection(database, tenant.id, mine)
    first, second = event(mine, "INVOICE", "UPDATE"), event(mine, "CONTACT", "UPDATE")
    payload = batch([first, second])
    _taken(await _post(client, payload))
    _taken(await _post(client, payload))
    _taken(await _post(client, batch([second], entropy="ANOTHER")))
    _taken(await _post(client, batch([first, second], entropy="ATHIRD")))
    stored = await events_of(database, tenant.id, connection)
    assert len(stored) == 2
    assert len({row.event_id for row in stored}) == 2
    later = event(mine, "INVOICE", "UPDATE", first["resourceId"]) | {"eventDateUtc": "2026-12-06T11:00:00.000"}
    _taken(await _post(client, batch([later])))
    assert len(await events_of(database, tenant.id, connection)) == 3, "a later change of the same bill is news"


async def test_wrong_media_type_malformed_unreadable_and_oversize_bodies(
    client: httpx.AsyncClient, database: Database, tenant: TenantFixture
) -> None:
    mine = organisation()
    connection = await xero_connection(database, tenant.id, mine)
    body = encode(batch([event(mine, "INVOICE", "UPDATE")]))
    _is_problem(await client.post(PATH, content=body, headers={**signed(body), "content-type": "text/plain"}), 415)
    for broken in (b'{"events": ', b"\xff\xfe", b"NaN", b'"text"'):
        _is_problem(await client.post(PATH, content=broken, headers=signed(broken)), 400)
    for unreadable in ({"something": "else"}, [1, 2], {"events": "no"}, {"events": ["not an object"]}):
        _is_problem(await _post(client, unreadable), 400, "malformed-payload")
    huge = encode(batch([event(mine, "INVOICE", "UPDATE", "x" * (1024 * 1024))]))
    _is_problem(await client.post(PATH, content=huge, headers=signed(huge)), 413)
    assert await events_of(database, tenant.id, connection) == []


@pytest.fixture
async def ctx(database: Database, settings: Settings) -> AsyncIterator[dict[str, Any]]:
    queue = await Queue.connect(settings.redis_url, settings.queue_name)
    yield {
        "database": database,
        "queue": queue,
        "settings": settings,
        "vault": CredentialVault(settings.vault_key_list()),
        "worker_id": f"test:{uuid.uuid4().hex[:6]}",
    }
    await queue.close()
    await put_away(database)


async def _runs(database: Database, tenant_id: uuid.UUID, connection_id: uuid.UUID) -> list[SyncRun]:
    async with database.tenant_session(tenant_id) as session:
        return list(await session.scalars(select(SyncRun).where(SyncRun.connection_id == connection_id)))


@pytest.mark.parametrize(
    ("events", "kinds"),
    [
        ([("INVOICE", "UPDATE")], ["payments"]),
        ([("CONTACT", "CREATE")], ["import"]),
        ([("CONTACT", "UPDATE"), ("INVOICE", "UPDATE"), ("CONTACT", "CREATE")], ["import", "payments"]),
        ([("INVOICE", "CREATE"), ("CREDITNOTE", "UPDATE")], []),
    ],
)
async def test_handling_an_invoice_update_requests_a_payments_run_and_a_contact_an_import(
    client: httpx.AsyncClient,
    database: Database,
    tenant: TenantFixture,
    ctx: dict[str, Any],
    events: list[tuple[str, str]],
    kinds: list[str],
) -> None:
    mine = organisation()
    connection = await xero_connection(database, tenant.id, mine)
    _taken(await _post(client, batch([event(mine, category, kind) for category, kind in events])))
    stored = await events_of(database, tenant.id, connection)
    assert len(stored) == len(events)
    for row in stored:
        assert await process_webhook_event(ctx, str(tenant.id), str(row.id)) == "processed"
    runs = await _runs(database, tenant.id, connection)
    assert sorted(run.kind for run in runs) == kinds, "one run per kind, the later events joined"
    assert {run.trigger for run in runs} <= {"webhook"}


async def test_the_simulators_intent_to_receive_passes_and_its_batches_are_stored(
    app: FastAPI, database: Database, tenant: TenantFixture
) -> None:
    mine = organisation()
    connection = await xero_connection(database, tenant.id, mine)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    dispatcher = XeroWebhookDispatcher(clock=SandboxClock(), transport=transport)
    dispatcher.configure(url=f"http://ledgerline.test{PATH}", key=WEBHOOK_KEY, batch_seconds=60)

    report = await dispatcher.intent_to_receive()
    assert report.passed, report.as_dict()
    assert [(check.status_code, check.body_empty) for check in report.checks] == [(200, True), (401, False)]

    dispatcher.publish(mine, "INVOICE", "UPDATE", str(uuid.uuid4()))
    dispatcher.publish(mine, "CONTACT", "CREATE", str(uuid.uuid4()))
    [delivery] = await dispatcher.flush()
    assert (delivery.delivered, delivery.status_code, delivery.events) == (True, 200, 2)
    stored = await events_of(database, tenant.id, connection)
    assert sorted(row.event_type or "" for row in stored) == ["CONTACT.CREATE", "INVOICE.UPDATE"]


async def test_the_simulators_check_fails_when_ledgerline_has_another_key(app: FastAPI) -> None:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    dispatcher = XeroWebhookDispatcher(clock=SandboxClock(), transport=transport)
    dispatcher.configure(url=f"http://ledgerline.test{PATH}", key="a key Ledgerline was never given")
    report = await dispatcher.intent_to_receive()
    assert not report.passed and [check.status_code for check in report.checks] == [401, 401]


async def test_a_person_cannot_set_the_organisation_a_connection_receives_news_for(
    client: httpx.AsyncClient, database: Database, tenant: TenantFixture
) -> None:
    theirs = organisation()
    created = await client.post(
        "/v1/connections",
        json={"name": "xero-hostile", "provider": SYSTEM, "role": "destination", "settings": {"tenant_id": theirs}},
        headers=tenant.headers,
    )
    assert created.status_code == 422, created.text
    assert "tenant_id" in created.json()["detail"]
    mine = organisation()
    connection = await xero_connection(database, tenant.id, mine)
    repointed = await client.patch(
        f"/v1/connections/{connection}", json={"settings": {"tenant_id": theirs}}, headers=tenant.headers
    )
    assert repointed.status_code == 422, repointed.text
    assert "tenant_id" in repointed.json()["detail"]
    read = await client.get(f"/v1/connections/{connection}", headers=tenant.headers)
    assert read.json()["settings"]["tenant_id"] == mine


async def test_a_change_in_the_xero_simulators_books_reaches_that_organisations_connection_only(
    app: FastAPI, database: Database, tenant: TenantFixture, other_tenant: TenantFixture
) -> None:
    simulator = XeroState(clock=SandboxClock(), seed=7)
    first, second = list(simulator.orgs)[:2]
    connection = await xero_connection(database, tenant.id, first)
    other = await xero_connection(database, other_tenant.id, second)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    simulator.dispatcher.transport = transport
    simulator.dispatcher.configure(url=f"http://ledgerline.test{PATH}", key=WEBHOOK_KEY, batch_seconds=60)
    assert (await simulator.dispatcher.intent_to_receive()).passed

    contact = simulator.orgs[first].put("Contacts", {"Name": f"Hooked {uuid.uuid4().hex[:6]}"}, created=True)
    [delivery] = await simulator.dispatcher.flush()
    assert (delivery.tenant_id, delivery.status_code) == (first, 200)
    [stored] = await events_of(database, tenant.id, connection)
    assert stored.event_type == "CONTACT.CREATE" and contact["ContactID"] in str(stored.payload)
    assert await events_of(database, other_tenant.id, other) == []
