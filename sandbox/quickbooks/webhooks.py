"""Outgoing webhooks, in either of Intuit's formats, signed with `intuit-signature`.

- `classic`: `{"eventNotifications": [{"realmId", "dataChangeEvent": {"entities": [{"name", "id", "operation",
  "lastUpdated"}]}}]}` with operation `Create`, `Update` or `Delete`;
- `cloudevents`: `[{"specversion": "1.0", "id", "source", "type": "qbo.bill.created.v1", "time",
  "intuitentityid", "intuitaccountid", "datacontenttype": "application/json", "data": {}}]`.

`intuit-signature` is base64(HMAC-SHA256(the subscription's verifier token, raw body)). Each change is delivered
as it happens (Intuit batches them for a few minutes; receivers must cope with either). A failed delivery is
retried after each of `webhook_retry_delays_seconds`; every attempt is recorded for the control API.
"""

import asyncio
import base64
import hashlib
import hmac
import json
import secrets
import uuid
from collections import deque
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Literal

import httpx

from sandbox.clock import SandboxClock
from sandbox.quickbooks.constants import CLOUDEVENT_VERBS, WEBHOOK_DELIVERY_LOG_SIZE, WEBHOOK_OPERATIONS
from sandbox.quickbooks.settings import QboSettings
from sandbox.quickbooks.store import Change
from sandbox.quickbooks.values import format_meta_time

WebhookFormat = Literal["classic", "cloudevents"]


def sign(verifier_token: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(verifier_token.encode(), body, hashlib.sha256).digest()).decode("ascii")


def payload(realm_id: str, change: Change, kind: WebhookFormat) -> Any:
    if kind == "classic":
        entity = {
            "name": change.entity,
            "id": change.id,
            "operation": WEBHOOK_OPERATIONS[change.operation],
            "lastUpdated": change.at.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
        }
        return {"eventNotifications": [{"realmId": realm_id, "dataChangeEvent": {"entities": [entity]}}]}
    return [
        {
            "specversion": "1.0",
            "id": str(uuid.uuid4()),
            "source": "intuit.quickbooks",
            "type": f"qbo.{change.entity.lower()}.{CLOUDEVENT_VERBS[change.operation]}.v1",
            "datacontenttype": "application/json",
            "time": format_meta_time(change.at),
            "intuitentityid": change.id,
            "intuitaccountid": realm_id,
            "data": {},
        }
    ]


@dataclass(frozen=True, slots=True)
class Subscription:
    id: str
    url: str
    verifier_token: str
    format: WebhookFormat

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Delivery:
    subscription_id: str
    realm_id: str
    entity: str
    entity_id: str
    operation: str
    attempt: int
    delivered: bool
    status_code: int | None
    error: str | None
    attempted_at: datetime

    def as_dict(self) -> dict[str, Any]:
        return asdict(self) | {"attempted_at": self.attempted_at.isoformat()}


class WebhookDispatcher:
    def __init__(self, *, clock: SandboxClock, settings: QboSettings) -> None:
        self.clock = clock
        self.settings = settings
        self.subscriptions: dict[str, Subscription] = {}
        self._deliveries: deque[Delivery] = deque(maxlen=WEBHOOK_DELIVERY_LOG_SIZE)
        self._tasks: set[asyncio.Task[None]] = set()
        self._generation = 0

    def reset(self, settings: QboSettings) -> None:
        self._generation += 1
        self.settings = settings
        self.subscriptions.clear()
        self._deliveries.clear()

    def subscribe(self, url: str, verifier_token: str | None, kind: WebhookFormat) -> Subscription:
        token = verifier_token or secrets.token_hex(16)
        subscription = Subscription("whsub-" + secrets.token_hex(6), url, token, kind)
        self.subscriptions[subscription.id] = subscription
        return subscription

    def unsubscribe(self, subscription_id: str) -> bool:
        return self.subscriptions.pop(subscription_id, None) is not None

    def deliveries(self) -> list[Delivery]:
        return list(self._deliveries)

    def publish(self, realm_id: str, change: Change) -> None:
        if not self.subscriptions:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # a change made outside the server (seeding, a direct call in a test): nobody to tell
        for subscription in self.subscriptions.values():
            body = json.dumps(payload(realm_id, change, subscription.format), separators=(",", ":")).encode()
            task = loop.create_task(self._deliver(subscription, realm_id, change, body, self._generation))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _deliver(
        self, subscription: Subscription, realm_id: str, change: Change, body: bytes, generation: int
    ) -> None:
        delays = list(self.settings.webhook_retry_delays_seconds)
        headers = {"content-type": "application/json", "intuit-signature": sign(subscription.verifier_token, body)}
        for attempt in range(1, len(delays) + 2):
            if generation != self._generation or subscription.id not in self.subscriptions:
                return
            status_code, error = None, None
            try:
                async with httpx.AsyncClient(timeout=self.settings.webhook_timeout_seconds) as client:
                    status_code = (await client.post(subscription.url, content=body, headers=headers)).status_code
            except httpx.HTTPError as failure:
                error = f"{type(failure).__name__}: {failure}"
            delivered = status_code is not None and 200 <= status_code < 300
            self._deliveries.append(
                Delivery(
                    subscription.id,
                    realm_id,
                    change.entity,
                    change.id,
                    change.operation,
                    attempt,
                    delivered,
                    status_code,
                    error,
                    self.clock.now(),
                )
            )
            if delivered or attempt > len(delays):
                return
            await asyncio.sleep(delays[attempt - 1])
