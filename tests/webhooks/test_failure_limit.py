"""Webhook ingress authenticates before it works: the signature is checked over the raw bytes before the body is
parsed, failed deliveries are limited per source address and overall (never per the URL key a caller chooses), a
forger spends none of a connection's rate, and the limits hold when Redis does not answer."""

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import httpx
from fastapi import FastAPI
from redis.asyncio import Redis

from tests.conftest import TenantFixture
from tests.webhooks.ingress_support import (
    WebhookTarget,
    deliver,
    encode,
    fyle_payload,
    ingress,
    signed_headers,
    webhook_target,
    with_limits,
)
from webhooks.failure_limit import FailureGuard
from webhooks.ingress import WebhookIngress
from webhooks.rate_limit import FixedWindowLimiter

__all__ = ["ingress"]  # the fixture, imported so pytest finds it

WINDOW = 3600
UNREACHABLE_REDIS = "redis://127.0.0.1:1/0"
"""A port nothing listens on: connections are refused at once, as when Redis is down."""

From = Callable[[str], AbstractAsyncContextManager[httpx.AsyncClient]]


def _address() -> str:
    """A source address of this test's own, so counts of other tests (the window is shared) do not reach it."""
    return f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"


def _from(app: FastAPI) -> From:
    @asynccontextmanager
    async def client(address: str) -> AsyncIterator[httpx.AsyncClient]:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=(address, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://ledgerline.test") as made:
            yield made

    return client


async def _forge(client: httpx.AsyncClient, path: str | None = None, *, body: bytes | None = None) -> httpx.Response:
    """A delivery signed with a secret nobody issued, to `path` or to a made-up key."""
    body = body if body is not None else encode(fyle_payload())
    headers = signed_headers("whsec_" + "A" * 43, body)
    return await client.post(path or f"/webhooks/fyle/{uuid.uuid4().hex}", content=body, headers=headers)


def _is_problem(response: httpx.Response, status: int) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_a_body_is_not_parsed_before_its_signature_holds(
    client: httpx.AsyncClient, tenant: TenantFixture
) -> None:
    target = await webhook_target(client, tenant)
    _is_problem(await _forge(client, target.path, body=b"{not json"), 401)
    signed = await client.post(target.path, content=b"{not json", headers=signed_headers(target.secret, b"{not json"))
    _is_problem(signed, 400)


async def test_failed_deliveries_are_limited_per_source_address_whatever_key_they_name(
    app: FastAPI, tenant: TenantFixture, client: httpx.AsyncClient, ingress: WebhookIngress
) -> None:
    with_limits(ingress, failures_per_address=5, failures_overall=10**6, failure_window_seconds=WINDOW)
    target = await webhook_target(client, tenant)
    forger, bystander = _address(), _address()
    async with _from(app)(forger) as forged, _from(app)(bystander) as other:
        for _ in range(5):
            _is_problem(await _forge(forged), 404)  # a fresh made-up key each time
        refused = await _forge(forged)
        _is_problem(refused, 429)
        assert 1 <= int(refused.headers["retry-after"]) <= WINDOW
        _is_problem(await _forge(forged, target.path), 429)
        # Another address is answered as before.
        _is_problem(await _forge(other), 404)


async def test_an_ipv6_forger_counts_as_its_64_whichever_of_its_addresses_it_sends_from(
    app: FastAPI, tenant: TenantFixture, client: httpx.AsyncClient, ingress: WebhookIngress
) -> None:
    """A subscriber holds a whole /64 and may take a new address per request: before, each one had a fresh budget."""
    with_limits(ingress, failures_per_address=4, failures_overall=10**6, failure_window_seconds=WINDOW)
    network = f"2001:db8:{uuid.uuid4().int % 0xFFFF:x}:{uuid.uuid4().int % 0xFFFF:x}"
    for host in range(1, 5):
        async with _from(app)(f"{network}::{host:x}") as forged:
            _is_problem(await _forge(forged), 404)
    async with _from(app)(f"{network}::beef") as forged:
        _is_problem(await _forge(forged), 429)
    async with _from(app)(f"2001:db8:ffff:{uuid.uuid4().int % 0xFFFF:x}::1") as neighbour:  # another /64
        _is_problem(await _forge(neighbour), 404)


async def test_a_blocked_address_still_gets_its_signed_deliveries_through(
    app: FastAPI, tenant: TenantFixture, client: httpx.AsyncClient, ingress: WebhookIngress
) -> None:
    with_limits(ingress, failures_per_address=3, failures_overall=10**6, failure_window_seconds=WINDOW)
    target = await webhook_target(client, tenant)
    shared = _address()  # a forger behind the same address as the real sender
    async with _from(app)(shared) as sender:
        assert (await deliver(sender, target)).status_code == 202
        for _ in range(3):
            _is_problem(await _forge(sender, target.path), 401)
        _is_problem(await _forge(sender), 429)
        for _ in range(3):
            assert (await deliver(sender, target)).status_code == 202


async def test_failures_from_every_address_together_are_limited_too(
    app: FastAPI, tenant: TenantFixture, client: httpx.AsyncClient, ingress: WebhookIngress
) -> None:
    with_limits(ingress, failures_per_address=100, failures_overall=6, failure_window_seconds=WINDOW)
    for address in [_address() for _ in range(3)]:
        async with _from(app)(address) as forged:
            for _ in range(2):
                await _forge(forged)
    async with _from(app)(_address()) as newcomer:
        _is_problem(await _forge(newcomer), 429)


async def test_forged_deliveries_to_a_known_key_spend_none_of_its_rate(
    app: FastAPI, tenant: TenantFixture, client: httpx.AsyncClient, ingress: WebhookIngress
) -> None:
    target: WebhookTarget = await webhook_target(client, tenant)
    with_limits(ingress, rate_limit_requests=3, rate_limit_window_seconds=WINDOW)
    async with _from(app)(_address()) as forged:
        for _ in range(5):
            _is_problem(await _forge(forged, target.path), 401)
    for _ in range(3):
        assert (await deliver(client, target)).status_code == 202
    _is_problem(await deliver(client, target), 429)


async def test_with_redis_down_the_rate_limit_falls_back_to_a_local_limit() -> None:
    dead = Redis.from_url(UNREACHABLE_REDIS, socket_connect_timeout=0.5)
    limiter = FixedWindowLimiter(dead)
    verdicts = [(await limiter.hit("connection", limit=3, window_seconds=WINDOW)).allowed for _ in range(5)]
    assert verdicts == [True, True, True, False, False]
    await dead.aclose()


async def test_with_redis_down_failures_are_still_counted_and_limited_locally() -> None:
    dead = Redis.from_url(UNREACHABLE_REDIS, socket_connect_timeout=0.5)
    guard = FailureGuard(dead)
    for _ in range(3):
        assert guard.refusal("192.0.2.1", window_seconds=WINDOW) is None
        await guard.record("192.0.2.1", per_address=3, overall=100, window_seconds=WINDOW)
    assert guard.refusal("192.0.2.1", window_seconds=WINDOW) is not None
    assert guard.refusal("192.0.2.2", window_seconds=WINDOW) is None
    await dead.aclose()
