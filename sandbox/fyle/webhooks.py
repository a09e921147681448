"""Outgoing webhooks, signed per Standard Webhooks and delivered in the background with retries.

Payload (the spec's callback of `POST /admin/subscriptions`, schema `report_out_subscriptions_admin`)::

    {"resource": "REPORT", "action": "ADMIN_APPROVED", "reason": "Admin approved the report.",
     "data": {<report_out>, "updated_by_user": {"id", "email", "full_name"}}}

Actions: `ADMIN_APPROVED`, `STATE_CHANGE_PAYMENT_PROCESSING`, `MARK_PAID`, `ACCOUNTING_EXPORT_INITIATED` (the spec's
enum), and `STATE_CHANGE_<STATE>` for the moves the enum does not name (e.g. `STATE_CHANGE_APPROVER_PENDING`).

Headers: `webhook-id` (`msg_…`, the same on every attempt), `webhook-timestamp` (the sandbox clock at the attempt,
so a test that moves the clock can produce stale deliveries) and `webhook-signature`
(`v1,<base64(HMAC-SHA256(base64-decoded secret, "{id}.{timestamp}.{body}"))>`).

A delivery succeeds on any 2xx; otherwise it is retried after each of `webhook_retry_delays_seconds`. Every attempt
is recorded for the control API. A reset abandons deliveries still pending.
"""

import asyncio
import base64
import hashlib
import hmac
import json
import secrets
import time
from collections import deque
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

import httpx

from sandbox.clock import SandboxClock
from sandbox.fyle.constants import WEBHOOK_DELIVERY_LOG_SIZE, WEBHOOK_SECRET_BYTES, WEBHOOK_SECRET_PREFIX
from sandbox.fyle.settings import FyleSettings


def new_secret() -> str:
    return WEBHOOK_SECRET_PREFIX + base64.b64encode(secrets.token_bytes(WEBHOOK_SECRET_BYTES)).decode("ascii")


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` header value for one attempt."""
    key = base64.b64decode(secret.removeprefix(WEBHOOK_SECRET_PREFIX))
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def valid_secret(secret: str) -> bool:
    if not secret.startswith(WEBHOOK_SECRET_PREFIX):
        return False
    try:
        return bool(base64.b64decode(secret.removeprefix(WEBHOOK_SECRET_PREFIX), validate=True))
    except ValueError:
        return False


@dataclass(frozen=True, slots=True)
class Subscription:
    id: str
    url: str
    secret: str
    created_at: datetime

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "url": self.url, "secret": self.secret, "created_at": self.created_at.isoformat()}


@dataclass(frozen=True, slots=True)
class Delivery:
    """One attempt to deliver one message to one subscription."""

    message_id: str
    subscription_id: str
    url: str
    resource: str
    resource_id: str
    action: str
    attempt: int
    delivered: bool
    status_code: int | None
    error: str | None
    attempted_at: datetime
    duration_ms: float
    retry_in_seconds: float | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self) | {"attempted_at": self.attempted_at.isoformat()}


@dataclass(frozen=True, slots=True)
class Message:
    id: str
    resource: str
    resource_id: str
    action: str
    body: bytes = field(repr=False)


class WebhookDispatcher:
    def __init__(self, *, clock: SandboxClock, settings: FyleSettings) -> None:
        self.clock = clock
        self.settings = settings
        self.subscriptions: dict[str, Subscription] = {}
        self._deliveries: deque[Delivery] = deque(maxlen=WEBHOOK_DELIVERY_LOG_SIZE)
        self._tasks: set[asyncio.Task[None]] = set()
        self._generation = 0

    def subscribe(self, url: str, secret: str | None = None) -> Subscription:
        subscription = Subscription(
            id="sub" + secrets.token_hex(6), url=url, secret=secret or new_secret(), created_at=self.clock.now()
        )
        self.subscriptions[subscription.id] = subscription
        return subscription

    def unsubscribe(self, subscription_id: str) -> bool:
        return self.subscriptions.pop(subscription_id, None) is not None

    def deliveries(self) -> list[Delivery]:
        return list(self._deliveries)

    def reset(self) -> None:
        """Forget subscriptions and deliveries; attempts still in flight notice and stop."""
        self._generation += 1
        self.subscriptions.clear()
        self._deliveries.clear()

    def publish(self, *, resource: str, resource_id: str, action: str, payload: dict[str, Any]) -> None:
        """Queue one message per subscription; must be called on the server's event loop."""
        if not self.subscriptions:
            return
        body = json.dumps(payload, separators=(",", ":")).encode()
        message = Message("msg_" + secrets.token_hex(12), resource, resource_id, action, body)
        loop = asyncio.get_running_loop()
        for subscription in self.subscriptions.values():
            task = loop.create_task(self._deliver(subscription, message, self._generation))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _deliver(self, subscription: Subscription, message: Message, generation: int) -> None:
        delays = list(self.settings.webhook_retry_delays_seconds)
        for attempt in range(1, len(delays) + 2):
            if generation != self._generation or subscription.id not in self.subscriptions:
                return
            attempted_at = self.clock.now()
            timestamp = int(attempted_at.timestamp())
            headers = {
                "content-type": "application/json",
                "webhook-id": message.id,
                "webhook-timestamp": str(timestamp),
                "webhook-signature": sign(subscription.secret, message.id, timestamp, message.body),
            }
            started = time.perf_counter()
            status_code, error = None, None
            try:
                async with httpx.AsyncClient(timeout=self.settings.webhook_timeout_seconds) as client:
                    response = await client.post(subscription.url, content=message.body, headers=headers)
                status_code = response.status_code
            except httpx.HTTPError as failure:
                error = f"{type(failure).__name__}: {failure}"
            delivered = status_code is not None and 200 <= status_code < 300
            retry_in = None if delivered or attempt > len(delays) else delays[attempt - 1]
            if generation != self._generation:
                return
            self._deliveries.append(
                Delivery(
                    message_id=message.id,
                    subscription_id=subscription.id,
                    url=subscription.url,
                    resource=message.resource,
                    resource_id=message.resource_id,
                    action=message.action,
                    attempt=attempt,
                    delivered=delivered,
                    status_code=status_code,
                    error=error,
                    attempted_at=attempted_at,
                    duration_ms=round((time.perf_counter() - started) * 1000, 3),
                    retry_in_seconds=retry_in,
                )
            )
            if retry_in is None:
                return
            await asyncio.sleep(retry_in)
