"""`uvicorn bench.e2e_sandbox:app`: every simulator with the default seed and no latency, and a request log long
enough to count every call of a whole end-to-end run (the default log keeps only the latest few thousand)."""

from typing import Final

from sandbox.app import Sandbox
from sandbox.requestlog import RequestLog

REQUEST_LOG_ROWS: Final = 2_000_000

box = Sandbox()
box.log = RequestLog(size=REQUEST_LOG_ROWS)  # before `asgi()`, which hands the log to each system's harness
app = box.asgi()
