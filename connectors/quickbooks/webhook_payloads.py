"""QuickBooks Online webhooks, in both of Intuit's formats, read into neutral events.

- classic: `{"eventNotifications": [{"realmId", "dataChangeEvent": {"entities": [{"name": "Bill", "id": "145",
  "operation": "Create", "lastUpdated"}]}}]}`, one notification per company;
- CloudEvents: `[{"specversion": "1.0", "id", "type": "qbo.bill.created.v1", "intuitaccountid", "intuitentityid",
  "time", "data"}]`, one element per change.

Intuit posts every company's changes to the app's one address, so a delivery is first split by company
(`by_account`): a classic delivery into one part per realm (its notifications), a CloudEvents one into one part per
event (its own id deduplicates). Each part is stored as an event of the connections of that realm only; `events`
then reads a part: imported objects that changed ask for an import, bills and bill payments for a payments run.
"""

from collections.abc import Iterator, Mapping
from typing import Any, Final

from connectors.base import WebhookPart
from core.domain import DestinationRecordsChanged, DocumentsMayBePaid, WebhookNews

NOTIFICATIONS: Final = "eventNotifications"
CLOUDEVENTS_VERSION_FIELD: Final = "specversion"
CLOUDEVENTS_ACCOUNT_FIELD: Final = "intuitaccountid"
CLOUDEVENTS_ENTITY_ID_FIELD: Final = "intuitentityid"
CLOUDEVENTS_TYPE_PREFIX: Final = "qbo."
"""`qbo.<entity, lower case>.<verb>.v<n>`."""

ATTRIBUTE_TYPES: Final = {
    "account": "account",
    "vendor": "vendor",
    "employee": "employee",
    "customer": "customer",
    "class": "class",
    "department": "department",
    "item": "item",
    "taxcode": "tax_code",
}
"""QuickBooks entity (lower case, as CloudEvents types spell it) → the attribute type it is imported as."""
PAID_DOCUMENTS: Final = "bill"
"""A changed bill may have been paid (a payment lowers its Balance and moves its SyncToken on)."""
PAYMENTS: Final = "billpayment"
"""A bill payment names only itself: which bills it paid is read by the payments run."""


def _is_cloudevent(item: Any) -> bool:
    return isinstance(item, Mapping) and CLOUDEVENTS_VERSION_FIELD in item


def _text(value: Any) -> str:
    """An id as text: Intuit sends realm and entity ids as strings, but a number is read the same."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        return ""
    return str(value).strip()


def by_account(payload: Any) -> list[WebhookPart]:
    """A verified delivery split by the company (realm) each part is about; `ValueError` when it is neither format."""
    if isinstance(payload, list):
        if not all(_is_cloudevent(item) for item in payload):
            raise ValueError("a JSON array delivery must hold CloudEvents")
        return [
            WebhookPart(
                account_id=_text(item.get(CLOUDEVENTS_ACCOUNT_FIELD)),
                payload=dict(item),
                event_id=_text(item.get("id")) or None,
            )
            for item in payload
        ]
    if _is_cloudevent(payload):  # a lone CloudEvent, not in an array
        return by_account([payload])
    notifications = payload.get(NOTIFICATIONS) if isinstance(payload, Mapping) else None
    if not isinstance(notifications, list) or not all(isinstance(item, Mapping) for item in notifications):
        raise ValueError(f"a delivery is a CloudEvents array or an object with {NOTIFICATIONS}")
    by_realm: dict[str, list[Any]] = {}
    for notification in notifications:
        by_realm.setdefault(_text(notification.get("realmId")), []).append(dict(notification))
    return [WebhookPart(account_id=realm, payload={NOTIFICATIONS: items}) for realm, items in by_realm.items()]


def _classic_entities(payload: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """Every `dataChangeEvent` entity of a classic part; nothing of a part of any other shape."""
    notifications = payload.get(NOTIFICATIONS)
    for notification in notifications if isinstance(notifications, list) else []:
        change = notification.get("dataChangeEvent") if isinstance(notification, Mapping) else None
        entities = change.get("entities") if isinstance(change, Mapping) else None
        yield from (
            entity for entity in (entities if isinstance(entities, list) else []) if isinstance(entity, Mapping)
        )


def _changes(payload: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """(entity in lower case, its id) of every change a part reports."""
    if _is_cloudevent(payload):
        kind = _text(payload.get("type")).lower()
        if kind.startswith(CLOUDEVENTS_TYPE_PREFIX):
            name = kind.removeprefix(CLOUDEVENTS_TYPE_PREFIX).partition(".")[0]
            yield name, _text(payload.get(CLOUDEVENTS_ENTITY_ID_FIELD))
        return
    for entity in _classic_entities(payload):
        yield _text(entity.get("name")).lower(), _text(entity.get("id"))


def event_type(payload: Mapping[str, Any]) -> str | None:
    """A CloudEvent's own type (`qbo.bill.created.v1`); for a classic part, its changes as `Bill.Create`, each kind
    once, in order."""
    if _is_cloudevent(payload):
        kind = payload.get("type")
        return kind if isinstance(kind, str) else None
    kinds = {
        f"{_text(entity.get('name'))}.{_text(entity.get('operation'))}": None for entity in _classic_entities(payload)
    }
    return ",".join(kinds) or None


def events(payload: Mapping[str, Any]) -> list[WebhookNews]:
    """What one company's part says, in neutral terms: the attribute types whose records changed (an import), the
    bills that changed (a payments run), and, for a bill payment, a payments run for bills it does not name."""
    types: dict[str, None] = {}
    bills: dict[str, None] = {}
    payment = False
    for entity, remote_id in _changes(payload):
        if entity in ATTRIBUTE_TYPES:
            types[ATTRIBUTE_TYPES[entity]] = None
        elif entity == PAID_DOCUMENTS and remote_id:
            bills[remote_id] = None
        elif entity == PAYMENTS:
            payment = True
    news: list[WebhookNews] = []
    if types:
        news.append(DestinationRecordsChanged(attribute_types=tuple(types)))
    if bills:
        news.append(DocumentsMayBePaid(remote_ids=tuple(bills)))
    if payment:
        news.append(DocumentsMayBePaid())
    return news
