"""Failed API-key and dashboard sign-ins are throttled per client address, in Redis, and still when Redis is down."""

import asyncio
import random
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from redis.asyncio import Redis

from core.settings import Settings
from ledgerline.app import create_app
from tests.conftest import TenantFixture
from tests.dashboard.conftest import sign_in

LIMIT = 3
PROXY = "10.9.0.1"


@pytest.fixture
async def strict_app(settings: Settings) -> AsyncIterator[FastAPI]:
    """Three failures per window; its own Redis namespace, so other tests' failures never count here."""
    configured = settings.model_copy(
        update={
            "sign_in_failure_limit": LIMIT,
            "queue_name": f"ledgerline:test-throttle:{uuid.uuid4().hex[:8]}",
            "trusted_proxies": [PROXY],
        }
    )
    app = create_app(configured)
    async with app.router.lifespan_context(app):
        yield app


def an_address() -> str:
    return f"203.0.113.{random.randint(1, 254)}"


def caller(app: FastAPI, address: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 40000), raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://ledgerline.test")


def wrong_key(tenant: TenantFixture) -> dict[str, str]:
    return {"Authorization": f"Bearer {tenant.key[:-4]}oops"}


async def test_an_address_that_keeps_failing_gets_429_with_retry_after(
    strict_app: FastAPI, tenant: TenantFixture
) -> None:
    guesser, bystander = an_address(), "198.51.100.20"
    async with caller(strict_app, guesser) as client:
        for _ in range(LIMIT):
            assert (await client.get("/v1/tenant", headers=wrong_key(tenant))).status_code == 401
        throttled = await client.get("/v1/tenant", headers=wrong_key(tenant))
        assert throttled.status_code == 429
        assert throttled.headers["content-type"] == "application/problem+json"
        assert 0 < int(throttled.headers["retry-after"]) <= 900
        assert "Try again in" in throttled.json()["detail"]
        assert tenant.key[:-4] not in throttled.text
        even_the_right_key = await client.get("/v1/tenant", headers=tenant.headers)
        assert even_the_right_key.status_code == 429, "a guesser must not learn which guess was right"
    async with caller(strict_app, bystander) as client:
        assert (await client.get("/v1/tenant", headers=tenant.headers)).status_code == 200


async def test_a_forged_forwarded_for_does_not_buy_a_new_budget(strict_app: FastAPI, tenant: TenantFixture) -> None:
    async with caller(strict_app, an_address()) as client:
        statuses = [
            (
                await client.get("/v1/tenant", headers={**wrong_key(tenant), "X-Forwarded-For": f"192.0.2.{attempt}"})
            ).status_code
            for attempt in range(LIMIT + 1)
        ]
    assert statuses == [401] * LIMIT + [429]


async def test_behind_a_configured_proxy_each_client_has_its_own_budget(
    strict_app: FastAPI, tenant: TenantFixture
) -> None:
    guesser, colleague = an_address(), "198.51.100.30"
    async with caller(strict_app, PROXY) as proxy:
        for _ in range(LIMIT + 1):
            last = await proxy.get("/v1/tenant", headers={**wrong_key(tenant), "X-Forwarded-For": guesser})
        assert last.status_code == 429
        served = await proxy.get("/v1/tenant", headers={**tenant.headers, "X-Forwarded-For": colleague})
        assert served.status_code == 200


async def test_the_throttle_still_holds_when_redis_is_down(strict_app: FastAPI, tenant: TenantFixture) -> None:
    strict_app.state.sign_in_throttle.redis = Redis.from_url("redis://127.0.0.1:1", socket_connect_timeout=0.2)
    async with caller(strict_app, an_address()) as client:
        statuses = [(await client.get("/v1/tenant", headers=wrong_key(tenant))).status_code for _ in range(LIMIT + 1)]
    assert statuses == [401] * LIMIT + [429]


