"""A connection's webhook signing secrets: created, rotated with a grace period, sealed with the vault.

Stored as one vault ciphertext (`connections.webhook_secrets`) of `{"secrets": [{id, secret, created_at,
expires_at}, …]}`, newest first. The newest never expires; a rotation gives the ones before it `expires_at =
now + grace`, so senders can move to the new secret without a delivery being refused.
"""

import base64
import secrets as token_source
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from connectors.registry import available_systems, connector_class
from connectors.spec import WebhookAddress
from core.crypto import CredentialVault
from sync.constants import (
    GENERIC_SENDER,
    MAX_SECRETS_PER_CONNECTION,
    SECRET_BYTES,
    SECRET_GRACE_SECONDS,
    SECRET_ID_BYTES,
    SECRET_ID_PREFIX,
    SECRET_PREFIX,
)


@dataclass(frozen=True, slots=True)
class WebhookSecret:
    id: str
    secret: str
    created_at: datetime
    expires_at: datetime | None

    def valid_at(self, now: datetime) -> bool:
        return self.expires_at is None or now < self.expires_at

    def __repr__(self) -> str:  # the dataclass default would print the secret
        return f"WebhookSecret(id={self.id!r}, created_at={self.created_at!r}, expires_at={self.expires_at!r})"


def new_secret(*, now: datetime) -> WebhookSecret:
    return WebhookSecret(
        id=SECRET_ID_PREFIX + token_source.token_hex(SECRET_ID_BYTES),
        secret=SECRET_PREFIX + base64.b64encode(token_source.token_bytes(SECRET_BYTES)).decode("ascii"),
        created_at=now,
        expires_at=None,
    )


def rotate(
    existing: Sequence[WebhookSecret], *, now: datetime, grace_seconds: float = SECRET_GRACE_SECONDS
) -> tuple[WebhookSecret, list[WebhookSecret]]:
    """A new secret, and the list to store: it first, then the still-valid previous ones, expiring after the grace
    (an earlier expiry already set is kept)."""
    created = new_secret(now=now)
    grace_end = now + timedelta(seconds=grace_seconds)
    kept = [
        replace(item, expires_at=min(item.expires_at or grace_end, grace_end))
        for item in existing
        if item.valid_at(now)
    ]
    return created, [created, *kept][:MAX_SECRETS_PER_CONNECTION]


def drop_previous(existing: Sequence[WebhookSecret]) -> list[WebhookSecret]:
    """Only the newest secret, at once valid alone."""
    return list(existing[:1])


def valid_secrets(existing: Sequence[WebhookSecret], *, now: datetime) -> list[str]:
    return [item.secret for item in existing if item.valid_at(now)]


def seal(vault: CredentialVault, existing: Sequence[WebhookSecret]) -> bytes:
    return vault.encrypt({"secrets": [_as_json(item) for item in existing]})


def unseal(vault: CredentialVault, token: bytes | None) -> list[WebhookSecret]:
    if token is None:
        return []
    return [_of_json(item) for item in vault.decrypt(token).get("secrets", [])]


def _as_json(item: WebhookSecret) -> dict[str, Any]:
    return {
        "id": item.id,
        "secret": item.secret,
        "created_at": item.created_at.isoformat(),
        "expires_at": item.expires_at.isoformat() if item.expires_at else None,
    }


def _of_json(item: dict[str, Any]) -> WebhookSecret:
    expires = item.get("expires_at")
    return WebhookSecret(
        id=item["id"],
        secret=item["secret"],
        created_at=datetime.fromisoformat(item["created_at"]),
        expires_at=datetime.fromisoformat(expires) if expires else None,
    )


@cache
def webhook_senders() -> tuple[str, ...]:
    """The providers that post webhooks to a connection's own address, so have signing secrets: every installed
    system whose spec names a webhook scheme and no app-level address (those sign with the app's one secret), and the
    generic sender."""
    systems = tuple(
        system
        for system in available_systems()
        if (spec := connector_class(system).spec).webhook_scheme and spec.webhook_address is WebhookAddress.CONNECTION
    )
    return (*systems, GENERIC_SENDER)
