"""Which systems may post webhooks, which signature scheme each uses, and how to read an event's type.

Data first: a provider is a name, a scheme (`webhooks.verifiers`) and where its payloads keep the event type.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Final

from webhooks.constants import MAX_EVENT_TYPE_LENGTH
from webhooks.verifiers import VERIFIERS, Verifier


def _fyle_type(payload: Any) -> str | None:
    """Fyle's subscription callbacks: `{"resource": "REPORT", "action": "ADMIN_APPROVED", "data": {…}}`."""
    if not isinstance(payload, dict):
        return None
    resource, action = payload.get("resource"), payload.get("action")
    if isinstance(resource, str) and isinstance(action, str):
        return f"{resource}.{action}"
    return action if isinstance(action, str) else None


def _standard_type(payload: Any) -> str | None:
    """Standard Webhooks payloads: `{"type": "invoice.paid", "timestamp": …, "data": {…}}`."""
    if isinstance(payload, dict) and isinstance(payload.get("type"), str):
        kind: str = payload["type"]
        return kind
    return None


@dataclass(frozen=True, slots=True)
class WebhookProvider:
    name: str
    scheme: str
    event_type: Callable[[Any], str | None]

    @property
    def verifier(self) -> Verifier:
        return VERIFIERS[self.scheme]

    def event_type_of(self, payload: Any) -> str | None:
        kind = self.event_type(payload)
        return kind[:MAX_EVENT_TYPE_LENGTH] if kind else None


GENERIC_SENDER: Final = "generic"
"""Not a connector: any system that signs Standard Webhooks to start runs (so a source, never a destination)."""

PROVIDERS: Mapping[str, WebhookProvider] = MappingProxyType(
    {
        provider.name: provider
        for provider in (
            WebhookProvider("fyle", "standard-webhooks", _fyle_type),
            WebhookProvider(GENERIC_SENDER, "standard-webhooks", _standard_type),
        )
    }
)
