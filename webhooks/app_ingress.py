"""Receiving a delivery at a system's one address per app (`POST /webhooks/{provider}`, spec `webhook_address: app`):
QuickBooks Online posts every company's changes to one URL, signed with one verifier token, and names in each part
the account (realm) it is about.

The same order of checks and protections as the per-connection route (`webhooks.ingress`), each answering
problem+json and never a 500:

1. unknown provider, or one that posts per connection → 404; content type → 415 (the body cap ran before the route).
2. the signature over the raw bytes, against the app's secret from Ledgerline's settings (`Settings.connector_app`,
   the spec's `webhook_secret_field`) — pure, no I/O, so a forgery costs a hash. A failure is 401 and counted per
   source address and overall (`webhooks.failure_limit`); once a budget is spent an unverifiable delivery is 429 with
   Retry-After, while deliveries that verify keep being taken.
3. the JSON is parsed only once the signature holds (malformed → 400), then the connector splits it by account
   (`Connector.webhook_parts`); a shape it cannot read is 400. A delivery the connector calls a handshake (the sender
   checking the address before it sends events, an intent-to-receive check) is answered 200 with an empty body at once,
   with no database work, and stores nothing; a mis-signed one was already refused (401) as any forgery. A system
   whose spec says `webhook_answer: empty` has every delivery taken answered so too (its sender accepts nothing else).
4. one transaction (`webhooks.store`): every connection of the named accounts is found across tenants by the
   owner-run lookup, then for each one the transaction acts for its tenant (row-level security checks the insert) and
   stores that account's part only, under an id of its own, with `ON CONFLICT DO NOTHING`; one `COMMIT` before the
   answer. Each connection's rate of verified deliveries and its inbox are checked as on the per-connection route: a
   part held back by either is not stored, the others are, and the answer is 429 with Retry-After so the sender
   delivers again — the stored parts then deduplicate and the held one gets its turn.
5. an account no connection holds is acknowledged and dropped (counted, logged): the sender retries failures and
   would retry it forever. Disabled connections store their events like on the per-connection route; what an event
   then starts is the handler's to decide.
6. after the commit, the caller rings the dispatcher once per stored event (`announce`).
"""

import hashlib
import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Final

from psycopg import AsyncConnection

from connectors.base import WebhookHandshake, WebhookPart
from connectors.spec import WebhookAddress, WebhookAnswer
from core.log import get_logger
from core.metrics import WEBHOOKS
from web.problems import Problem
from webhooks.constants import (
    BODY_DIGEST_PREFIX,
    INBOX_RETRY_AFTER_SECONDS,
    MAX_ACCOUNT_ID_LENGTH,
    MAX_EVENT_ID_LENGTH,
    MAX_PARTS_PER_DELIVERY,
    UNKNOWN_SOURCE,
)
from webhooks.ingress import WebhookIngress, is_json_media, parse_json
from webhooks.providers import PROVIDERS, WebhookProvider
from webhooks.store import AccountConnection, begin_find_by_account, commit, inbox_depth, insert_event, scope_to_tenant
from webhooks.verifiers import Accepted, SignatureRejected, SignedRequest

log = get_logger(__name__)

UNCLAIMED_OUTCOME: Final = "unclaimed_account"
"""`ledgerline_webhooks_total` outcome counted once per account a delivery names that no connection holds."""


@dataclass(frozen=True, slots=True)
class AppDelivery:
    provider: str
    headers: Mapping[str, str]
    body: bytes
    content_type: str | None = None
    source: str = UNKNOWN_SOURCE
    received_at: float = field(default_factory=lambda: datetime.now(UTC).timestamp())


@dataclass(frozen=True, slots=True)
class StoredEvent:
    tenant_id: uuid.UUID
    event_row_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class AppReceipt:
    """What the endpoint answers, and the newly stored events to announce once it has."""

    status: int
    outcome: str
    stored: tuple[StoredEvent, ...] = ()
    connections: int = 0
    """Connections the delivery's accounts map to (stored, redelivered or held back)."""
    unclaimed: tuple[str, ...] = ()
    """Accounts no connection holds."""
    retry_after: int | None = None
    empty: bool = False
    """Answered 200 with an empty body: a verified handshake, or any delivery taken from a system whose spec says
    `webhook_answer: empty`."""

    def as_body(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome,
            "events_stored": len(self.stored),
            "connections": self.connections,
            "unclaimed_accounts": len(self.unclaimed),
        }


def _refuse(status: int, detail: str, *, problem: str, headers: dict[str, str] | None = None) -> Problem:
    return Problem(status, detail, problem=problem, headers=headers)


