"""`Idempotency-Key` on POST: a retried request gets the first response instead of running twice.

Same key and same request → the stored response (with `Idempotent-Replayed: true`); same key, different request →
422; the first request still running → 409. Keys belong to a tenant and live 24 hours. A request that ends in a
5xx releases its key, so the client may retry it. An in-flight key whose request died is taken over after a lease.

A response that carries a secret (a new webhook secret) says so with `Cache-Control: no-store`, and is never kept:
the key records only that the request happened, and a replay is answered 409 with a pointer to create a new secret.
Replaying it would mean keeping the plaintext in a table for a day, readable by anyone who can read the table.

This is ASGI middleware rather than a dependency because it must capture the response the route produced.
"""

import hashlib
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, update
from sqlalchemy.dialects.postgresql import insert
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.constants import IDEMPOTENCY_HEADER, IDEMPOTENT_REPLAY_HEADER, NO_STORE, SECRET_WITHHELD
from api.middleware import replay_body
from core.constants import (
    IDEMPOTENCY_IN_FLIGHT_LEASE_SECONDS,
    IDEMPOTENCY_KEY_MAX_LENGTH,
    IDEMPOTENCY_TTL_SECONDS,
    IDEMPOTENT_RESPONSE_MAX_BYTES,
)
from core.db import Database
from core.models import ApiIdempotencyKey, IdempotencyState
from web.problems import problem_response
from web.sign_in_throttle import sign_in_once

REPLAYED_HEADERS = frozenset({"content-type", "location"})


def _headers(scope: Scope) -> dict[str, str]:
    return {key.decode("latin-1").lower(): value.decode("latin-1") for key, value in scope.get("headers", ())}


def _request_hash(scope: Scope, body: bytes) -> str:
    digest = hashlib.sha256(f"{scope['method']} {scope['path']}?{scope.get('query_string', b'').decode()}\n".encode())
    digest.update(body)
    return digest.hexdigest()


class IdempotencyMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = _headers(scope) if scope["type"] == "http" else {}
        key = headers.get(IDEMPOTENCY_HEADER)
        if key is None or scope["method"] != "POST" or not scope["path"].startswith("/v1/"):
            await self.app(scope, receive, send)
            return
        if not key or len(key) > IDEMPOTENCY_KEY_MAX_LENGTH or not key.isascii() or not key.isprintable():
            response = problem_response(
                400,
                f"Idempotency-Key must be 1 to {IDEMPOTENCY_KEY_MAX_LENGTH} printable ASCII characters.",
                problem="invalid-idempotency-key",
            )
            await response(scope, receive, send)
            return
        database: Database = scope["app"].state.database
        scheme, _, token = headers.get("authorization", "").partition(" ")
        principal = None
        if scheme.lower() == "bearer" and token.strip():
            # Throttled, and shared with the route's own check (`web.sign_in_throttle.sign_in_once`).
            principal = (await sign_in_once(HTTPConnection(scope), database, token.strip())).principal
        if principal is None or principal.tenant_id is None:
            await self.app(scope, receive, send)  # the route answers 401/403 itself; nothing to remember
            return
        body: bytes = scope.get("state", {}).get("raw_body", b"")
        await _Exchange(self.app, database, principal.tenant_id, key, _request_hash(scope, body)).run(
            scope, replay_body(body, receive), send
        )


