"""Outgoing webhooks as Xero sends them, signed with `x-xero-signature`, and Xero's intent-to-receive check.

- Payload: `{"events": [{"resourceUrl", "resourceId", "eventDateUtc", "eventType": "CREATE"|"UPDATE",
  "eventCategory": "INVOICE"|"CONTACT", "tenantId", "tenantType": "ORGANISATION"}], "firstEventSequence",
  "lastEventSequence", "entropy"}`; the sequence numbers run across the app, the entropy is random per batch.
- `x-xero-signature` = base64(HMAC-SHA256(the app's webhook key, raw body)).
- Changes are batched per organisation for `batch_seconds` (Xero gathers them for a while), then posted, one batch
  per organisation. Only a 2xx answered within `timeout_seconds` (Xero: 5 s) counts as delivered; anything else is
  retried with the same body after each of `retry_delays_seconds` (Xero backs off for hours; tests shorten it).
- Intent-to-receive: Xero enables a subscription only once the URL answers a correctly signed empty batch with 200
  and an empty body, and a wrongly signed one with 401, each within 5 s. Until then (`verified` false) changes are
  not sent, as Xero sends none to a subscription that has not passed.

The store's listener calls `publish(tenant_id, resource, event, resource_id)`; every attempt is recorded for the
control API (`sandbox.xero.webhook_control`).
"""

import asyncio
import base64
import hashlib
import hmac
import json
import secrets
import string
import time
import uuid
from collections import deque
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Final, Literal

import httpx

from sandbox.clock import SandboxClock

SIGNATURE_HEADER: Final = "x-xero-signature"
API_BASE: Final = "https://api.xero.com/api.xro/2.0"
RESOURCE_PATHS: Final = {"INVOICE": "Invoices", "CONTACT": "Contacts"}
"""`eventCategory` → the collection in `resourceUrl`."""
EVENT_TYPES: Final = frozenset({"CREATE", "UPDATE"})
TENANT_TYPE: Final = "ORGANISATION"
ENTROPY_LENGTH: Final = 20
ENTROPY_ALPHABET: Final = string.ascii_uppercase
KEY_BYTES: Final = 64
"""Xero's webhook keys are 64 random bytes in base64 (88 characters)."""
RESPONSE_DEADLINE_SECONDS: Final = 5.0
"""Xero's limit for an answer, to events and to intent-to-receive alike."""
RETRY_DELAYS_SECONDS: Final = (60.0, 300.0, 900.0, 3600.0, 3 * 3600.0, 6 * 3600.0, 12 * 3600.0)
"""Backing off over about a day, as Xero does before it gives up on a batch."""
BATCH_SECONDS: Final = 1.0
DELIVERY_LOG_SIZE: Final = 2000
MAX_RETRIES: Final = 20

DeliveryKind = Literal["events", "intent_to_receive_signed", "intent_to_receive_mis_signed"]


def sign(key: str, body: bytes) -> str:
    """Xero's signature: base64(HMAC-SHA256(webhook key, raw body))."""
    return base64.b64encode(hmac.new(key.encode(), body, hashlib.sha256).digest()).decode("ascii")


def new_key() -> str:
    return base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode("ascii")


def entropy() -> str:
    return "".join(secrets.choice(ENTROPY_ALPHABET) for _ in range(ENTROPY_LENGTH))


def event_time(moment: datetime) -> str:
    """`eventDateUtc` as Xero writes it: UTC, milliseconds, no offset."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]


def encode(payload: Any) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()


@dataclass(frozen=True, slots=True)
class WebhookConfig:
    """The app's one webhook subscription: where to post, the key to sign with, and how to batch and retry."""

    url: str
    key: str
    verified: bool = False
    """Whether the URL passed intent-to-receive; no events are sent before."""
    batch_seconds: float = BATCH_SECONDS
    retry_delays_seconds: tuple[float, ...] = RETRY_DELAYS_SECONDS
    timeout_seconds: float = RESPONSE_DEADLINE_SECONDS

    def as_dict(self) -> dict[str, Any]:
        return asdict(self) | {"retry_delays_seconds": list(self.retry_delays_seconds)}


@dataclass(frozen=True, slots=True)
class Delivery:
    """One attempt to post one batch."""

    id: str
    """The batch's id; every attempt of one batch shares it."""
    kind: DeliveryKind
    tenant_id: str | None
    events: int
    first_event_sequence: int
    last_event_sequence: int
    attempt: int
    delivered: bool
    status_code: int | None
    error: str | None
    elapsed_ms: float
    attempted_at: datetime

    def as_dict(self) -> dict[str, Any]:
        return asdict(self) | {"attempted_at": self.attempted_at.isoformat()}


