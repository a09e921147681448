"""One load process of the webhook flood: `python -m chaos.flood_sender`, driven over stdin and stdout.

Why processes: one asyncio sender offered about 780 deliveries/s, a sixth of the flood it was meant to be; several
processes on raw HTTP/1.1 keep-alive links (uvloop, requests signed before the clock starts, as
`bench.webhook_loadgen` does) offer what one cannot. Each delivery is sent at its scheduled moment (open loop), so a
slow server is flooded rather than waited for; the moment each is really written is what the offered rate counts.
Links are pipelined: with one request in flight per link, a server slowed by the flood itself set the pace (512
links offered about 1,300/s on two cores, a quarter of the target).

A refused delivery (any non-2xx, or no answer) is sent again, re-signed, after its Retry-After, at the retry rate,
until it is accepted or the retry deadline passes, as a Standard Webhooks sender does.

Protocol: line 1 on stdin is a `Job` as JSON; the process prepares its requests, opens its warm links and prints
`ready`; line 2 is `{"start_at": <epoch seconds>}`; the last line on stdout is the `Outcome` as JSON.
"""

import asyncio
import json
import sys
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import UTC, datetime

import uvloop
from standardwebhooks.webhooks import Webhook

READY = "ready"
NO_ANSWER = 0
JOB_LINE_LIMIT = 64 * 1024 * 1024
"""A job lists every delivery of its share on one line: far beyond asyncio's default 64 KiB line."""
LATE_SECONDS = 0.005
"""A delivery written more than this after its scheduled moment counts as late."""


@dataclass(frozen=True)
class Job:
    port: int
    path: str
    secret: str
    deliveries: list[tuple[str, str]]
    """(event id, report id) in sending order; an id may repeat (a re-delivery)."""
    rate: float
    retry_rate: float
    retry_deadline_seconds: float
    links: int
    warm_links: int
    timeout_seconds: float


@dataclass
class Outcome:
    sent: int = 0
    started_at: float = 0.0
    """Epoch seconds: the flood's scheduled start (shared by every sender)."""
    last_sent_at: float = 0.0
    """Epoch seconds: when the flood's last request was written."""
    late: int = 0
    links_opened: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    """Answers during the flood (0: no answer)."""
    retry_statuses: Counter[int] = field(default_factory=Counter)
    retried: int = 0
    retry_rounds: int = 0
    acknowledged: set[str] = field(default_factory=set)
    refused: set[str] = field(default_factory=set)
    """Ids refused and not acknowledged when the retries stopped."""

    def as_json(self) -> str:
        payload = {name: getattr(self, name) for name in self.__dataclass_fields__}  # asdict() garbles a Counter
        return json.dumps(payload | {"acknowledged": sorted(self.acknowledged), "refused": sorted(self.refused)})


def request_bytes(job: Job, event_id: str, report: str, moment: datetime) -> bytes:
    """A Fyle "report approved" callback, signed at `moment` with the reference `standardwebhooks` package."""
    body = json.dumps({"resource": "REPORT", "action": "ADMIN_APPROVED", "data": {"id": report, "state": "APPROVED"}})
    head = (
        f"POST {job.path} HTTP/1.1\r\nhost: chaos\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\nwebhook-id: {event_id}\r\nwebhook-timestamp: {int(moment.timestamp())}\r\n"
        f"webhook-signature: {Webhook(job.secret).sign(event_id, moment, body)}\r\n\r\n"
    )
    return head.encode() + body.encode()


def _answer_head(head: bytes) -> tuple[int, int, int, bool]:
    """Status, body length, Retry-After and whether the server keeps the connection, from a response head."""
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
    return status, length, retry_after, keep


