"""Receiving one webhook delivery: authenticate before working, store what is proven, once, before answering.

Order of the checks (each answers problem+json, never a 500):

1. unknown provider → 404; content type → 415. Neither depends on whether the key exists, so neither reveals it.
2. the signature, over the raw bytes, before anything else reads the body: against what this process remembers of
   the key (`webhooks.lookup_cache`, no I/O), else in the transaction below. The body is parsed as JSON only once a
   signature holds (malformed → 400); the connection's rate of verified deliveries → 429 with Retry-After
   (`webhooks.rate_limit`, keyed on the connection, so forgeries spend none of it).
3. failed deliveries (bad or missing signature, unknown key: 401, 404) are counted per source address and overall
   (`webhooks.failure_limit`). Once either budget is spent, a delivery the remembered lookups cannot verify is
   answered 429 with Retry-After without a lookup: a forged flood costs a hash, while senders that sign correctly
   keep being answered.
4. one short transaction (`webhooks.store`): `BEGIN` and finding the connection by its URL key (which scopes the
   transaction to its tenant); verifying the signature and checking the inbox here; then the insert with `ON
   CONFLICT DO NOTHING` and `COMMIT`. Two round trips; one when the key's last lookup is remembered, the signature
   verifies against it and the inbox was counted lately (the insert then checks that the connection row still
   matches, `webhooks.lookup_cache`). An unknown key, or one of another provider, is verified against a dummy
   secret all the same and answers 404. Keys are matched whole (an index, a hash), never character by character,
   so no timing tells how near a guess is to a real key (192 random bits); a key that exists and a bad signature
   answer 401 by design. A pool that cannot give a connection within `pool_wait_seconds` answers
   429 rather than queueing (`webhooks.ingress_pool`).
5. after the commit, the caller rings the dispatcher (`announce`, batched by `webhooks.bell`); if Redis is down
   the row stays `received` and the reconciler finds it (`ledgerline_due_webhook_events`), so nothing valid is
   lost.
"""

import json
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NoReturn, TypeVar

import psycopg
from sqlalchemy.exc import DBAPIError

from connectors.spec import WebhookAddress
from core.crypto import CredentialVault, VaultError
from core.db import Database
from core.log import get_logger
from sync.queue import Queue
from sync.webhook_secrets import new_secret, valid_secrets
from web.problems import Problem
from webhooks.bell import DispatchBell
from webhooks.constants import (
    DATABASE_RETRY_AFTER_SECONDS,
    FAILURE_WINDOW_SECONDS,
    FAILURES_OVERALL,
    FAILURES_PER_ADDRESS,
    INBOX_CHECK_EVERY_SECONDS,
    INBOX_LIMIT,
    INBOX_RETRY_AFTER_SECONDS,
    JSON_MEDIA_TYPE,
    JSON_SUFFIX,
    MAX_EVENT_ID_LENGTH,
    POOL_RETRY_AFTER_SECONDS,
    POOL_WAIT_SECONDS,
    RATE_LIMIT_REQUESTS,
    RATE_LIMIT_WINDOW_SECONDS,
    UNKNOWN_SOURCE,
)
from webhooks.failure_limit import FailureGuard
from webhooks.inbox_gauge import InboxGauge
from webhooks.ingress_pool import ConnectionLostError, IngressPool, PoolBusyError
from webhooks.lookup_cache import LookupCache
from webhooks.providers import PROVIDERS, WebhookProvider
from webhooks.rate_limit import FixedWindowLimiter
from webhooks.secret_cache import SecretCache
from webhooks.store import (
    ConnectionForWebhooks,
    begin_find_and_scope,
    inbox_depth,
    insert_event_and_commit,
    insert_if_current_and_commit,
)
from webhooks.verifiers import Accepted, SignatureRejected, SignedRequest, Verdict

log = get_logger(__name__)

_Answer = TypeVar("_Answer")

_NOT_FOUND = "No connection receives {provider} webhooks at this address."
_FAILED = frozenset({401, 404})
"""Refusals that count as failed deliveries: not proven to come from a sender of an existing connection."""


@dataclass(frozen=True, slots=True)
class IngressLimits:
    """The knobs of backpressure; the defaults are `webhooks.constants`."""

    rate_limit_requests: int = RATE_LIMIT_REQUESTS
    rate_limit_window_seconds: int = RATE_LIMIT_WINDOW_SECONDS
    inbox_limit: int = INBOX_LIMIT
    inbox_check_every_seconds: float = INBOX_CHECK_EVERY_SECONDS
    pool_wait_seconds: float = POOL_WAIT_SECONDS
    failures_per_address: int = FAILURES_PER_ADDRESS
    failures_overall: int = FAILURES_OVERALL
    failure_window_seconds: int = FAILURE_WINDOW_SECONDS


