"""Which systems may post webhooks, which signature scheme each uses, and how to read an event's type.

Read from the registry: every installed connector whose spec names a `webhook_scheme`, with the connector's own
reading of its payloads (`Connector.webhook_event_type`, and `Connector.webhook_parts` for a system posting to one
address per app); plus the generic sender, which signs Standard Webhooks and names its event in `type`. No system's
name or payload shape is written here.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from connectors.base import Connector, WebhookHandshake, WebhookPart
from connectors.registry import available_systems, connector_class
from connectors.spec import WebhookAddress, WebhookAnswer
from sync.constants import GENERIC_SENDER
from sync.webhook_secrets import webhook_senders
from webhooks.constants import MAX_EVENT_TYPE_LENGTH, STANDARD_WEBHOOKS_SCHEME
from webhooks.verifiers import VERIFIERS, Verifier


def _no_parts(payload: Any) -> list[WebhookPart] | WebhookHandshake:
    return []


@dataclass(frozen=True, slots=True)
class WebhookProvider:
    name: str
    scheme: str
    event_type: Callable[[Mapping[str, Any]], str | None]
    address: WebhookAddress = WebhookAddress.CONNECTION
    account_setting: str | None = None
    """App-level systems: the connection setting holding the account id a delivery names."""
    secret_field: str | None = None
    """App-level systems: the app credential (`Settings.connector_app`) holding the signing secret."""
    answer: WebhookAnswer = WebhookAnswer.DETAILED
    """App-level systems: how a delivery taken is answered."""
    parts: Callable[[Any], list[WebhookPart] | WebhookHandshake] = _no_parts
    """App-level systems: a verified payload split by account, or a handshake (`Connector.webhook_parts`)."""

    @property
    def verifier(self) -> Verifier:
        return VERIFIERS[self.scheme]

    def event_type_of(self, payload: Any) -> str | None:
        kind = self.event_type(payload) if isinstance(payload, dict) else None
        return kind[:MAX_EVENT_TYPE_LENGTH] if kind else None


def _provider(sender: str) -> WebhookProvider:
    if sender == GENERIC_SENDER:
        return WebhookProvider(GENERIC_SENDER, STANDARD_WEBHOOKS_SCHEME, Connector.webhook_event_type)
    connector = connector_class(sender)
    scheme = connector.spec.webhook_scheme or ""
    if scheme not in VERIFIERS:
        raise ValueError(f"{sender}'s spec names webhook scheme {scheme!r}; known: {', '.join(sorted(VERIFIERS))}")
    spec = connector.spec
    return WebhookProvider(
        sender,
        scheme,
        connector.webhook_event_type,
        address=spec.webhook_address,
        account_setting=spec.webhook_account_setting,
        secret_field=spec.webhook_secret_field,
        parts=connector.webhook_parts,
        answer=spec.webhook_answer,
    )


def _senders() -> tuple[str, ...]:
    """Every provider that posts webhooks: those with secrets per connection, and those signing for the whole app."""
    app_level = (
        system
        for system in available_systems()
        if (spec := connector_class(system).spec).webhook_scheme and spec.webhook_address is WebhookAddress.APP
    )
    return (*webhook_senders(), *app_level)


PROVIDERS: Mapping[str, WebhookProvider] = MappingProxyType({sender: _provider(sender) for sender in _senders()})
