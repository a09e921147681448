"""Webhook flood: Fyle "report approved" deliveries at ten times the rate the ingress is built for, signed with the
reference `standardwebhooks` package, a tenth of them re-deliveries of an id already sent, into a real
`ledgerline serve` process; the tenant exports in real time, so the flood itself is what drives the export.

The flood comes from several load processes (`chaos.flood_sender`), each sending its share at its scheduled moment;
the rate printed is the one really offered (requests written per second), next to the one aimed at. Over the
ingress's limit (1,000 per connection per second) the answer must be 429 with Retry-After: a flood never refused
has not shown backpressure, and fails. Refused deliveries are retried by their sender until accepted.

A sender is owed one thing: a delivery answered 2xx is never lost. Lost = answered 2xx, but not in
`webhook_events` as processed once the dust has settled.
"""

import asyncio
import json
import subprocess
import sys
import time
import uuid
from collections import Counter
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import func, select

from bench.e2e_setup import fyle_grant, fyle_listing
from chaos.constants import (
    DELIVERY_TIMEOUT_SECONDS,
    EXPENSES,
    FLOOD_FACTOR,
    FLOOD_SECONDS,
    INGRESS_LIMIT_ENV,
    NORMAL_WEBHOOK_RATE,
    POLL_SECONDS,
    RECOVERY_DEADLINE_SECONDS,
    REDELIVERY_EVERY,
    RETRY_DEADLINE_SECONDS,
    RETRY_RATE,
    SENDER_LINKS,
    SENDER_READY_SECONDS,
    SENDER_WARM_LINKS,
    SERVER_START_SECONDS,
    STOP_SECONDS,
    WORKERS,
)
from chaos.counting import lost_webhooks
from chaos.flood_sender import READY, Job
from chaos.scenario import Injected, Options, Scenario
from chaos.world import Recovery, World
from core.crypto import CredentialVault
from core.models import Connection, WebhookEvent, WebhookState
from sandbox.server import free_port
from sync.constants import REALTIME_EXPORT_SETTING
from sync.webhook_secrets import new_secret, seal
from webhooks.constants import RATE_LIMIT_REQUESTS

TOO_MANY_REQUESTS = 429
SHORTFALL = 0.9
"""An offered rate under this share of the target is noted under the table (the machine could not offer more)."""