@dataclass(frozen=True, slots=True)
class Receipt:
    """What the endpoint answers. `event_row_id` is set only for a newly stored event (it is then announced)."""

    status: int
    outcome: str
    tenant_id: uuid.UUID | None = None
    event_row_id: uuid.UUID | None = None


@dataclass(frozen=True, slots=True)
class Delivery:
    provider: str
    connection_key: str
    headers: Mapping[str, str]
    body: bytes
    content_type: str | None = None
    source: str = UNKNOWN_SOURCE
    """The peer's address, as the server (or a proxy it trusts) reports it: what failures are counted by."""
    received_at: float = field(default_factory=lambda: datetime.now(UTC).timestamp())


def _stored(found: ConnectionForWebhooks, row_id: uuid.UUID | None) -> Receipt:
    if row_id is None:
        return Receipt(status=200, outcome="duplicate", tenant_id=found.tenant_id)
    return Receipt(status=202, outcome="accepted", tenant_id=found.tenant_id, event_row_id=row_id)


def _check_event_id(verdict: Accepted) -> None:
    if len(verdict.event_id) > MAX_EVENT_ID_LENGTH:
        _refuse(400, f"The event id is longer than {MAX_EVENT_ID_LENGTH} characters.", problem="invalid-event-id")


def _retry_after(seconds: int) -> dict[str, str]:
    return {"Retry-After": str(seconds)}


def _refuse(status: int, detail: str, *, problem: str, headers: dict[str, str] | None = None) -> NoReturn:
    raise Problem(status, detail, problem=problem, headers=headers)


def is_json_media(content_type: str | None) -> bool:
    media = (content_type or "").split(";", 1)[0].strip().lower()
    return media == JSON_MEDIA_TYPE or (media.startswith("application/") and media.endswith(JSON_SUFFIX))


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not JSON")


