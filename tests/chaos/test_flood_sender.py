"""The flood's senders against a small ingress that refuses its first deliveries with 429: the refused ones are
re-signed and retried until accepted, the offered rate is what was written, and separate processes add up."""

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

from standardwebhooks.webhooks import Webhook

from chaos.flood_sender import Job, Outcome, Sender, prepare, run
from chaos.scenario import Options
from chaos.scenarios.webhook_flood import flood, plan, shares
from sync.webhook_secrets import new_secret

PATH = "/webhooks/fyle/key"


@dataclass
class Ingress:
    """Answers 429 (Retry-After 0) to its first `refuse` deliveries, 202 afterwards; rejects a bad signature."""

    secret: str
    refuse: int
    delay: float = 0.0
    """Seconds each answer takes, one request after another on a connection, as a server slowed by a flood."""
    answered: int = 0
    accepted: list[str] = field(default_factory=list)
    bad_signatures: int = 0

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                headers = dict(
                    (name.strip().lower(), value.strip())
                    for name, _, value in (line.decode().partition(":") for line in head.split(b"\r\n")[1:] if line)
                )
                body = await reader.readexactly(int(headers["content-length"]))
                await asyncio.sleep(self.delay)
                writer.write(self.answer(headers, body))
                await writer.drain()
        except asyncio.IncompleteReadError:
            writer.close()

    def answer(self, headers: dict[str, str], body: bytes) -> bytes:
        self.answered += 1
        try:
            Webhook(self.secret).verify(body, headers)
        except Exception:  # the reference verifier raises its own error for a bad or stale signature
            self.bad_signatures += 1
            return b"HTTP/1.1 401 Unauthorized\r\ncontent-length: 0\r\n\r\n"
        if self.answered <= self.refuse:
            return b"HTTP/1.1 429 Too Many Requests\r\nretry-after: 0\r\ncontent-length: 0\r\n\r\n"
        self.accepted.append(headers["webhook-id"])
        return b"HTTP/1.1 202 Accepted\r\ncontent-length: 2\r\n\r\n{}"


@asynccontextmanager
async def listening(ingress: Ingress) -> AsyncIterator[int]:
    server = await asyncio.start_server(ingress.serve, "127.0.0.1", 0)
    async with server:
        yield server.sockets[0].getsockname()[1]


def job(port: int, secret: str, deliveries: list[tuple[str, str]], rate: float, links: int = 8) -> Job:
    return Job(
        port=port,
        path=PATH,
        secret=secret,
        deliveries=deliveries,
        rate=rate,
        retry_rate=rate,
        retry_deadline_seconds=30,
        links=links,
        warm_links=min(2, links),
        timeout_seconds=5,
    )


async def test_refused_deliveries_are_retried_until_accepted() -> None:
    secret = new_secret(now=datetime.now(UTC)).secret
    deliveries = plan(["rp1", "rp2", "rp3"], 40)
    ingress = Ingress(secret, refuse=25)
    async with listening(ingress) as port:
        sending = job(port, secret, deliveries, rate=400)
        sender = Sender(sending, Outcome())
        await sender.warm()
        outcome = await run(sending, prepare(sending), time.time(), sender)
        await sender.close()
    unique = {event_id for event_id, _ in deliveries}
    assert outcome.sent == len(deliveries)
    assert outcome.statuses[429] == 25
    assert outcome.retry_rounds >= 1
    assert outcome.acknowledged == unique
    assert outcome.refused == set()
    assert ingress.bad_signatures == 0
    assert set(ingress.accepted) == unique


async def test_sender_processes_share_the_flood_and_their_rate_adds_up() -> None:
    secret = new_secret(now=datetime.now(UTC)).secret
    deliveries = plan([f"rp{index}" for index in range(10)], 300)
    assert sum(len(share) for share in shares(deliveries, 3)) == len(deliveries)
    ingress = Ingress(secret, refuse=100)
    async with listening(ingress) as port:
        sent = await flood(port, PATH, secret, deliveries, Options(flood_rate=600, flood_senders=3))
    assert sent["sent"] == len(deliveries)
    assert sent["statuses"][429] == 100
    assert sent["acknowledged"] == {event_id for event_id, _ in deliveries}
    assert sent["refused"] == set()
    assert 300 < sent["offered_per_second"] < 900  # 300 deliveries scheduled over half a second


async def test_a_slow_server_does_not_set_the_pace_of_the_flood() -> None:
    """Two links to a server answering in 50 ms each: one request in flight per link offered at most 40/s. Pipelined,
    the deliveries are written at their moments (400/s) and every one is still answered, in order."""
    secret = new_secret(now=datetime.now(UTC)).secret
    deliveries = plan(["rp1", "rp2"], 100)
    ingress = Ingress(secret, refuse=0, delay=0.05)
    async with listening(ingress) as port:
        sending = job(port, secret, deliveries, rate=400, links=2)
        sender = Sender(sending, Outcome())
        await sender.warm()
        outcome = await run(sending, prepare(sending), time.time(), sender)
        await sender.close()
    offered = outcome.sent / (outcome.last_sent_at - outcome.started_at)
    assert outcome.sent == len(deliveries) and outcome.links_opened == 2
    assert offered > 300, f"offered {offered:.0f}/s to a slow server"
    assert outcome.statuses[202] == len(deliveries)
    assert outcome.acknowledged == {event_id for event_id, _ in deliveries}