class _Exchange:
    """One idempotent request: claim the key, run or replay, remember the outcome."""

    def __init__(self, app: ASGIApp, database: Database, tenant_id: uuid.UUID, key: str, request_hash: str) -> None:
        self.app = app
        self.database = database
        self.tenant_id = tenant_id
        self.key = key
        self.request_hash = request_hash

    async def run(self, scope: Scope, receive: Receive, send: Send) -> None:
        if await self._claim(scope):
            await self._execute(scope, receive, send)
            return
        async with self.database.tenant_session(self.tenant_id) as session:
            stored = await session.get(ApiIdempotencyKey, (self.tenant_id, self.key))
        if stored is None:  # expired and purged between our two statements: run it as new
            await self.run(scope, receive, send)
            return
        if stored.request_hash != self.request_hash:
            response = problem_response(
                422,
                "This Idempotency-Key was already used with a different request; use a new key for a new request.",
                problem="idempotency-key-reused",
            )
        elif stored.state == IdempotencyState.IN_FLIGHT:
            response = problem_response(
                409,
                "A request with this Idempotency-Key is still being processed; retry shortly.",
                problem="idempotency-key-in-flight",
                headers={"Retry-After": "1"},
            )
        elif (stored.response_headers or {}).get(SECRET_WITHHELD):
            response = problem_response(
                409,
                "The first request with this Idempotency-Key created a secret, which was shown once and is not kept, "
                f"so it cannot be shown again. If it was lost, create a new one with POST {stored.path} (under a new "
                "Idempotency-Key); the previous secret stays valid for its grace period.",
                problem="secret-not-replayed",
            )
        else:
            await self._replay(stored, send)
            return
        await response(scope, receive, send)

    async def _claim(self, scope: Scope) -> bool:
        """Insert the key as in flight, or take over an expired or abandoned one. True when we now own it."""
        now = datetime.now(UTC)
        values = {
            "tenant_id": self.tenant_id,
            "key": self.key,
            "method": scope["method"],
            "path": scope["path"],
            "request_hash": self.request_hash,
            "state": IdempotencyState.IN_FLIGHT.value,
            "locked_until": now + timedelta(seconds=IDEMPOTENCY_IN_FLIGHT_LEASE_SECONDS),
            "created_at": now,
            "expires_at": now + timedelta(seconds=IDEMPOTENCY_TTL_SECONDS),
        }
        table = ApiIdempotencyKey.__table__
        statement = (
            insert(ApiIdempotencyKey)
            .values(**values)
            .on_conflict_do_update(
                index_elements=[table.c.tenant_id, table.c.key],
                set_={**values, "response_status": None, "response_headers": None, "response_body": None},
                where=(table.c.expires_at < now)
                | (
                    (table.c.state == IdempotencyState.IN_FLIGHT.value)
                    & (table.c.locked_until < now)
                    & (table.c.request_hash == self.request_hash)
                ),
            )
            .returning(table.c.key)
        )
        async with self.database.tenant_session(self.tenant_id) as session:
            claimed = (await session.execute(statement)).first()
        return claimed is not None

    async def _execute(self, scope: Scope, receive: Receive, send: Send) -> None:
        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, capture)
        except BaseException:
            await self._release()
            raise
        body = b"".join(chunks)
        status = start.get("status", 500)
        if status >= 500 or len(body) > IDEMPOTENT_RESPONSE_MAX_BYTES:
            await self._release()
            return
        sent = {key.decode("latin-1").lower(): value.decode("latin-1") for key, value in start.get("headers", [])}
        kept = {key: value for key, value in sent.items() if key in REPLAYED_HEADERS}
        kept_body: bytes | None = body
        if NO_STORE in sent.get("cache-control", "").lower():
            kept, kept_body = {SECRET_WITHHELD: "true"}, None
        async with self.database.tenant_session(self.tenant_id) as session:
            await session.execute(
                update(ApiIdempotencyKey)
                .where(ApiIdempotencyKey.tenant_id == self.tenant_id, ApiIdempotencyKey.key == self.key)
                .values(
                    state=IdempotencyState.COMPLETED.value,
                    response_status=status,
                    response_headers=kept,
                    response_body=kept_body,
                )
            )

    async def _release(self) -> None:
        async with self.database.tenant_session(self.tenant_id) as session:
            await session.execute(
                delete(ApiIdempotencyKey).where(
                    ApiIdempotencyKey.tenant_id == self.tenant_id, ApiIdempotencyKey.key == self.key
                )
            )

    async def _replay(self, stored: ApiIdempotencyKey, send: Send) -> None:
        headers = [(name.encode(), str(value).encode()) for name, value in (stored.response_headers or {}).items()]
        headers.append((IDEMPOTENT_REPLAY_HEADER.encode(), b"true"))
        body = stored.response_body or b""
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": stored.response_status or 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})
