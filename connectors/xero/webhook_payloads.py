"""Xero webhooks read into neutral events.

Xero posts every organisation's changes to the app's one address, signed with the app's webhook key:
`{"events": [{"resourceUrl", "resourceId", "eventDateUtc", "eventType": "CREATE"|"UPDATE", "eventCategory":
"INVOICE"|"CONTACT"|…, "tenantId", "tenantType": "ORGANISATION"|"APPLICATION"}], "firstEventSequence",
"lastEventSequence", "entropy"}`. A batch with no events (`[]`, or `null` as Xero has sent it) is the
intent-to-receive check: a handshake, answered and never stored.

A delivery is split into one part per event, each under the organisation (`tenantId`) it is about, so each is
stored only for the connections of that organisation. Xero gives events no id, so each part's id is derived from the
event's content (what changed, how, when): a redelivery, even batched differently or with a new entropy, finds the
same ids. Then `events` reads a part: a contact created or changed asks for an import of contacts, an invoice
changed (a bill paid moves it to PAID) for a payments run of that bill. Application events (subscriptions) name no
organisation and are not stored.
"""

import hashlib
import json
from collections.abc import Iterator, Mapping
from typing import Any, Final

from connectors.base import WebhookHandshake, WebhookPart
from core.domain import DestinationRecordsChanged, DocumentsMayBePaid, WebhookNews

EVENTS: Final = "events"
ORGANISATION: Final = "ORGANISATION"
"""`tenantType` of an organisation's events; `APPLICATION` ones are about the app's subscription."""
EVENT_ID_PREFIX: Final = "xero:sha256:"
EVENT_ID_FIELDS: Final = ("tenantId", "eventCategory", "eventType", "resourceId", "eventDateUtc")
"""What identifies one change: the same change redelivered has the same values (`resourceUrl` is derived from them,
the batch's sequence numbers and entropy are not the event's)."""

CONTACTS: Final = "CONTACT"
CONTACT_ATTRIBUTE_TYPE: Final = "contact"
"""The attribute type Xero's contacts are imported as (`spec.yaml` streams)."""
INVOICES: Final = "INVOICE"
CHANGED: Final = frozenset({"CREATE", "UPDATE"})
PAID_ON: Final = "UPDATE"
"""A payment on a bill updates the invoice (its AmountDue, its Status to PAID); a created one is not paid yet."""


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def event_id(event: Mapping[str, Any]) -> str:
    """An id for one event derived from its content, since Xero sends none."""
    canonical = json.dumps([_text(event.get(name)) for name in EVENT_ID_FIELDS], separators=(",", ":"))
    return EVENT_ID_PREFIX + hashlib.sha256(canonical.encode()).hexdigest()


def _events(payload: Any) -> list[Mapping[str, Any]]:
    events = payload.get(EVENTS, ()) if isinstance(payload, Mapping) else None
    if isinstance(payload, Mapping) and EVENTS in payload and events is None:
        return []
    if not isinstance(payload, Mapping) or EVENTS not in payload or not isinstance(events, list):
        raise ValueError(f"a Xero delivery is an object with a list of {EVENTS}")
    if not all(isinstance(event, Mapping) for event in events):
        raise ValueError(f"every one of a Xero delivery's {EVENTS} is an object")
    return events


def by_account(payload: Any) -> list[WebhookPart] | WebhookHandshake:
    """A verified delivery split into one part per organisation event; a handshake when it holds no events;
    `ValueError` when it is not Xero's shape."""
    events = _events(payload)
    if not events:
        return WebhookHandshake()
    return [
        WebhookPart(account_id=_text(event.get("tenantId")), payload={EVENTS: [dict(event)]}, event_id=event_id(event))
        for event in events
        if _text(event.get("tenantType")) == ORGANISATION
    ]


def _changes(payload: Mapping[str, Any]) -> Iterator[tuple[str, str, str]]:
    """(category, type, resource id) of every event of a part, upper case as Xero spells them."""
    events = payload.get(EVENTS)
    for event in events if isinstance(events, list) else []:
        if isinstance(event, Mapping):
            yield (
                _text(event.get("eventCategory")).upper(),
                _text(event.get("eventType")).upper(),
                _text(event.get("resourceId")),
            )


def event_type(payload: Mapping[str, Any]) -> str | None:
    """A part's changes as `INVOICE.UPDATE`, each kind once, in order."""
    kinds = {f"{category}.{kind}": None for category, kind, _ in _changes(payload)}
    return ",".join(kinds) or None


def events(payload: Mapping[str, Any]) -> list[WebhookNews]:
    """What one organisation's part says, in neutral terms: contacts changed (an import), invoices updated (a
    payments run for them). Other categories (credit notes, subscriptions) start nothing."""
    contacts = False
    bills: dict[str, None] = {}
    for category, kind, resource_id in _changes(payload):
        if category == CONTACTS and kind in CHANGED:
            contacts = True
        elif category == INVOICES and kind == PAID_ON and resource_id:
            bills[resource_id] = None
    news: list[WebhookNews] = []
    if contacts:
        news.append(DestinationRecordsChanged(attribute_types=(CONTACT_ATTRIBUTE_TYPE,)))
    if bills:
        news.append(DocumentsMayBePaid(remote_ids=tuple(bills)))
    return news
