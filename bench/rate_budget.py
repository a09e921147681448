"""A shared rate budget against the Intacct simulator's rolling-minute limit, beside the same workers without it.

The simulator runs in its own uvicorn process with a limit of N calls per rolling minute. Two workers (coroutines,
each with its own connector, HTTP and Redis connections, as two processes would have) export one bill per call
through the real `IntacctConnector.push` path (login once, create, read the record URL: several HTTP requests per
push) for the same time in two runs:

- no budget: each worker honours Retry-After on its own, like a client that only reacts to 429s;
- budget: the export engine's guard — a concurrency slot of one `RateBudget` per push, and `RateBudget.meter` on
  the connector's HTTP client, so every request takes its turn in the connection's per-minute rate (configured as
  the connection's `rate_limit` setting, Intacct's being per contract) and every 429 defers the whole connection.

Goal: at least 90% of N sustained from the second minute on, and no 429 after the first minute.

    .venv/bin/python -m bench.rate_budget [--per-minute 120] [--seconds 150] [--workers 2]
"""

import argparse
import asyncio
import bisect
import json
import os
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import httpx
from redis.asyncio import Redis

from bench.sandbox_capacity import served
from connectors.base import ConnectorContext
from connectors.intacct.connector import IntacctConnector
from core.domain import Document, DocumentKind, DocumentLine
from core.errors import RateLimited
from sandbox.constants import CONTROL_PREFIX
from sandbox.intacct.constants import SENDER_ID, SENDER_PASSWORD, SINGLE_ENTITY_COMPANY, USER_ID, USER_PASSWORD
from sync.constants import BUDGET_KEY
from sync.rate_budget import RateBudget

REDIS_URL = os.environ.get("LEDGERLINE_REDIS_URL", "redis://127.0.0.1:6379/0")
MINUTE = 60.0
ROW = "{:36} {:>24} {:>17} {:>6} {:>12} {:>13}"


def connector(url: str) -> IntacctConnector:
    """The connector as `open_connector` builds it for a sandbox connection (minus the database)."""
    return IntacctConnector(
        ConnectorContext(
            tenant_id=uuid.uuid4(),
            connection_id=uuid.uuid4(),
            urls={"gateway": IntacctConnector.spec.url("gateway", sandbox_base=url)},
            app={"sender_id": SENDER_ID, "sender_password": SENDER_PASSWORD},
            credentials={"user_id": USER_ID, "company_id": SINGLE_ENTITY_COMPANY, "user_password": USER_PASSWORD},
        )
    )


def bill() -> Document:
    """A bill the seeded company accepts (vendor V00004, account 70004), under a fresh reference."""
    return Document(
        kind=DocumentKind.BILL,
        reference=uuid.uuid4().hex,
        transaction_date=date(2024, 3, 1),
        currency="USD",
        counterparty="V00004",
        lines=(DocumentLine(amount=Decimal("42.50"), account="70004", description="bench"),),
    )


@dataclass(frozen=True)
class Call:
    sent: float
    """Seconds since the run started."""
    status: int


