"""Webhook flood: Fyle "report approved" deliveries at ten times the rate the ingress is built for, signed with the
reference `standardwebhooks` package, a tenth of them re-deliveries of an id already sent, into a real
`ledgerline serve` process; the tenant exports in real time, so the flood itself is what drives the export.

A sender is owed one thing: a delivery answered 2xx is never lost. Refusals (429 with Retry-After, no answer) are
the sender's to retry, and are retried here as a Standard Webhooks sender would, after the flood. Lost = answered
2xx, but not in `webhook_events` as processed once the dust has settled.
"""

import asyncio
import json
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx
from sqlalchemy import func, select
from standardwebhooks.webhooks import Webhook

from bench.e2e_setup import fyle_grant, fyle_listing
from chaos.constants import (
    DELIVERY_TIMEOUT_SECONDS,
    EXPENSES,
    FLOOD_CONNECTIONS,
    FLOOD_FACTOR,
    FLOOD_RETRY_ROUNDS,
    FLOOD_SECONDS,
    NORMAL_WEBHOOK_RATE,
    POLL_SECONDS,
    RECOVERY_DEADLINE_SECONDS,
    REDELIVERY_EVERY,
    SERVER_START_SECONDS,
    STOP_SECONDS,
    WORKERS,
)
from chaos.counting import lost_webhooks
from chaos.scenario import Injected, Options, Scenario
from chaos.world import LEDGERLINE_CLI, Recovery, World
from core.crypto import CredentialVault
from core.models import Connection, WebhookEvent, WebhookState
from sandbox.server import free_port
from webhooks.handlers import REALTIME_EXPORT_SETTING
from webhooks.secrets import new_secret, seal

FLOOD_RATE = NORMAL_WEBHOOK_RATE * FLOOD_FACTOR
NO_ANSWER = 0


@dataclass(frozen=True)
class Delivery:
    event_id: str
    request: bytes


@dataclass
class Ledger:
    """What the sender was told, per delivery id."""

    acknowledged: set[str] = field(default_factory=set)
    refused: list[Delivery] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    retry_after: int = 0

    def note(self, delivery: Delivery, status: int, retry_after: int) -> None:
        self.statuses[status] = self.statuses.get(status, 0) + 1
        if 200 <= status < 300:
            self.acknowledged.add(delivery.event_id)
        else:
            self.refused.append(delivery)
            self.retry_after = max(self.retry_after, retry_after)


