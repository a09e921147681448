"""Which systems may post webhooks, which signature scheme each uses, and how to read an event's type.

Read from the registry: every installed connector whose spec names a `webhook_scheme`, with the connector's own
reading of its payloads (`Connector.webhook_event_type`); plus the generic sender, which signs Standard Webhooks and
names its event in `type`. No system's name or payload shape is written here.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from connectors.base import Connector
from connectors.registry import available_systems, connector_class
from sync.constants import GENERIC_SENDER
from webhooks.constants import MAX_EVENT_TYPE_LENGTH, STANDARD_WEBHOOKS_SCHEME
from webhooks.verifiers import VERIFIERS, Verifier


@dataclass(frozen=True, slots=True)
class WebhookProvider:
    name: str
    scheme: str
    event_type: Callable[[Mapping[str, Any]], str | None]

    @property
    def verifier(self) -> Verifier:
        return VERIFIERS[self.scheme]

    def event_type_of(self, payload: Any) -> str | None:
        kind = self.event_type(payload) if isinstance(payload, dict) else None
        return kind[:MAX_EVENT_TYPE_LENGTH] if kind else None


def _installed() -> list[WebhookProvider]:
    providers = []
    for system in available_systems():
        connector = connector_class(system)
        scheme = connector.spec.webhook_scheme
        if scheme is None:
            continue
        if scheme not in VERIFIERS:
            raise ValueError(f"{system}'s spec names webhook scheme {scheme!r}; known: {', '.join(sorted(VERIFIERS))}")
        providers.append(WebhookProvider(system, scheme, connector.webhook_event_type))
    return providers


PROVIDERS: Mapping[str, WebhookProvider] = MappingProxyType(
    {
        provider.name: provider
        for provider in (
            *_installed(),
            WebhookProvider(GENERIC_SENDER, STANDARD_WEBHOOKS_SCHEME, Connector.webhook_event_type),
        )
    }
)
