"""`POST /webhooks/{provider}/{key}` over the real app, database and Redis, signed like a real sender."""

import time
import uuid

import httpx
from fastapi import FastAPI
from prometheus_client import REGISTRY
from sqlalchemy import func, select

from core.db import Database
from core.models import WebhookEvent
from tests.conftest import TenantFixture
from tests.webhooks.ingress_support import (
    ARQ_JOB_KEY,
    WebhookTarget,
    create_connection,
    deliver,
    encode,
    fyle_payload,
    signed_headers,
    webhook_target,
)
from webhooks.constants import PROCESS_JOB


async def _events(database: Database, target: WebhookTarget, owner: TenantFixture) -> list[WebhookEvent]:
    async with database.tenant_session(owner.id) as session:
        rows = await session.scalars(select(WebhookEvent).where(WebhookEvent.connection_id == target.connection_id))
        return list(rows)


def _is_problem(response: httpx.Response, status: int) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["detail"]


async def test_a_signed_delivery_is_stored_before_the_ack_and_enqueued_once(
    app: FastAPI, client: httpx.AsyncClient, database: Database, tenant: TenantFixture
) -> None:
    target = await webhook_target(client, tenant)
    response = await deliver(client, target, fyle_payload("rpA"), message_id="msg_once")
    assert response.status_code == 202, response.text
    [event] = await _events(database, target, tenant)
    assert (event.provider, event.event_id, event.event_type, event.state) == (
        "fyle",
        "msg_once",
        "REPORT.ADMIN_APPROVED",
        "received",
    )
    assert event.payload == fyle_payload("rpA")
    job_id = f"webhook:{event.id}"
    redis = app.state.queue.redis
    assert await redis.exists(ARQ_JOB_KEY.format(job_id=job_id))
    queued = await redis.zrange(app.state.queue.queue_name, 0, -1)
    assert queued.count(job_id.encode()) == 1
    # The job is the dispatcher's, by name, with the row's ids as strings.
    job = await redis.get(ARQ_JOB_KEY.format(job_id=job_id))
    assert PROCESS_JOB.encode() in job and str(tenant.id).encode() in job and str(event.id).encode() in job

    # A worker took the job: redeliveries must not ring again.
    await redis.delete(ARQ_JOB_KEY.format(job_id=job_id))
    await redis.zrem(app.state.queue.queue_name, job_id)
    for _ in range(2):
        again = await deliver(client, target, fyle_payload("rpA"), message_id="msg_once")
        assert again.status_code == 200, again.text
        assert again.json() == {"outcome": "duplicate"}
    assert len(await _events(database, target, tenant)) == 1
    assert not await redis.exists(ARQ_JOB_KEY.format(job_id=job_id))


async def test_a_generic_sender_stores_the_standard_type(
    client: httpx.AsyncClient, database: Database, tenant: TenantFixture
) -> None:
    target = await webhook_target(client, tenant, provider="generic")
    response = await deliver(client, target, {"type": "invoice.paid", "data": {"id": 1}})
    assert response.status_code == 202, response.text
    [event] = await _events(database, target, tenant)
    assert event.event_type == "invoice.paid"


async def test_tampered_body_wrong_secret_and_bad_clocks_are_401(
    client: httpx.AsyncClient, database: Database, tenant: TenantFixture
) -> None:
    target = await webhook_target(client, tenant)
    body = encode(fyle_payload())
    headers = signed_headers(target.secret, body)
    _is_problem(await client.post(target.path, content=body + b" ", headers=headers), 401)
    other_secret = (await webhook_target(client, tenant)).secret
    _is_problem(await deliver(client, target, secret=other_secret), 401)
    stale = await deliver(client, target, timestamp=time.time() - 6 * 60)
    _is_problem(stale, 401)
    assert stale.json()["type"].endswith("stale-timestamp")
    future = await deliver(client, target, timestamp=time.time() + 6 * 60)
    _is_problem(future, 401)
    assert future.json()["type"].endswith("future-timestamp")
    unsigned = await client.post(target.path, content=body, headers={"content-type": "application/json"})
    _is_problem(unsigned, 401)
    assert await _events(database, target, tenant) == []


async def test_unknown_keys_providers_and_mismatched_providers_are_404(
    client: httpx.AsyncClient, tenant: TenantFixture
) -> None:
    target = await webhook_target(client, tenant)
    key = target.path.rsplit("/", 1)[1]
    unknown = await deliver(
        client, WebhookTarget(target.connection_id, f"/webhooks/fyle/{uuid.uuid4().hex}", target.secret)
    )
    _is_problem(unknown, 404)
    mismatched = await deliver(client, WebhookTarget(target.connection_id, f"/webhooks/generic/{key}", target.secret))
    _is_problem(mismatched, 404)
    assert mismatched.json()["detail"] == unknown.json()["detail"].replace("fyle", "generic")
    _is_problem(
        await deliver(client, WebhookTarget(target.connection_id, f"/webhooks/stripe/{key}", target.secret)), 404
    )