@dataclass(frozen=True)
class RunFigures:
    name: str
    per_minute: list[int]
    """Calls served in each complete minute of the run."""
    tail: int
    """Calls served in the incomplete minute that ends the run."""
    sustained: float
    """Mean of the complete minutes after the first, as a fraction of the limit."""
    rejected: int
    rejected_after_first_minute: int
    busiest_minute: int
    """Most calls served in any 60 s, by the moment they were sent."""

    @classmethod
    def of(cls, name: str, calls: list[Call], *, limit: int, seconds: float) -> "RunFigures":
        served_at = sorted(call.sent for call in calls if call.status == 200)
        per_minute = [
            bisect.bisect_left(served_at, (index + 1) * MINUTE) - bisect.bisect_left(served_at, index * MINUTE)
            for index in range(int(seconds // MINUTE))
        ]
        busiest = max(
            (bisect.bisect_left(served_at, start + MINUTE) - index for index, start in enumerate(served_at)), default=0
        )
        return cls(
            name=name,
            per_minute=per_minute,
            tail=len(served_at) - sum(per_minute),
            sustained=sum(per_minute[1:]) / (limit * len(per_minute[1:])),
            rejected=sum(1 for call in calls if call.status == 429),
            rejected_after_first_minute=sum(1 for call in calls if call.status == 429 and call.sent >= MINUTE),
            busiest_minute=busiest,
        )


class Recorder:
    """Every HTTP answer the connector gets, timed from the start of the run (an event hook, like the budget's)."""

    def __init__(self, started: float, calls: list["Call"]) -> None:
        self.started = started
        self.calls = calls
        self.paused_until = 0.0

    async def __call__(self, response: httpx.Response) -> None:
        sent = response.request.extensions.get("bench_sent", time.monotonic())
        self.calls.append(Call(sent - self.started, response.status_code))
        if response.status_code == 429:
            self.paused_until = time.monotonic() + float(response.headers.get("Retry-After", "1"))

    async def stamp(self, request: httpx.Request) -> None:
        request.extensions["bench_sent"] = time.monotonic()


async def worker(url: str, budget: RateBudget | None, started: float, stop_at: float, calls: list[Call]) -> None:
    """Push bills until `stop_at`; after a 429, wait as told (alone without a budget, with every worker through it)."""
    recorder = Recorder(started, calls)
    async with connector(url) as intacct:
        if budget is not None:
            budget.meter(intacct.http, intacct.spec.rate_limit)  # first, so a request is stamped once it may go
        intacct.http.event_hooks = {
            "request": [*intacct.http.event_hooks["request"], recorder.stamp],
            "response": [*intacct.http.event_hooks["response"], recorder],
        }
        while (now := time.monotonic()) < stop_at:
            try:
                if budget is None:
                    if now < recorder.paused_until:
                        await asyncio.sleep(min(recorder.paused_until, stop_at) - now)
                        continue
                    await intacct.push([bill()])
                else:
                    async with budget.slot(max_wait=stop_at - now, counted=False):
                        await intacct.push([bill()])
            except RateLimited:
                if budget is not None and time.monotonic() + 1 >= stop_at:
                    return  # the next permit comes after the end of the run


async def run(url: str, *, workers: int, limit: int, seconds: float, shared: bool) -> list[Call]:
    """One run on a freshly configured limit (the simulator forgets earlier calls) and, if shared, a new budget."""
    async with httpx.AsyncClient(base_url=f"{url}{CONTROL_PREFIX}") as control:
        (await control.put("/rate_limits/intacct", json={"per_minute": limit})).raise_for_status()
    connection_id = uuid.uuid4()
    clients = [Redis.from_url(REDIS_URL) for _ in range(workers)]
    calls: list[Call] = []
    try:
        budgets = [
            RateBudget.from_spec(client, connection_id, IntacctConnector.spec.rate_limit, {"per_minute": limit})
            if shared
            else None
            for client in clients
        ]
        started = time.monotonic()
        await asyncio.gather(*(worker(url, budget, started, started + seconds, calls) for budget in budgets))
    finally:
        keys = [
            key async for key in clients[0].scan_iter(match=BUDGET_KEY.format(connection_id=connection_id, part="*"))
        ]
        if keys:
            await clients[0].delete(*keys)
        for client in clients:
            await client.aclose()
    return calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--per-minute", type=int, default=120, help="the simulator's limit N, and the budget's")
    parser.add_argument("--seconds", type=float, default=150.0, help="length of each run (more than a minute)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    if args.seconds < 2 * MINUTE:
        parser.error("--seconds must be at least two minutes: sustained use is measured after the first")

    figures = []
    with served("sandbox.asgi:app") as url:
        for name, shared in (("no budget (Retry-After per worker)", False), ("engine guard (RateBudget)", True)):
            calls = asyncio.run(
                run(url, workers=args.workers, limit=args.per_minute, seconds=args.seconds, shared=shared)
            )
            figures.append(RunFigures.of(name, calls, limit=args.per_minute, seconds=args.seconds))

    print(
        f"Intacct simulator, N = {args.per_minute} calls per rolling minute, {args.workers} workers, "
        f"{args.seconds:.0f} s per run"
    )
    print(ROW.format("run", "200s per minute, +tail", "sustained min 2+", "429s", "429s min 2+", "busiest 60 s"))
    for row in figures:
        counts = " ".join(map(str, row.per_minute)) + f" +{row.tail}"
        print(
            ROW.format(
                row.name,
                counts,
                f"{row.sustained:.1%}",
                row.rejected,
                row.rejected_after_first_minute,
                row.busiest_minute,
            )
        )
    if args.json:
        rows = [asdict(row) for row in figures]
        args.json.write_text(
            json.dumps({"benchmark": "rate_budget", "per_minute": args.per_minute, "results": rows}, indent=2)
        )


if __name__ == "__main__":
    main()