def parse_json(body: bytes) -> tuple[Any, str]:
    """The payload and its text (stored as sent). Objects and arrays only: a webhook carries a document."""
    try:
        text = body.decode("utf-8")
        payload = json.loads(text, parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        _refuse(400, "The request body is not valid UTF-8 JSON.", problem="malformed-json")
    if not isinstance(payload, dict | list):
        _refuse(400, "The request body must be a JSON object or array.", problem="malformed-json")
    return payload, text


class WebhookIngress:
    """One per process: owns the connection pool, the bell, the secret and lookup caches, the inbox gauge and the
    dummy secret. `close` it at shut-down."""

    def __init__(
        self,
        *,
        database: Database,
        queue: Queue,
        vault: CredentialVault,
        pool_size: int,
        limits: IngressLimits | None = None,
    ) -> None:
        self.pool = IngressPool(database.app_engine.url, size=pool_size)
        self.bell = DispatchBell(queue)
        self.limits = limits or IngressLimits()
        self.secrets = SecretCache(vault)
        self.lookups = LookupCache()
        self.inbox = InboxGauge()
        self.limiter = FixedWindowLimiter(queue.redis)
        self.failures = FailureGuard(queue.redis)
        self._dummy_secrets = [new_secret(now=datetime.now(UTC)).secret]

    async def receive(self, *, delivery: Delivery) -> Receipt:
        provider = PROVIDERS.get(delivery.provider)
        if provider is None:
            _refuse(
                404,
                f"Ledgerline takes no webhooks from {delivery.provider!r}; known providers: {', '.join(PROVIDERS)}.",
                problem="unknown-provider",
            )
        if provider.address is WebhookAddress.APP:
            # One address per app (`webhooks.app_ingress`): a connection key means nothing to such a sender.
            _refuse(
                404,
                f"{provider.name} posts every delivery to /webhooks/{provider.name}, not to a connection's address.",
                problem="app-level-provider",
            )
        if not is_json_media(delivery.content_type):
            _refuse(
                415,
                f"Send the webhook as {JSON_MEDIA_TYPE}; got {(delivery.content_type or 'no Content-Type')[:100]}.",
                problem="unsupported-media-type",
            )
        signed = SignedRequest(headers=delivery.headers, body=delivery.body, now=delivery.received_at)
        blocked = self.failures.refusal(delivery.source, window_seconds=self.limits.failure_window_seconds)
        try:
            return await self._receive(provider, delivery, signed, blocked=blocked)
        except Problem as refused:
            if refused.status in _FAILED:
                await self.failures.record(
                    delivery.source,
                    per_address=self.limits.failures_per_address,
                    overall=self.limits.failures_overall,
                    window_seconds=self.limits.failure_window_seconds,
                )
            raise

    async def _receive(
        self, provider: WebhookProvider, delivery: Delivery, signed: SignedRequest, *, blocked: int | None
    ) -> Receipt:
        return await self.guarded(provider.name, lambda: self._store(provider, delivery, signed, blocked=blocked))

    async def guarded(self, provider: str, attempt: Callable[[], Awaitable[_Answer]]) -> _Answer:
        """`attempt`'s answer, its database failures answered as problems (never a 500): retried on a fresh
        connection when a pooled one died, 429 when the pool is busy, 400 when PostgreSQL refuses the payload, 503
        when the database does not answer."""
        try:
            # After a database restart every pooled connection is dead, and each is found so (and dropped) by the
            # statement that tries it; the last attempt is on a new connection.
            for _ in range(self.pool.size):
                try:
                    return await attempt()
                except ConnectionLostError:
                    log.info("webhook_connection_lost", provider=provider)
            return await attempt()
        except PoolBusyError:
            _refuse(
                429,
                "Ledgerline is busy receiving other deliveries; send this one again in a moment.",
                problem="busy",
                headers=_retry_after(POOL_RETRY_AFTER_SECONDS),
            )
        except (psycopg.DataError, psycopg.IntegrityError) as exc:
            # The payload or id is valid JSON to Python but not to PostgreSQL (`\u0000`, lone surrogates, …).
            log.info("webhook_unstorable", provider=provider, error=type(exc).__name__)
            _refuse(400, "The payload cannot be stored: PostgreSQL refuses its JSON.", problem="unstorable-payload")
        except (psycopg.Error, ConnectionLostError, DBAPIError):
            log.warning("webhook_database_unavailable", provider=provider, exc_info=True)
            _refuse(
                503,
                "The database is not answering; the delivery was not stored. Send it again shortly.",
                problem="database-unavailable",
                headers=_retry_after(DATABASE_RETRY_AFTER_SECONDS),
            )

    async def _store(
        self, provider: WebhookProvider, delivery: Delivery, signed: SignedRequest, *, blocked: int | None
    ) -> Receipt:
        """Stored in one round trip when the remembered lookup still holds, else looked up afresh — unless this
        address, or everyone, failed too often lately (`blocked`: seconds left), when only the remembered lookup may
        verify a delivery."""
        remembered = self.lookups.get(delivery.connection_key)
        if remembered is not None and remembered.provider == provider.name:
            accepted = self._verify_remembered(provider, signed, remembered)
            if accepted is not None:
                payload, payload_json = parse_json(delivery.body)
                await self._check_rate(remembered.connection_id)
                full = self.inbox.known_full(remembered.connection_id)
                if full is None:
                    # This delivery counts the inbox, on the path that does; the lookup still holds, so the
                    # deliveries meanwhile keep the one-trip path (`webhooks.inbox_gauge`).
                    return await self._look_up_and_store(provider, delivery, signed, count_inbox=True, rated=True)
                if not full:
                    async with self.pool.connection(wait_seconds=self.limits.pool_wait_seconds) as connection:
                        stored = await insert_if_current_and_commit(
                            connection,
                            key=delivery.connection_key,
                            remembered=remembered,
                            event_id=accepted.event_id,
                            event_type=provider.event_type_of(payload),
                            payload_json=payload_json,
                        )
                    if stored.current:
                        return _stored(remembered, stored.row_id)
                    self.lookups.forget(delivery.connection_key)
            # A signature that fails against the remembered secrets leaves them remembered: a forger who knows the
            # URL must not push the real sender off this path (a rotation is remembered once a lookup verifies).
        if blocked is not None:
            _refuse(
                429,
                "Too many deliveries that failed verification came from this address, or from everywhere, lately; "
                "signed deliveries to known connections are still taken. Retry after the indicated delay.",
                problem="too-many-failures",
                headers=_retry_after(blocked),
            )
        return await self._look_up_and_store(provider, delivery, signed)

    async def _look_up_and_store(
        self,
        provider: WebhookProvider,
        delivery: Delivery,
        signed: SignedRequest,
        *,
        count_inbox: bool = False,
        rated: bool = False,
    ) -> Receipt:
        """The transaction: find the connection, verify, parse, check the rate (unless `rated` already) and the
        inbox, insert and commit."""
        async with self.pool.connection(wait_seconds=self.limits.pool_wait_seconds) as connection:
            found = await begin_find_and_scope(connection, delivery.connection_key)
            known = found is not None and found.provider == provider.name
            verdict = self._verify(provider, signed, found if known else None)
            assert found is not None  # _verify refuses unknown connections
            if not isinstance(verdict, Accepted):
                return Receipt(status=verdict.status, outcome="handshake", tenant_id=found.tenant_id)
            _check_event_id(verdict)
            payload, payload_json = parse_json(delivery.body)
            if not rated:
                await self._check_rate(found.connection_id)
            await self._check_inbox(connection, found, count=count_inbox)
            row_id = await insert_event_and_commit(
                connection,
                found=found,
                provider=provider.name,
                event_id=verdict.event_id,
                event_type=provider.event_type_of(payload),
                payload_json=payload_json,
            )
        self.lookups.remember(delivery.connection_key, found)
        return _stored(found, row_id)

    def _verify_remembered(
        self, provider: WebhookProvider, signed: SignedRequest, remembered: ConnectionForWebhooks
    ) -> Accepted | None:
        """The verdict against the remembered secrets when it is an acceptance of a storable event; None sends the
        delivery down the uncached path, which answers everything else (with fresh secrets)."""
        if remembered.sealed_secrets is None:
            return None
        try:
            opened = self.secrets.secrets(remembered.sealed_secrets)
            secrets = valid_secrets(opened, now=datetime.fromtimestamp(signed.now, UTC))
            verdict = provider.verifier.verify(signed, secrets) if secrets else None
        except (VaultError, SignatureRejected):
            return None
        if not isinstance(verdict, Accepted) or len(verdict.event_id) > MAX_EVENT_ID_LENGTH:
            return None
        return verdict

    def _verify(self, provider: WebhookProvider, signed: SignedRequest, found: ConnectionForWebhooks | None) -> Verdict:
        secrets = self._dummy_secrets
        if found is not None and found.sealed_secrets is not None:
            when = datetime.fromtimestamp(signed.now, UTC)
            try:
                opened = self.secrets.secrets(found.sealed_secrets)
            except VaultError:
                log.error("webhook_secrets_unreadable", connection_id=str(found.connection_id))
                _refuse(
                    503,
                    "Ledgerline cannot read this connection's webhook secrets now; send the delivery again later.",
                    problem="secrets-unavailable",
                    headers=_retry_after(DATABASE_RETRY_AFTER_SECONDS),
                )
            secrets = valid_secrets(opened, now=when) or self._dummy_secrets
        try:
            verdict = provider.verifier.verify(signed, secrets)
        except SignatureRejected as exc:
            log.info(
                "webhook_rejected",
                provider=provider.name,
                connection_id=str(found.connection_id) if found else None,
                problem=exc.problem,
            )
            if found is None:
                _refuse(404, _NOT_FOUND.format(provider=provider.name), problem="unknown-connection")
            if found.sealed_secrets is None:
                _refuse(
                    401,
                    "This connection has no webhook secret yet: create one with "
                    "POST /v1/connections/{id}/webhook-secrets and give it to the sender.",
                    problem="no-webhook-secret",
                )
            _refuse(401, exc.reason, problem=exc.problem)
        if found is None or secrets is self._dummy_secrets:
            # Only reachable by forging the process's random dummy secret; refuse like any unknown key.
            _refuse(404, _NOT_FOUND.format(provider=provider.name), problem="unknown-connection")
        return verdict

    async def _check_rate(self, connection_id: uuid.UUID) -> None:
        """Verified deliveries per connection; over the limit, 429 and Retry-After, which senders honour by retrying
        later (Redis down: counted in this process, `webhooks.rate_limit`)."""
        decision = await self.limiter.hit(
            str(connection_id),
            limit=self.limits.rate_limit_requests,
            window_seconds=self.limits.rate_limit_window_seconds,
        )
        if not decision.allowed:
            _refuse(
                429,
                f"More than {self.limits.rate_limit_requests} deliveries in {self.limits.rate_limit_window_seconds} s "
                "to this connection; slow down and retry after the indicated delay.",
                problem="rate-limited",
                headers=_retry_after(decision.retry_after_seconds),
            )

    async def _check_inbox(
        self, connection: psycopg.AsyncConnection[Any], found: ConnectionForWebhooks, *, count: bool
    ) -> None:
        """`count`: the gauge already told this delivery to count (asking it again would give the last answer)."""
        full = None if count else self.inbox.known_full(found.connection_id)
        if full is None:
            depth = await inbox_depth(connection, connection_id=found.connection_id, limit=self.limits.inbox_limit)
            full = depth >= self.limits.inbox_limit
            self.inbox.record(found.connection_id, full=full, fresh_for_seconds=self.limits.inbox_check_every_seconds)
        if full:
            _refuse(
                429,
                f"This connection has {self.limits.inbox_limit} or more events not yet handled; Ledgerline is catching "
                "up. Send this delivery again later.",
                problem="inbox-full",
                headers=_retry_after(INBOX_RETRY_AFTER_SECONDS),
            )

    async def announce(self, *, receipt: Receipt) -> None:
        """Ring the bell for a newly stored event; run after the commit (the row is the ledger, this only wakes a
        worker). A failure is logged: the reconciler enqueues events still `received`."""
        if receipt.event_row_id is None or receipt.tenant_id is None:
            return
        await self.bell.ring(tenant_id=receipt.tenant_id, event_row_id=receipt.event_row_id)

    async def close(self) -> None:
        """Write the last rings, then close the pool."""
        await self.bell.quiet()
        await self.pool.close()