async def test_dashboard_sign_in_failures_share_the_budget(strict_app: FastAPI, tenant: TenantFixture) -> None:
    async with caller(strict_app, an_address()) as client:
        assert (await client.get("/v1/tenant", headers=wrong_key(tenant))).status_code == 401
        for _ in range(LIMIT - 1):
            assert (await sign_in(client, "ll_nope_nothing")).status_code == 401
        throttled = await sign_in(client, tenant.key)
    assert throttled.status_code == 429
    assert int(throttled.headers["retry-after"]) > 0
    assert "Too many failed sign-ins" in throttled.text
    assert "ll_dashboard=" not in "".join(throttled.headers.get_list("set-cookie"))


async def test_guesses_sent_all_at_once_get_no_more_than_the_budget(strict_app: FastAPI, tenant: TenantFixture) -> None:
    """Checking the budget and counting a failure are separate steps: guesses in flight together must not all pass the
    check before the first failure is counted."""
    async with caller(strict_app, an_address()) as client:
        answers = await asyncio.gather(*(client.get("/v1/tenant", headers=wrong_key(tenant)) for _ in range(30)))
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses.count(401) <= LIMIT
    assert statuses.count(429) >= 30 - LIMIT


async def test_an_ipv6_guesser_does_not_get_a_budget_per_address_of_its_network(
    strict_app: FastAPI, tenant: TenantFixture
) -> None:
    """One IPv6 subscriber holds a whole /64: the budget belongs to the network, not to each of its addresses."""
    network = f"2001:db8:{random.randint(1, 0xFFFF):x}:{random.randint(1, 0xFFFF):x}"
    statuses = []
    for attempt in range(LIMIT + 1):
        async with caller(strict_app, f"{network}::{attempt + 1:x}") as client:
            statuses.append((await client.get("/v1/tenant", headers=wrong_key(tenant))).status_code)
    assert statuses == [401] * LIMIT + [429]
    async with caller(strict_app, "2001:db8:ffff:ffff::1") as neighbour:
        assert (await neighbour.get("/v1/tenant", headers=tenant.headers)).status_code == 200


async def test_an_idempotency_key_does_not_tell_a_throttled_guesser_which_guess_was_right(
    strict_app: FastAPI, tenant: TenantFixture
) -> None:
    """The Idempotency-Key layer looks the bearer key up before any route does: it must not do so past the budget, or
    a right key claims the idempotency key and the second try comes back `Idempotent-Replayed`."""
    body = {"name": f"guess-{uuid.uuid4().hex[:6]}", "provider": "fyle", "role": "source"}
    async with caller(strict_app, an_address()) as client:
        for _ in range(LIMIT):
            assert (await client.get("/v1/tenant", headers=wrong_key(tenant))).status_code == 401
        answers = {}
        for name, headers in (("right", tenant.headers), ("wrong", wrong_key(tenant))):
            key = {"Idempotency-Key": f"{name}-{uuid.uuid4().hex}"}
            answers[name] = [await client.post("/v1/connections", headers={**headers, **key}, json=body) for _ in "12"]
    for name, tries in answers.items():
        assert [answer.status_code for answer in tries] == [429, 429], name
        assert all("idempotent-replayed" not in answer.headers for answer in tries), name


async def test_a_proxy_network_written_with_host_bits_set_is_trusted_as_that_network(
    settings: Settings, tenant: TenantFixture
) -> None:
    """`10.9.0.7/24` passes the settings' check as a network; the proxy middleware, stricter, took it for a name that
    no address matches, so every client behind the proxy shared the proxy's one budget."""
    configured = Settings(
        env=settings.env,
        database_url=settings.database_url,
        redis_url=settings.redis_url,
        vault_keys=settings.vault_keys,
        session_secret=settings.session_secret,
        queue_name=f"ledgerline:test-throttle:{uuid.uuid4().hex[:8]}",
        sign_in_failure_limit=LIMIT,
        trusted_proxies="10.9.0.7/24",
    )
    app = create_app(configured)
    async with app.router.lifespan_context(app), caller(app, PROXY) as proxy:
        for _ in range(LIMIT + 1):
            await proxy.get("/v1/tenant", headers={**wrong_key(tenant), "X-Forwarded-For": an_address()})
        colleague = await proxy.get("/v1/tenant", headers={**tenant.headers, "X-Forwarded-For": "198.51.100.40"})
    assert colleague.status_code == 200