def deliveries(path: str, secret: str, reports: list[str], count: int) -> list[Delivery]:
    """`count` signed deliveries, each report approved in turn; every REDELIVERY_EVERY-th repeats an earlier id."""
    signer = Webhook(secret)
    moment = datetime.now(UTC)
    stamp = str(int(moment.timestamp()))
    made: list[Delivery] = []
    for index in range(count):
        if index and index % REDELIVERY_EVERY == 0:
            made.append(made[index // 2])
            continue
        event_id = f"msg_chaos_{index}_{uuid.uuid4().hex[:8]}"
        report = reports[index % len(reports)]
        body = json.dumps(
            {"resource": "REPORT", "action": "ADMIN_APPROVED", "data": {"id": report, "state": "APPROVED"}}
        )
        head = (
            f"POST {path} HTTP/1.1\r\nhost: chaos\r\ncontent-type: application/json\r\n"
            f"content-length: {len(body)}\r\nwebhook-id: {event_id}\r\nwebhook-timestamp: {stamp}\r\n"
            f"webhook-signature: {signer.sign(event_id, moment, body)}\r\n\r\n"
        )
        made.append(Delivery(event_id, head.encode() + body.encode()))
    return made


async def _exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> tuple[int, int, bool]:
    """Status, Retry-After and whether the server keeps the connection, from one request on a keep-alive link."""
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    status, length, retry_after, keep = int(head[9:12]), 0, 0, True
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        key = name.strip().lower()
        if key == b"content-length":
            length = int(value)
        elif key == b"retry-after":
            retry_after = int(value)
        elif key == b"connection" and value.strip().lower() == b"close":
            keep = False
    if length:
        await reader.readexactly(length)
    return status, retry_after, keep


async def send(port: int, batch: list[Delivery], rate: float, ledger: Ledger) -> float:
    """Send `batch` at most at `rate` per second on FLOOD_CONNECTIONS keep-alive links; returns the seconds taken."""
    started = time.monotonic()
    cursor = iter(enumerate(batch))

    async def link() -> None:
        connection: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        for index, delivery in cursor:
            await asyncio.sleep(max(0.0, started + index / rate - time.monotonic()))
            try:
                if connection is None:
                    connection = await asyncio.open_connection("127.0.0.1", port)
                status, retry_after, keep = await asyncio.wait_for(
                    _exchange(*connection, delivery.request), DELIVERY_TIMEOUT_SECONDS
                )
            except (OSError, asyncio.IncompleteReadError, TimeoutError):
                status, retry_after, keep = NO_ANSWER, 1, False
            ledger.note(delivery, status, retry_after)
            if not keep and connection is not None:
                connection[1].close()
                connection = None
        if connection is not None:
            connection[1].close()

    await asyncio.gather(*(link() for _ in range(FLOOD_CONNECTIONS)))
    return time.monotonic() - started


async def _subscribe(world: World) -> tuple[str, str]:
    """A webhook secret for the tenant's Fyle connection (sealed as the API does); its path and secret."""
    secret = new_secret(now=datetime.now(UTC))
    vault = CredentialVault(world.settings.vault_key_list())
    async with world.database.tenant_session(world.tenant.tenant_id) as session:
        source = await session.get(Connection, world.tenant.source_id)
        assert source is not None
        source.webhook_secrets = seal(vault, [secret])
        path = f"/webhooks/fyle/{source.webhook_key}"
    return path, secret.secret


def _serve(world: World, port: int) -> subprocess.Popen[bytes]:
    log = (world.logs / f"{world.name}-serve.log").open("ab")
    command = [LEDGERLINE_CLI, "serve", "--host", "127.0.0.1", "--port", str(port)]
    return subprocess.Popen(command, env=world.env, stdout=log, stderr=log)


async def _wait_for_server(url: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + SERVER_START_SECONDS
    async with httpx.AsyncClient(timeout=1) as client:
        while True:
            try:
                if (await client.get(f"{url}/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError("ledgerline serve did not start")
            await asyncio.sleep(POLL_SECONDS)


async def _unprocessed(world: World) -> int:
    async with world.database.tenant_session(world.tenant.tenant_id) as session:
        waiting = select(func.count()).where(WebhookEvent.state == WebhookState.RECEIVED.value)
        return int(await session.scalar(waiting) or 0)


async def act(world: World, options: Options) -> Injected:
    tokens, _ = fyle_grant(world.sandbox_url)
    expenses = fyle_listing(world.sandbox_url, tokens["access_token"], "expenses")
    reports = sorted({row["report_id"] for row in expenses if row.get("report_id") and row["state"] == "APPROVED"})
    path, secret = await _subscribe(world)
    flood = deliveries(path, secret, reports, int(FLOOD_RATE * FLOOD_SECONDS))
    port = free_port()
    server = _serve(world, port)
    ledger = Ledger()
    try:
        await _wait_for_server(f"http://127.0.0.1:{port}", server)
        await world.start_workers(WORKERS)
        seconds = await send(port, flood, FLOOD_RATE, ledger)
        fault_end = time.monotonic()
        refused_in_flood = len(ledger.refused)
        rounds = 0
        while ledger.refused and rounds < FLOOD_RETRY_ROUNDS:
            await asyncio.sleep(ledger.retry_after)
            retry, ledger.refused, ledger.retry_after = ledger.refused, [], 0
            await send(port, retry, NORMAL_WEBHOOK_RATE, ledger)
            rounds += 1
        recovery = await world.recover(fault_end)
        while True:
            inbox_done = time.monotonic() - fault_end
            if not await _unprocessed(world) or inbox_done > RECOVERY_DEADLINE_SECONDS:
                break
            await asyncio.sleep(POLL_SECONDS)
        lost = await lost_webhooks(
            world.database,
            tenant_id=world.tenant.tenant_id,
            connection_id=world.tenant.source_id,
            acknowledged=ledger.acknowledged,
        )
    finally:
        server.terminate()
        server.wait(timeout=STOP_SECONDS)
    done = None if recovery.done_seconds is None else max(recovery.done_seconds, inbox_done)
    problems = []
    if ledger.refused:
        problems.append(f"{len(ledger.refused)} deliveries still refused after {rounds} retry rounds")
    details = {
        "deliveries": len(flood),
        "unique_ids": len({delivery.event_id for delivery in flood}),
        "offered_per_second": round(len(flood) / seconds, 1),
        "target_per_second": FLOOD_RATE,
        "refused_in_flood": refused_in_flood,
        "retry_rounds": rounds,
        "statuses": ledger.statuses,
        "acknowledged_ids": len(ledger.acknowledged),
    }
    return Injected(Recovery(recovery.resumed_seconds, done, recovery.progress), details, lost, problems)


SCENARIO = Scenario(
    name="webhook flood 10x",
    fault=f"{FLOOD_RATE:.0f}/s signed deliveries for {FLOOD_SECONDS:.1f} s ({FLOOD_FACTOR}x the normal rate)",
    act=act,
    expenses=EXPENSES,
    connection_settings={REALTIME_EXPORT_SETTING: True},
)