def plan(reports: list[str], count: int) -> list[tuple[str, str]]:
    """`count` deliveries as (event id, report), each report approved in turn; every REDELIVERY_EVERY-th repeats an
    earlier one's id, as senders retrying do: acknowledged, stored once."""
    made: list[tuple[str, str]] = []
    for index in range(count):
        if index and index % REDELIVERY_EVERY == 0:
            made.append(made[index // 2])
        else:
            made.append((f"msg_chaos_{index}_{uuid.uuid4().hex[:8]}", reports[index % len(reports)]))
    return made


def shares(deliveries: list[tuple[str, str]], senders: int) -> list[list[tuple[str, str]]]:
    """Round robin, so every sender's share spans the whole flood (and a re-delivery often races its original)."""
    return [deliveries[index::senders] for index in range(senders)]


def combined(outcomes: list[dict[str, Any]]) -> dict[str, Any]:
    """The senders' outcomes as one: the offered rate is every request written, over the time from the shared start
    to the last write."""
    sent = sum(outcome["sent"] for outcome in outcomes)
    started = min(outcome["started_at"] for outcome in outcomes)
    ended = max(outcome["last_sent_at"] for outcome in outcomes)
    statuses: Counter[int] = Counter()
    retry_statuses: Counter[int] = Counter()
    for outcome in outcomes:
        statuses.update({int(status): count for status, count in outcome["statuses"].items()})
        retry_statuses.update({int(status): count for status, count in outcome["retry_statuses"].items()})
    acknowledged = set().union(*(outcome["acknowledged"] for outcome in outcomes))
    refused = set().union(*(outcome["refused"] for outcome in outcomes)) - acknowledged
    return {
        "sent": sent,
        "ended_at": ended,
        "offered_per_second": round(sent / (ended - started), 1) if ended > started else 0.0,
        "late": sum(outcome["late"] for outcome in outcomes),
        "links_opened": sum(outcome["links_opened"] for outcome in outcomes),
        "statuses": dict(sorted(statuses.items())),
        "retried": sum(outcome["retried"] for outcome in outcomes),
        "retry_rounds": max(outcome["retry_rounds"] for outcome in outcomes),
        "retry_statuses": dict(sorted(retry_statuses.items())),
        "acknowledged": acknowledged,
        "refused": refused,
    }


async def flood(
    port: int, path: str, secret: str, deliveries: list[tuple[str, str]], options: Options
) -> dict[str, Any]:
    """Every sender process ready (requests signed, links open), then all start together; their combined outcome."""
    processes = [
        await asyncio.create_subprocess_exec(
            sys.executable, "-m", "chaos.flood_sender", stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE
        )
        for _ in range(options.flood_senders)
    ]
    try:
        for process, share in zip(processes, shares(deliveries, options.flood_senders), strict=True):
            job = Job(
                port=port,
                path=path,
                secret=secret,
                deliveries=share,
                rate=options.flood_rate / options.flood_senders,
                retry_rate=RETRY_RATE / options.flood_senders,
                retry_deadline_seconds=RETRY_DEADLINE_SECONDS,
                links=SENDER_LINKS,
                warm_links=SENDER_WARM_LINKS,
                timeout_seconds=DELIVERY_TIMEOUT_SECONDS,
            )
            assert process.stdin is not None and process.stdout is not None
            process.stdin.write(json.dumps(asdict(job)).encode() + b"\n")
            await process.stdin.drain()
        for process in processes:
            assert process.stdout is not None
            line = await asyncio.wait_for(process.stdout.readline(), SENDER_READY_SECONDS)
            if line.decode().strip() != READY:
                raise RuntimeError(f"a flood sender did not get ready: {line!r}")
        start_at = time.time() + POLL_SECONDS
        for process in processes:
            assert process.stdin is not None
            process.stdin.write(json.dumps({"start_at": start_at}).encode() + b"\n")
            await process.stdin.drain()
            process.stdin.close()
        outcomes = []
        for process in processes:
            out, _ = await process.communicate()
            if process.returncode != 0:
                raise RuntimeError(f"a flood sender exited with {process.returncode}")
            outcomes.append(json.loads(out.decode().strip().splitlines()[-1]))
    finally:
        for process in processes:
            if process.returncode is None:
                process.kill()
                await process.wait()
    return combined(outcomes)


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


def _serve(world: World, port: int, options: Options) -> subprocess.Popen[bytes]:
    """The product app in `options.flood_servers` processes (`chaos.flood_app`), with the ingress limit asked for."""
    log = (world.logs / f"{world.name}-serve.log").open("ab")
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        "chaos.flood_app:create_flood_app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(options.flood_servers),
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    limit = {INGRESS_LIMIT_ENV: str(options.ingress_limit)} if options.ingress_limit else {}
    return subprocess.Popen(command, env=world.env | limit, stdout=log, stderr=log)


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
    deliveries = plan(reports, int(options.flood_rate * FLOOD_SECONDS))
    port = free_port()
    server = _serve(world, port, options)
    try:
        await _wait_for_server(f"http://127.0.0.1:{port}", server)
        await world.start_workers(WORKERS)
        sent = await flood(port, path, secret, deliveries, options)
        fault_end = time.monotonic() - (time.time() - sent["ended_at"])  # the flood's last write, on this clock
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
            acknowledged=sent["acknowledged"],
        )
    finally:
        server.terminate()
        server.wait(timeout=STOP_SECONDS)
    done = None if recovery.done_seconds is None else max(recovery.done_seconds, inbox_done)
    offered = sent["offered_per_second"]
    print(
        f"webhook flood: offered {offered:.0f} deliveries/s (target {options.flood_rate:.0f}/s, "
        f"{options.flood_senders} senders, {options.flood_servers} server processes, ingress limit "
        f"{options.ingress_limit or RATE_LIMIT_REQUESTS}/s); flood answers {sent['statuses']}",
        file=sys.stderr,
        flush=True,
    )
    problems, notes = [], []
    if not sent["statuses"].get(TOO_MANY_REQUESTS):
        problems.append(f"no delivery was refused with 429 at {offered:.0f}/s offered: no backpressure shown")
    if sent["refused"]:
        problems.append(
            f"{len(sent['refused'])} deliveries still refused after {RETRY_DEADLINE_SECONDS:.0f} s of retries"
        )
    if offered < SHORTFALL * options.flood_rate:
        notes.append(f"offered {offered:.0f}/s, short of the {options.flood_rate:.0f}/s target on this machine")
    details = {
        "deliveries": len(deliveries),
        "unique_ids": len({event_id for event_id, _ in deliveries}),
        "target_per_second": options.flood_rate,
        "senders": options.flood_senders,
        "server_processes": options.flood_servers,
        "ingress_limit_per_second": options.ingress_limit or RATE_LIMIT_REQUESTS,
        **{key: value for key, value in sent.items() if key not in ("acknowledged", "refused", "ended_at")},
        "acknowledged_ids": len(sent["acknowledged"]),
        "still_refused_ids": len(sent["refused"]),
    }
    return Injected(Recovery(recovery.resumed_seconds, done, recovery.progress), details, lost, problems, notes)


SCENARIO = Scenario(
    name="webhook flood 10x",
    fault=f"signed deliveries at {FLOOD_FACTOR}x the normal {NORMAL_WEBHOOK_RATE:.0f}/s (or --flood-rate) for "
    f"{FLOOD_SECONDS:.1f} s from several sender processes; refused ones retried until accepted",
    act=act,
    expenses=EXPENSES,
    connection_settings={REALTIME_EXPORT_SETTING: True},
)