@dataclass(frozen=True, slots=True)
class IntentCheck:
    signed_correctly: bool
    expected_status: int
    status_code: int | None
    body_empty: bool
    elapsed_ms: float
    error: str | None
    passed: bool

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class IntentToReceive:
    """Xero's verdict on the URL: passed only when every check did."""

    passed: bool
    checks: tuple[IntentCheck, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"passed": self.passed, "checks": [check.as_dict() for check in self.checks]}


@dataclass(slots=True)
class _Batch:
    id: str
    tenant_id: str
    body: bytes
    first: int
    last: int
    events: int


@dataclass(slots=True)
class _Pending:
    events: list[dict[str, Any]] = field(default_factory=list)


class XeroWebhookDispatcher:
    """Batches an app's changes per organisation and posts them to its one subscription."""

    def __init__(self, *, clock: SandboxClock, transport: httpx.AsyncBaseTransport | None = None) -> None:
        """`transport`: where posts go instead of the network (tests hand in an ASGI app)."""
        self.clock = clock
        self.transport = transport
        self.config: WebhookConfig | None = None
        self._pending: dict[str, _Pending] = {}
        self._sequence = 0
        self._deliveries: deque[Delivery] = deque(maxlen=DELIVERY_LOG_SIZE)
        self._tasks: set[asyncio.Task[Any]] = set()
        self._timer: asyncio.Task[None] | None = None
        self._generation = 0
        self.skipped = 0
        """Changes not sent because the subscription had not passed intent-to-receive."""

    # -- configuration -------------------------------------------------------------------------------------------

    def configure(
        self,
        *,
        url: str,
        key: str | None = None,
        verified: bool = False,
        batch_seconds: float | None = None,
        retry_delays_seconds: tuple[float, ...] | None = None,
        timeout_seconds: float | None = None,
    ) -> WebhookConfig:
        """Set the subscription (a new URL or key must pass intent-to-receive again, unless `verified`)."""
        config = WebhookConfig(url=url, key=key or new_key(), verified=verified)
        if batch_seconds is not None:
            config = replace(config, batch_seconds=batch_seconds)
        if retry_delays_seconds is not None:
            config = replace(config, retry_delays_seconds=tuple(retry_delays_seconds)[:MAX_RETRIES])
        if timeout_seconds is not None:
            config = replace(config, timeout_seconds=timeout_seconds)
        self._generation += 1
        self.config = config
        return config

    def remove(self) -> bool:
        had = self.config is not None
        self.reset()
        return had

    def reset(self) -> None:
        """Forget the subscription, what waits and what was sent; batches in flight stop at their next attempt."""
        self._generation += 1
        self.config = None
        self._pending.clear()
        self._deliveries.clear()
        self.skipped = 0
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def deliveries(self) -> list[Delivery]:
        return list(self._deliveries)

    # -- events --------------------------------------------------------------------------------------------------

    def publish(self, tenant_id: str, resource: str, event: str, resource_id: str) -> None:
        """A change in one organisation, as the store's listener reports it (`resource` one of `RESOURCE_PATHS`,
        `event` one of `EVENT_TYPES`; others are not Xero's and are not sent); sent with the organisation's next
        batch."""
        config = self.config
        if config is None or resource not in RESOURCE_PATHS or event not in EVENT_TYPES:
            return
        if not config.verified:
            self.skipped += 1
            return
        self._pending.setdefault(tenant_id, _Pending()).events.append(
            {
                "resourceUrl": f"{API_BASE}/{RESOURCE_PATHS[resource]}/{resource_id}",
                "resourceId": resource_id,
                "eventDateUtc": event_time(self.clock.now()),
                "eventType": event,
                "eventCategory": resource,
                "tenantId": tenant_id,
                "tenantType": TENANT_TYPE,
            }
        )
        self._schedule_flush(config.batch_seconds)

    def _schedule_flush(self, delay: float) -> None:
        if self._timer is not None and not self._timer.done():
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # a change made outside the server (seeding, a direct call): sent at the next flush
        self._timer = loop.create_task(self._flush_later(delay))

    async def _flush_later(self, delay: float) -> None:
        await asyncio.sleep(delay)
        self._timer = None
        await self.flush()

    def pending(self) -> dict[str, int]:
        """Changes waiting per organisation."""
        return {tenant: len(waiting.events) for tenant, waiting in self._pending.items()}

    async def flush(self) -> list[Delivery]:
        """Post every organisation's waiting changes now, one batch each; the first attempts' records (failed
        batches are retried in the background)."""
        config = self.config
        if config is None or not config.verified:
            return []
        batches = [self._batch(tenant, waiting.events) for tenant, waiting in self._pending.items() if waiting.events]
        self._pending.clear()
        generation = self._generation
        return list(await asyncio.gather(*(self._first_attempt(batch, config, generation) for batch in batches)))

    async def drain(self) -> None:
        """Wait until every batch in flight is delivered or given up (tests, with short retry delays)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def _batch(self, tenant_id: str, events: list[dict[str, Any]]) -> _Batch:
        first = self._sequence + 1
        self._sequence += len(events)
        payload = {
            "events": events,
            "firstEventSequence": first,
            "lastEventSequence": self._sequence,
            "entropy": entropy(),
        }
        return _Batch(str(uuid.uuid4()), tenant_id, encode(payload), first, self._sequence, len(events))

    async def _first_attempt(self, batch: _Batch, config: WebhookConfig, generation: int) -> Delivery:
        record = await self._attempt(batch, config, attempt=1)
        if not record.delivered and config.retry_delays_seconds:
            task = asyncio.get_running_loop().create_task(self._retry(batch, config, generation))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return record

    async def _retry(self, batch: _Batch, config: WebhookConfig, generation: int) -> None:
        for attempt, delay in enumerate(config.retry_delays_seconds, start=2):
            await asyncio.sleep(delay)
            if generation != self._generation:
                return  # reconfigured or reset meanwhile
            if (await self._attempt(batch, config, attempt=attempt)).delivered:
                return

    async def _attempt(self, batch: _Batch, config: WebhookConfig, *, attempt: int) -> Delivery:
        headers = {"content-type": "application/json", SIGNATURE_HEADER: sign(config.key, batch.body)}
        answer = await self._post(config, batch.body, headers)
        record = Delivery(
            id=batch.id,
            kind="events",
            tenant_id=batch.tenant_id,
            events=batch.events,
            first_event_sequence=batch.first,
            last_event_sequence=batch.last,
            attempt=attempt,
            delivered=answer.status_code is not None and 200 <= answer.status_code < 300,
            status_code=answer.status_code,
            error=answer.error,
            elapsed_ms=answer.elapsed_ms,
            attempted_at=self.clock.now(),
        )
        self._deliveries.append(record)
        return record

    # -- intent to receive ---------------------------------------------------------------------------------------

    async def intent_to_receive(self) -> IntentToReceive:
        """Xero's check of the URL: a correctly signed and a mis-signed empty batch, answered 200 with an empty body
        and 401 within 5 s; the subscription is enabled (`verified`) only when both are."""
        config = self.config
        if config is None:
            raise LookupError("no webhook subscription is configured")
        checks = [await self._intent_check(config, signed_correctly=True)]
        checks.append(await self._intent_check(config, signed_correctly=False))
        report = IntentToReceive(passed=all(check.passed for check in checks), checks=tuple(checks))
        if self.config is config:  # not reconfigured while checking
            self.config = replace(config, verified=report.passed)
        return report

    async def _intent_check(self, config: WebhookConfig, *, signed_correctly: bool) -> IntentCheck:
        body = encode({"events": [], "firstEventSequence": 0, "lastEventSequence": 0, "entropy": entropy()})
        key = config.key if signed_correctly else new_key()
        headers = {"content-type": "application/json", SIGNATURE_HEADER: sign(key, body)}
        answer = await self._post(config, body, headers)
        expected = 200 if signed_correctly else 401
        body_empty = answer.body == b""
        passed = answer.status_code == expected and (body_empty or not signed_correctly)
        self._deliveries.append(
            Delivery(
                id=str(uuid.uuid4()),
                kind="intent_to_receive_signed" if signed_correctly else "intent_to_receive_mis_signed",
                tenant_id=None,
                events=0,
                first_event_sequence=0,
                last_event_sequence=0,
                attempt=1,
                delivered=passed,
                status_code=answer.status_code,
                error=answer.error,
                elapsed_ms=answer.elapsed_ms,
                attempted_at=self.clock.now(),
            )
        )
        return IntentCheck(
            signed_correctly=signed_correctly,
            expected_status=expected,
            status_code=answer.status_code,
            body_empty=body_empty,
            elapsed_ms=answer.elapsed_ms,
            error=answer.error,
            passed=passed,
        )

    # -- the wire ------------------------------------------------------------------------------------------------

    async def _post(self, config: WebhookConfig, body: bytes, headers: dict[str, str]) -> "_Answer":
        started = time.monotonic()
        timeout = min(config.timeout_seconds, RESPONSE_DEADLINE_SECONDS)
        try:
            async with httpx.AsyncClient(transport=self.transport, timeout=timeout) as client:
                response = await asyncio.wait_for(client.post(config.url, content=body, headers=headers), timeout)
        except (httpx.HTTPError, TimeoutError) as failure:
            return _Answer(None, b"", (time.monotonic() - started) * 1000, f"{type(failure).__name__}: {failure}")
        elapsed = (time.monotonic() - started) * 1000
        if elapsed > timeout * 1000:
            return _Answer(None, b"", elapsed, f"answered after {elapsed:.0f} ms, over Xero's {timeout:g} s")
        return _Answer(response.status_code, response.content, elapsed, None)


@dataclass(frozen=True, slots=True)
class _Answer:
    status_code: int | None
    body: bytes
    elapsed_ms: float
    error: str | None
