"""Under a flood of forged deliveries from the same loopback address, a sender that signs correctly keeps being
answered: the ingress served over real HTTP on 127.0.0.1, a bounded flood (count and time) of forgeries to made-up
and to the real key, and a signed sender alongside that must see at least 99 % of its deliveries stored."""

import asyncio
import statistics
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from sandbox.server import free_port
from tests.conftest import TenantFixture
from tests.webhooks.ingress_support import (
    deliver,
    encode,
    fyle_payload,
    ingress,
    signed_headers,
    webhook_target,
    with_limits,
)
from webhooks.constants import FAILURE_WINDOW_SECONDS, FAILURES_OVERALL, FAILURES_PER_ADDRESS
from webhooks.ingress import WebhookIngress

__all__ = ["ingress"]  # the fixture, imported so pytest finds it

FORGED_DELIVERIES = 3000
FLOOD_CONCURRENCY = 24
SIGNED_DELIVERIES = 200
TIME_LIMIT_SECONDS = 120.0
MIN_SIGNED_SUCCESS = 0.99
CLOSED = "connection closed"
"""A delivery whose connection the server closed under it: a keep-alive race on a loaded loop (the server drops an idle
connection just as the client reuses it). A forger losing a connection is no harm; a signed sender's counts against
its 99 %."""


async def _answer(send: Awaitable[httpx.Response]) -> int | str:
    try:
        return (await send).status_code
    except httpx.TransportError:
        return CLOSED


@pytest.fixture
async def served(app: FastAPI) -> AsyncIterator[str]:
    """The test's own app on a real loopback port, in this event loop (its lifespan already runs)."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", access_log=False, log_level="warning")
    )
    serving = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn reports its start only as a flag
        await asyncio.sleep(0.01)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await serving


async def test_a_signed_sender_keeps_99_percent_under_a_forged_flood_from_its_own_address(
    served: str, client: httpx.AsyncClient, tenant: TenantFixture, ingress: WebhookIngress
) -> None:
    with_limits(
        ingress,
        failures_per_address=FAILURES_PER_ADDRESS,
        failures_overall=FAILURES_OVERALL,
        failure_window_seconds=FAILURE_WINDOW_SECONDS,
    )
    target = await webhook_target(client, tenant)
    forged_statuses: Counter[int | str] = Counter()
    signed_statuses: Counter[int | str] = Counter()
    latencies: list[float] = []
    limits = httpx.Limits(max_connections=FLOOD_CONCURRENCY, max_keepalive_connections=FLOOD_CONCURRENCY)
    async with (
        httpx.AsyncClient(base_url=served, timeout=30, limits=limits) as flood,
        httpx.AsyncClient(base_url=served, timeout=30) as sender,
    ):
        assert (await deliver(sender, target)).status_code == 202  # an established sender
        remaining = iter(range(FORGED_DELIVERIES))
        body = encode(fyle_payload())

        async def forge() -> None:
            for turn in remaining:
                path = target.path if turn % 4 == 0 else f"/webhooks/fyle/{uuid.uuid4().hex}"
                headers = signed_headers("whsec_" + "A" * 43, body)
                forged_statuses[await _answer(flood.post(path, content=body, headers=headers))] += 1

        async def sign() -> None:
            for _ in range(SIGNED_DELIVERIES):
                started = time.perf_counter()
                signed_statuses[await _answer(deliver(sender, target))] += 1
                latencies.append(time.perf_counter() - started)

        started = time.perf_counter()
        async with asyncio.timeout(TIME_LIMIT_SECONDS):
            await asyncio.gather(sign(), *(forge() for _ in range(FLOOD_CONCURRENCY)))
        elapsed = time.perf_counter() - started

    success = signed_statuses[202] / SIGNED_DELIVERIES
    latencies.sort()
    print(
        f"\nflood: {FORGED_DELIVERIES} forged in {elapsed:.1f} s ({FORGED_DELIVERIES / elapsed:.0f}/s), "
        f"answers {dict(forged_statuses)}; signed: {dict(signed_statuses)}, success {success:.1%}, "
        f"latency p50 {statistics.median(latencies) * 1000:.1f} ms, "
        f"p99 {latencies[int(0.99 * len(latencies)) - 1] * 1000:.1f} ms"
    )
    assert sum(forged_statuses.values()) == FORGED_DELIVERIES
    assert set(forged_statuses) <= {401, 404, 429, CLOSED}, forged_statuses
    assert forged_statuses[429] > FORGED_DELIVERIES // 2, "the flood was not held back"
    assert success >= MIN_SIGNED_SUCCESS, signed_statuses