def part_event_id(part: WebhookPart) -> str:
    """The sender's id of the part when it gives a storable one; else a digest of the account and the part's
    content, so a redelivery (even batched differently) finds the same id and one delivery's accounts do not."""
    if part.event_id and len(part.event_id) <= MAX_EVENT_ID_LENGTH:
        return part.event_id
    canonical = json.dumps([part.account_id, part.payload], sort_keys=True, separators=(",", ":"))
    return BODY_DIGEST_PREFIX + hashlib.sha256(canonical.encode()).hexdigest()


def _provider(name: str) -> WebhookProvider:
    provider = PROVIDERS.get(name)
    if provider is None or provider.address is not WebhookAddress.APP:
        app_level = sorted(known for known, each in PROVIDERS.items() if each.address is WebhookAddress.APP)
        raise _refuse(
            404,
            f"Ledgerline takes no app-level webhooks from {name!r}; systems posting to one address per app: "
            f"{', '.join(app_level) or 'none'}. Others post to /webhooks/{{provider}}/{{connection key}}.",
            problem="unknown-provider",
        )
    return provider


class AppWebhookIngress:
    """The app-level route's half of the ingress; it shares the per-connection ingress's pool, limits, failure
    budgets and bell (one of each per process)."""

    def __init__(self, ingress: WebhookIngress, *, app_credentials: Callable[[str], Mapping[str, str]]) -> None:
        """`app_credentials`: Ledgerline's credentials with a system (`Settings.connector_app`), read per delivery so
        no copy of the secret outlives it here."""
        self.ingress = ingress
        self._credentials = app_credentials

    def _secrets(self, provider: WebhookProvider) -> list[str]:
        secret = self._credentials(provider.name).get(provider.secret_field or "", "")
        return [secret] if secret else []

    async def receive(self, *, delivery: AppDelivery) -> AppReceipt:
        provider = _provider(delivery.provider)
        if not is_json_media(delivery.content_type):
            raise _refuse(
                415,
                f"Send the webhook as application/json; got {(delivery.content_type or 'no Content-Type')[:100]}.",
                problem="unsupported-media-type",
            )
        limits = self.ingress.limits
        blocked = self.ingress.failures.refusal(delivery.source, window_seconds=limits.failure_window_seconds)
        try:
            self._verify(provider, delivery, blocked=blocked)
        except Problem as refused:
            if refused.status == 401:
                await self.ingress.failures.record(
                    delivery.source,
                    per_address=limits.failures_per_address,
                    overall=limits.failures_overall,
                    window_seconds=limits.failure_window_seconds,
                )
            raise
        payload, _ = parse_json(delivery.body)
        parts = self._parts(provider, payload)
        if isinstance(parts, WebhookHandshake):
            log.info("webhook_handshake", provider=provider.name)
            return AppReceipt(status=200, outcome="handshake", empty=True)
        if not parts:
            receipt = AppReceipt(status=200, outcome="ignored")
        else:
            receipt = await self.ingress.guarded(provider.name, lambda: self._store(provider, parts))
        if provider.answer is WebhookAnswer.EMPTY and receipt.retry_after is None:
            return replace(receipt, status=200, empty=True)
        return receipt

    def _verify(self, provider: WebhookProvider, delivery: AppDelivery, *, blocked: int | None) -> Accepted:
        secrets = self._secrets(provider)
        signed = SignedRequest(headers=delivery.headers, body=delivery.body, now=delivery.received_at)
        try:
            if not secrets:
                raise SignatureRejected("no secret", problem="no-webhook-secret")
            verdict = provider.verifier.verify(signed, secrets)
        except SignatureRejected as exc:
            log.info("webhook_rejected", provider=provider.name, problem=exc.problem, app_level=True)
            if blocked is not None:
                raise _refuse(
                    429,
                    "Too many deliveries that failed verification came from this address, or from everywhere, "
                    "lately; signed deliveries are still taken. Retry after the indicated delay.",
                    problem="too-many-failures",
                    headers={"Retry-After": str(blocked)},
                ) from None
            if not secrets:
                log.warning("webhook_app_secret_missing", provider=provider.name, field=provider.secret_field)
                raise _refuse(
                    401,
                    f"Ledgerline has no {provider.name} webhook secret configured: set {provider.secret_field} in "
                    f"LEDGERLINE_CONNECTOR_APPS[{provider.name}].",
                    problem="no-webhook-secret",
                ) from None
            raise _refuse(401, exc.reason, problem=exc.problem) from None
        if not isinstance(verdict, Accepted):  # app-level handshakes are read from the parsed payload, not here
            raise _refuse(400, "This delivery is a handshake, which this address does not take.", problem="handshake")
        return verdict

    def _parts(self, provider: WebhookProvider, payload: Any) -> list[WebhookPart] | WebhookHandshake:
        try:
            parts = provider.parts(payload)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            log.info("webhook_unreadable", provider=provider.name, error=type(exc).__name__)
            parts = None
        if isinstance(parts, WebhookHandshake):
            return parts
        if parts is None or len(parts) > MAX_PARTS_PER_DELIVERY:
            raise _refuse(
                400,
                f"The payload is not a {provider.name} delivery Ledgerline can read "
                f"(or names more than {MAX_PARTS_PER_DELIVERY} parts).",
                problem="malformed-payload",
            )
        return [part for part in parts if part.account_id and len(part.account_id) <= MAX_ACCOUNT_ID_LENGTH]

    async def _store(self, provider: WebhookProvider, parts: Sequence[WebhookPart]) -> AppReceipt:
        """The transaction: find the accounts' connections, then for each one act for its tenant, check its rate and
        inbox, and insert its part; commit once."""
        ingress, limits = self.ingress, self.ingress.limits
        accounts = sorted({part.account_id for part in parts})
        stored: list[StoredEvent] = []
        held_back: list[int] = []
        async with ingress.pool.connection(wait_seconds=limits.pool_wait_seconds) as connection:
            found = await begin_find_by_account(
                connection, provider=provider.name, setting=provider.account_setting or "", accounts=accounts
            )
            by_account: dict[str, list[AccountConnection]] = {}
            for each in found:
                by_account.setdefault(each.account_id, []).append(each)
            for owner in found:
                await scope_to_tenant(connection, owner.tenant_id)
                retry = await self._held_back(connection, owner)
                if retry is not None:
                    held_back.append(retry)
                    continue
                for part in parts:
                    if part.account_id != owner.account_id:
                        continue
                    row_id = await insert_event(
                        connection,
                        found=owner,
                        provider=provider.name,
                        event_id=part_event_id(part),
                        event_type=provider.event_type_of(part.payload),
                        payload_json=json.dumps(part.payload),
                    )
                    if row_id is not None:
                        stored.append(StoredEvent(tenant_id=owner.tenant_id, event_row_id=row_id))
            await commit(connection)
        unclaimed = tuple(account for account in accounts if account not in by_account)
        if unclaimed:
            WEBHOOKS.labels(provider.name, UNCLAIMED_OUTCOME).inc(len(unclaimed))
            log.info("webhook_accounts_unclaimed", provider=provider.name, accounts=len(unclaimed))
        if held_back:
            status, outcome, retry_after = 429, "held_back", max(held_back)
        elif stored:
            status, outcome, retry_after = 202, "accepted", None
        else:
            status, outcome, retry_after = 200, "duplicate" if found else "unclaimed", None
        return AppReceipt(
            status=status,
            outcome=outcome,
            stored=tuple(stored),
            connections=len(found),
            unclaimed=unclaimed,
            retry_after=retry_after,
        )

    async def _held_back(self, connection: AsyncConnection[Any], owner: AccountConnection) -> int | None:
        """Seconds to wait when this connection takes no more now (its rate of deliveries, or its inbox is full);
        None when it takes the part. The transaction already acts for the connection's tenant."""
        ingress, limits = self.ingress, self.ingress.limits
        decision = await ingress.limiter.hit(
            str(owner.connection_id), limit=limits.rate_limit_requests, window_seconds=limits.rate_limit_window_seconds
        )
        if not decision.allowed:
            log.info("webhook_part_rate_limited", connection_id=str(owner.connection_id))
            return decision.retry_after_seconds
        full = ingress.inbox.known_full(owner.connection_id)
        if full is None:
            depth = await inbox_depth(connection, connection_id=owner.connection_id, limit=limits.inbox_limit)
            full = depth >= limits.inbox_limit
            ingress.inbox.record(owner.connection_id, full=full, fresh_for_seconds=limits.inbox_check_every_seconds)
        if full:
            log.info("webhook_part_inbox_full", connection_id=str(owner.connection_id))
            return INBOX_RETRY_AFTER_SECONDS
        return None

    async def announce(self, *, receipt: AppReceipt) -> None:
        """Ring the bell once per newly stored event, after the commit (see `WebhookIngress.announce`)."""
        for event in receipt.stored:
            await self.ingress.bell.ring(tenant_id=event.tenant_id, event_row_id=event.event_row_id)