class Link:
    """One keep-alive connection, pipelined: a request is written at its moment whatever is still unanswered on the
    link, and answers are matched to requests in order (HTTP/1.1). A flood does not wait for the server to answer
    before it sends more; that wait is what held one request per link to what a slow server let through."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.unanswered: deque[asyncio.Future[tuple[int, int]]] = deque()
        self.open = True
        self._reading = asyncio.create_task(self._read_answers())

    def send(self, request: bytes) -> asyncio.Future[tuple[int, int]]:
        """Write `request` now; the future holds its status (0: no answer) and Retry-After."""
        answer: asyncio.Future[tuple[int, int]] = asyncio.get_running_loop().create_future()
        if not self.open:
            answer.set_result((NO_ANSWER, 1))
            return answer
        self.unanswered.append(answer)
        self.writer.write(request)
        return answer

    async def _read_answers(self) -> None:
        try:
            while True:
                status, length, retry_after, keep = _answer_head(await self.reader.readuntil(b"\r\n\r\n"))
                if length:
                    await self.reader.readexactly(length)
                if not self.unanswered:
                    break  # an answer to nothing asked: the link cannot be trusted further
                answer = self.unanswered.popleft()
                if not answer.done():  # a request whose sender stopped waiting still takes its answer's place
                    answer.set_result((status, retry_after))
                if not keep:
                    break
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            pass
        finally:
            self.open = False
            while self.unanswered:
                answer = self.unanswered.popleft()
                if not answer.done():
                    answer.set_result((NO_ANSWER, 1))
            self.writer.close()

    async def close(self) -> None:
        self._reading.cancel()
        await asyncio.gather(self._reading, return_exceptions=True)
        self.writer.close()


class Sender:
    """Requests go to the links in turn; a link the server closed is replaced by a new one when next chosen."""

    def __init__(self, job: Job, outcome: Outcome) -> None:
        self.job = job
        self.outcome = outcome
        self.links: list[Link] = []
        self.opened: list[Link] = []
        """Every link this sender opened, replaced ones too: closing waits for each one's reader."""
        self.turn = 0

    async def open(self) -> Link:
        reader, writer = await asyncio.open_connection("127.0.0.1", self.job.port)
        self.outcome.links_opened += 1
        self.opened.append(Link(reader, writer))
        return self.opened[-1]

    async def warm(self) -> None:
        self.links = [await self.open() for _ in range(self.job.warm_links)]

    async def _next_link(self) -> Link:
        if len(self.links) < self.job.links:
            self.links.append(await self.open())
            return self.links[-1]
        self.turn = (self.turn + 1) % len(self.links)
        if not self.links[self.turn].open:
            self.links[self.turn] = await self.open()
        return self.links[self.turn]

    async def deliver(self, request: bytes, due: float | None = None) -> tuple[int, int]:
        """Status (0: no answer) and Retry-After of one delivery; a flood delivery (`due` set) is counted as sent."""
        try:
            link = await self._next_link()
        except OSError:
            return NO_ANSWER, 1
        answer = link.send(request)
        if due is not None:
            self._note_sent(due)
        try:
            return await asyncio.wait_for(answer, self.job.timeout_seconds)
        except TimeoutError:
            return NO_ANSWER, 1

    def _note_sent(self, due: float) -> None:
        now = time.time()
        self.outcome.sent += 1
        self.outcome.last_sent_at = max(self.outcome.last_sent_at, now)
        if now - due > LATE_SECONDS:
            self.outcome.late += 1

    async def close(self) -> None:
        await asyncio.gather(*(link.close() for link in self.opened))


async def _paced(
    sender: Sender, batch: list[tuple[str, bytes]], rate: float, start_at: float, flood: bool
) -> dict[str, int]:
    """Send `batch` at `rate` from `start_at` (epoch seconds), each at its moment; Retry-After of each refused id."""
    refused: dict[str, int] = {}
    outcome = sender.outcome
    statuses = outcome.statuses if flood else outcome.retry_statuses

    async def one(event_id: str, request: bytes, due: float) -> None:
        status, retry_after = await sender.deliver(request, due if flood else None)
        statuses[status] += 1
        if 200 <= status < 300:
            outcome.acknowledged.add(event_id)
        else:
            refused[event_id] = max(refused.get(event_id, 0), retry_after)

    tasks = []
    for index, (event_id, request) in enumerate(batch):
        due = start_at + index / rate
        delay = due - time.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(event_id, request, due)))
    await asyncio.gather(*tasks)
    return refused


def prepare(job: Job) -> list[tuple[str, bytes]]:
    """Every flood request, signed before the clock starts."""
    moment = datetime.now(UTC)
    return [(event_id, request_bytes(job, event_id, report, moment)) for event_id, report in job.deliveries]


async def run(job: Job, flood: list[tuple[str, bytes]], start_at: float, sender: Sender) -> Outcome:
    """The flood at `job.rate`, then retries of what was refused until accepted or the deadline."""
    outcome = sender.outcome
    outcome.started_at = start_at
    reports = dict(job.deliveries)
    refused = await _paced(sender, flood, job.rate, start_at, flood=True)
    deadline = time.monotonic() + job.retry_deadline_seconds
    while refused and time.monotonic() < deadline:
        await asyncio.sleep(max(refused.values()))
        moment = datetime.now(UTC)  # a sender signs each attempt anew: the timestamp must stay fresh
        again = [(event_id, request_bytes(job, event_id, reports[event_id], moment)) for event_id in refused]
        outcome.retried += len(again)
        outcome.retry_rounds += 1
        refused = await _paced(sender, again, job.retry_rate, time.time(), flood=False)
    outcome.refused = set(refused) - outcome.acknowledged
    return outcome


async def main_async() -> None:
    loop = asyncio.get_running_loop()
    stdin = asyncio.StreamReader(limit=JOB_LINE_LIMIT)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stdin), sys.stdin)
    raw = json.loads(await stdin.readline())
    job = Job(**(raw | {"deliveries": [tuple(pair) for pair in raw["deliveries"]]}))
    flood = prepare(job)
    sender = Sender(job, Outcome())
    await sender.warm()
    print(READY, flush=True)
    start_at = float(json.loads(await stdin.readline())["start_at"])
    try:
        outcome = await run(job, flood, start_at, sender)
    finally:
        await sender.close()
    print(outcome.as_json(), flush=True)


if __name__ == "__main__":
    uvloop.run(main_async())
