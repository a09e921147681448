"""The webhook benchmark's load generator, run as its own process: signed deliveries over raw HTTP/1.1 keep-alive.

Why not `bench.loadgen`: httpx costs more CPU per request than the servers under test, and on a two-core machine a
load generator that saturates first would squeeze every ratio towards 1. Here each request is built and signed
before the clock starts (the reference `standardwebhooks` package, a unique `webhook-id` each), sent as prepared
bytes on uvloop streams, and only the status line and Content-Length of the answer are parsed.

Two modes, figures as one JSON object on stdout:

- `closed`: `--concurrency` connections, each sending its next request as soon as the last is answered, for
  `--requests` requests (after a warm-up) → requests/s;
- `open`: `--rate` requests per second for `--seconds`, each sent at its scheduled moment on an idle connection
  (one is opened when none is idle); latency counts from the scheduled moment, so a stalled server is not hidden
  by the generator waiting for it (no coordinated omission).

    python -m bench.webhook_loadgen --url http://127.0.0.1:8000/webhooks/fyle/KEY --secret whsec_… --mode closed
"""

import argparse
import asyncio
import json
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit

import uvloop
from standardwebhooks.webhooks import Webhook

WARMUP_REQUESTS = 200
MAX_OPEN_CONNECTIONS = 512
ACCEPTED = 202


def prepare(host: str, path: str, secret: str, count: int, run: str) -> list[bytes]:
    """`count` complete requests, each a Fyle report callback with its own id, signed now."""
    signer = Webhook(secret)
    moment = datetime.now(UTC)
    stamp = str(int(moment.timestamp()))
    prepared = []
    for index in range(count):
        message_id = f"msg_{run}_{index}"
        body = json.dumps(
            {"resource": "REPORT", "action": "ADMIN_APPROVED", "reason": "bench", "data": {"id": f"rp{run}{index}"}}
        )
        head = (
            f"POST {path} HTTP/1.1\r\nhost: {host}\r\ncontent-type: application/json\r\n"
            f"content-length: {len(body)}\r\nwebhook-id: {message_id}\r\nwebhook-timestamp: {stamp}\r\n"
            f"webhook-signature: {signer.sign(message_id, moment, body)}\r\n\r\n"
        )
        prepared.append(head.encode() + body.encode())
    return prepared


class Link:
    """One keep-alive connection."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, host: str, port: int) -> "Link":
        reader, writer = await asyncio.open_connection(host, port)
        return cls(reader, writer)

    async def exchange(self, request: bytes) -> int:
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        if length:
            await self.reader.readexactly(length)
        return status

    def close(self) -> None:
        self.writer.close()


@dataclass
class Tally:
    latencies_ms: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    failures: int = 0
    """Requests that got no answer at all (connection refused or reset)."""

    def figures(self, seconds: float) -> dict[str, object]:
        ordered = sorted(self.latencies_ms)

        def at(fraction: float) -> float:
            return round(ordered[min(len(ordered) - 1, int(fraction * len(ordered)))], 3) if ordered else 0.0

        accepted = self.statuses.get(ACCEPTED, 0)
        return {
            "seconds": round(seconds, 3),
            "requests": len(self.latencies_ms) + self.failures,
            "accepted": accepted,
            "accepted_per_second": round(accepted / seconds, 1),
            "errors": sum(count for status, count in self.statuses.items() if status != ACCEPTED) + self.failures,
            "statuses": {str(status): count for status, count in sorted(self.statuses.items())},
            "p50_ms": at(0.50),
            "p90_ms": at(0.90),
            "p99_ms": at(0.99),
            "max_ms": round(ordered[-1], 3) if ordered else 0.0,
        }


async def closed_loop(host: str, port: int, requests: list[bytes], concurrency: int) -> dict[str, object]:
    links = [await Link.open(host, port) for _ in range(concurrency)]
    warmup, timed = requests[:WARMUP_REQUESTS], requests[WARMUP_REQUESTS:]
    for index, request in enumerate(warmup):
        await links[index % concurrency].exchange(request)
    tally = Tally()
    pending = iter(timed)

    async def client(link: Link) -> None:
        for request in pending:
            started = time.perf_counter()
            status = await link.exchange(request)
            tally.latencies_ms.append((time.perf_counter() - started) * 1000)
            tally.statuses[status] += 1

    started = time.perf_counter()
    await asyncio.gather(*(client(link) for link in links))
    seconds = time.perf_counter() - started
    for link in links:
        link.close()
    return tally.figures(seconds) | {"concurrency": concurrency}


async def open_loop(host: str, port: int, requests: list[bytes], rate: float) -> dict[str, object]:
    idle: list[Link] = [await Link.open(host, port) for _ in range(16)]
    opened = len(idle)
    tally = Tally()
    tasks: set[asyncio.Task[None]] = set()
    late = 0

    async def send(request: bytes, due: float) -> None:
        nonlocal opened
        link = idle.pop() if idle else None
        try:
            if link is None:
                opened += 1
                link = await Link.open(host, port)
            status = await link.exchange(request)
        except (OSError, asyncio.IncompleteReadError):
            tally.failures += 1
            if link is not None:
                link.close()
            return
        tally.latencies_ms.append((time.perf_counter() - due) * 1000)
        tally.statuses[status] += 1
        if len(idle) < MAX_OPEN_CONNECTIONS:
            idle.append(link)
        else:
            link.close()

    started = time.perf_counter()
    for index, request in enumerate(requests):
        due = started + index / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        elif delay < -0.001:
            late += 1
        task = asyncio.create_task(send(request, due))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    await asyncio.gather(*tasks)
    seconds = time.perf_counter() - started
    for link in idle:
        link.close()
    return tally.figures(len(requests) / rate) | {
        "rate": rate,
        "wall_seconds": round(seconds, 3),
        "connections_opened": opened,
        "sent_late_over_1ms": late,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True, help="the full webhook URL")
    parser.add_argument("--secret", required=True, help="the connection's whsec_… secret")
    parser.add_argument("--mode", choices=["closed", "open"], required=True)
    parser.add_argument("--requests", type=int, default=10_000, help="closed loop: timed requests")
    parser.add_argument("--concurrency", type=int, default=32, help="closed loop: connections")
    parser.add_argument("--rate", type=float, default=500.0, help="open loop: requests per second")
    parser.add_argument("--seconds", type=float, default=10.0, help="open loop: duration")
    args = parser.parse_args()

    url = urlsplit(args.url)
    host, port = url.hostname or "127.0.0.1", url.port or 80
    run = uuid.uuid4().hex[:8]
    if args.mode == "closed":
        requests = prepare(url.netloc, url.path, args.secret, WARMUP_REQUESTS + args.requests, run)
        figures = uvloop.run(closed_loop(host, port, requests, args.concurrency))
    else:
        requests = prepare(url.netloc, url.path, args.secret, int(args.rate * args.seconds), run)
        figures = uvloop.run(open_loop(host, port, requests, args.rate))
    json.dump(figures, sys.stdout)


if __name__ == "__main__":
    main()
