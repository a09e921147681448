"""Wraps one simulated system's ASGI app with its rate limit, the active faults and the request log."""

import asyncio
import time
from typing import Any

from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

from sandbox.constants import HANG_SECONDS
from sandbox.faults import Fault, FaultBook, FaultMode
from sandbox.ratelimit import RateLimiter
from sandbox.requestlog import LoggedRequest, RequestLog
from sandbox.system import SimulatedSystem


class SimulatedConnectionReset(Exception):
    """Raised mid-response so the server drops the connection, as a reset peer would."""


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def _hang(receive: Receive) -> None:
    """Hold the request until the client disconnects (or far longer than any client waits)."""
    try:
        async with asyncio.timeout(HANG_SECONDS):
            while (await receive())["type"] != "http.disconnect":
                pass
    except TimeoutError:
        pass


class SystemHarness:
    def __init__(self, system: SimulatedSystem, *, faults: FaultBook, limiter: RateLimiter, log: RequestLog) -> None:
        self.system = system
        self.faults = faults
        self.limiter = limiter
        self.log = log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.system.app(scope, receive, send)
            return
        started = time.perf_counter()
        body = await _read_body(receive)
        operation = self.system.operation_of(scope["method"], scope["path"], body)
        status = 0
        fault: Fault | None = None

        async def replay() -> Message:
            return {"type": "http.request", "body": body, "more_body": False}

        async def tracking(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            wait = self.limiter.try_acquire()
            if wait is not None:
                await self.system.rate_limited_response(wait)(scope, replay, tracking)
                return
            try:
                latency, fault = self.faults.draw(self.system.name, operation)
                if latency:
                    await asyncio.sleep(latency / 1000)
                await self._answer(fault, scope, replay, receive, tracking)
            finally:
                self.limiter.release()
        finally:
            self.log.add(
                LoggedRequest(
                    system=self.system.name,
                    method=scope["method"],
                    path=scope["path"],
                    operation=operation,
                    status=status,
                    duration_ms=round((time.perf_counter() - started) * 1000, 3),
                    fault=fault.mode.value if fault else None,
                )
            )

    async def _answer(self, fault: Fault | None, scope: Scope, replay: Receive, receive: Receive, send: Send) -> None:
        app = self.system.app
        if fault is None:
            await app(scope, replay, send)
        elif fault.mode is FaultMode.ERROR:
            await self.system.error_response(fault.status, "Injected failure")(scope, replay, send)
        elif fault.mode is FaultMode.RATE_LIMIT:
            await self.system.rate_limited_response(fault.retry_after)(scope, replay, send)
        elif fault.mode is FaultMode.HANG:
            await _hang(receive)
        elif fault.mode is FaultMode.RESET:
            await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"1000")]})
            await send({"type": "http.response.body", "body": b"<", "more_body": True})
            raise SimulatedConnectionReset("injected connection reset")
        elif fault.mode is FaultMode.MALFORMED:
            captured = await _run_captured(app, scope, replay)
            garbled = captured.body[: max(1, len(captured.body) // 2)] + b"\x00\xff"
            headers = {"content-type": captured.media_type} if captured.media_type else None
            await Response(garbled, status_code=200, headers=headers)(scope, replay, send)
        elif fault.mode is FaultMode.COMMIT_THEN_FAIL:
            await _run_captured(app, scope, replay)  # the write happens; its answer is lost
            if fault.then == "hang":
                await _hang(receive)
            else:
                await self.system.error_response(fault.status, "Injected failure after commit")(scope, replay, send)


class _Captured:
    def __init__(self) -> None:
        self.status = 0
        self.headers: list[tuple[bytes, bytes]] = []
        self.chunks: list[bytes] = []

    @property
    def body(self) -> bytes:
        return b"".join(self.chunks)

    @property
    def media_type(self) -> str | None:
        for key, value in self.headers:
            if key.lower() == b"content-type":
                return value.decode("latin-1")
        return None


async def _run_captured(app: Any, scope: Scope, receive: Receive) -> _Captured:
    captured = _Captured()

    async def capture(message: Message) -> None:
        if message["type"] == "http.response.start":
            captured.status = message["status"]
            captured.headers = list(message.get("headers", []))
        elif message["type"] == "http.response.body":
            captured.chunks.append(message.get("body", b""))

    await app(scope, receive, capture)
    return captured
