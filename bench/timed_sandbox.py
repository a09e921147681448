"""`uvicorn bench.timed_sandbox:app`: every simulator as `bench.e2e_sandbox` serves them, plus the moment each call
was answered, so a benchmark can count a rate-limited system's calls minute by minute (the shared request log keeps
no time). `GET /_bench/requests?system=xero&last=N` lists the last N calls of a system, oldest first, each with
`at` (seconds on the machine's monotonic clock, which every process of the machine shares), `operation` and
`status`."""

import time
from collections import deque
from typing import Any, Final

from bench.e2e_sandbox import REQUEST_LOG_ROWS
from sandbox.app import Sandbox
from sandbox.requestlog import LoggedRequest, RequestLog

TIMED_PATH: Final = "/_bench/requests"


class TimedRequestLog(RequestLog):
    """The shared request log, each entry stamped when it is added (as its answer ends)."""

    def __init__(self, size: int) -> None:
        super().__init__(size)
        self.stamped: deque[tuple[float, LoggedRequest]] = deque(maxlen=size)

    def add(self, entry: LoggedRequest) -> None:
        super().add(entry)
        self.stamped.append((time.monotonic(), entry))

    def clear(self) -> None:
        super().clear()
        self.stamped.clear()


box = Sandbox()
timed = TimedRequestLog(REQUEST_LOG_ROWS)
box.log = timed  # before `asgi()`, which hands the log to each system's harness
app = box.asgi()


@app.get(TIMED_PATH)
async def timed_requests(system: str, last: int) -> list[dict[str, Any]]:
    rows = [(at, entry) for at, entry in timed.stamped if entry.system == system]
    return [{"at": at, "operation": entry.operation, "status": entry.status} for at, entry in rows[-last:]]