async def test_a_connection_without_a_secret_refuses_with_advice(
    client: httpx.AsyncClient, tenant: TenantFixture
) -> None:
    connection_id = await create_connection(client, tenant)
    listed = await client.get(f"/v1/connections/{connection_id}/webhook-secrets", headers=tenant.headers)
    assert listed.status_code == 200 and listed.json()["items"] == []
    path = httpx.URL(listed.json()["webhook_url"]).path
    response = await deliver(client, WebhookTarget(connection_id, path, (await webhook_target(client, tenant)).secret))
    _is_problem(response, 401)
    assert "webhook-secrets" in response.json()["detail"]


async def test_wrong_media_type_malformed_json_and_oversize_bodies(
    client: httpx.AsyncClient, database: Database, tenant: TenantFixture
) -> None:
    target = await webhook_target(client, tenant)
    body = encode(fyle_payload())
    form = {**signed_headers(target.secret, body), "content-type": "application/x-www-form-urlencoded"}
    _is_problem(await client.post(target.path, content=body, headers=form), 415)
    missing = {key: value for key, value in signed_headers(target.secret, body).items() if key != "content-type"}
    _is_problem(await client.post(target.path, content=body, headers=missing), 415)
    for broken in (b'{"resource": ', b"\xff\xfe", b"NaN", b'"just a string"', b"[" * 100_000):
        _is_problem(await client.post(target.path, content=broken, headers=signed_headers(target.secret, broken)), 400)
    # JSON that Python accepts and PostgreSQL does not: still a 400, never a 500.
    nul = b'{"text": "a\\u0000b"}'
    _is_problem(await client.post(target.path, content=nul, headers=signed_headers(target.secret, nul)), 400)
    huge = encode({"padding": "x" * (1024 * 1024)})
    _is_problem(await client.post(target.path, content=huge, headers=signed_headers(target.secret, huge)), 413)
    charset = {**signed_headers(target.secret, body), "content-type": "application/json; charset=utf-8"}
    assert (await client.post(target.path, content=body, headers=charset)).status_code == 202
    assert len(await _events(database, target, tenant)) == 1


async def test_one_connection_stores_the_same_id_again_under_another_connection(
    client: httpx.AsyncClient, database: Database, tenant: TenantFixture
) -> None:
    first, second = await webhook_target(client, tenant), await webhook_target(client, tenant)
    assert (await deliver(client, first, message_id="msg_shared")).status_code == 202
    assert (await deliver(client, second, message_id="msg_shared")).status_code == 202
    async with database.tenant_session(tenant.id) as session:
        stored = await session.scalar(
            select(func.count()).select_from(WebhookEvent).where(WebhookEvent.event_id == "msg_shared")
        )
    assert stored == 2


def _counted(provider: str, outcome: str) -> float:
    return REGISTRY.get_sample_value("ledgerline_webhooks_total", {"provider": provider, "outcome": outcome}) or 0.0


async def test_every_delivery_is_counted_by_outcome_and_made_up_providers_share_one_label(
    client: httpx.AsyncClient, tenant: TenantFixture
) -> None:
    target = await webhook_target(client, tenant)
    key = target.path.rsplit("/", 1)[1]
    before = {outcome: _counted("fyle", outcome) for outcome in ("accepted", "duplicate", "unauthorized", "malformed")}
    unknown_before = _counted("unknown", "not_found")

    assert (await deliver(client, target, fyle_payload("rpM"), message_id="msg_counted")).status_code == 202
    assert (await deliver(client, target, fyle_payload("rpM"), message_id="msg_counted")).status_code == 200
    assert (await deliver(client, target, secret=(await webhook_target(client, tenant)).secret)).status_code == 401
    malformed = await client.post(target.path, content=b"{", headers=signed_headers(target.secret, b"{"))
    assert malformed.status_code == 400
    made_up = WebhookTarget(target.connection_id, f"/webhooks/made-up-{uuid.uuid4().hex}/{key}", target.secret)
    assert (await deliver(client, made_up)).status_code == 404

    assert {outcome: _counted("fyle", outcome) - count for outcome, count in before.items()} == {
        "accepted": 1,
        "duplicate": 1,
        "unauthorized": 1,
        "malformed": 1,
    }
    assert _counted("unknown", "not_found") == unknown_before + 1
