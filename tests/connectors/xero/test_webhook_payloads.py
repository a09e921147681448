"""Xero's webhook payloads: split per organisation event under ids derived from content, empty batches read as the
intent-to-receive handshake, and each part read into neutral news."""

from typing import Any

import pytest

from connectors.base import WebhookHandshake, WebhookPart
from connectors.xero import webhook_payloads
from core.domain import DestinationRecordsChanged, DocumentsMayBePaid

ORG_A = "c2cc9b6e-9458-4c7d-93cc-f02b81b0594f"
ORG_B = "aef86862-2015-4b6b-88bc-d89032cecc50"


def _event(tenant: str, category: str, kind: str, resource: str, at: str = "2026-12-06T10:00:00.123") -> dict[str, Any]:
    return {
        "resourceUrl": f"https://api.xero.com/api.xro/2.0/{category.title()}s/{resource}",
        "resourceId": resource,
        "eventDateUtc": at,
        "eventType": kind,
        "eventCategory": category,
        "tenantId": tenant,
        "tenantType": "ORGANISATION",
    }


def _batch(*events: dict[str, Any], entropy: str = "S0m3r4Nd0mt3xt") -> dict[str, Any]:
    return {"events": list(events), "firstEventSequence": 1, "lastEventSequence": len(events), "entropy": entropy}


def _parts(payload: Any) -> list[WebhookPart]:
    parts = webhook_payloads.by_account(payload)
    assert isinstance(parts, list)
    return parts


@pytest.mark.parametrize("events", [[], None])
def test_an_empty_batch_is_the_intent_to_receive_handshake(events: list[Any] | None) -> None:
    payload = {"events": events, "firstEventSequence": 0, "lastEventSequence": 0, "entropy": "FMLHZNKCVK"}
    assert webhook_payloads.by_account(payload) == WebhookHandshake()


def test_a_batch_is_split_per_event_each_under_its_organisation_only() -> None:
    bill = _event(ORG_A, "INVOICE", "UPDATE", "b1")
    contact = _event(ORG_B, "CONTACT", "CREATE", "c1")
    parts = _parts(_batch(bill, contact))
    assert [(part.account_id, part.payload) for part in parts] == [
        (ORG_A, {"events": [bill]}),
        (ORG_B, {"events": [contact]}),
    ]
    assert ORG_B not in str(parts[0].payload) and ORG_A not in str(parts[1].payload)
    assert parts[0].event_id != parts[1].event_id


def test_event_ids_are_the_same_for_a_redelivery_batched_differently_and_differ_per_change() -> None:
    first = _event(ORG_A, "INVOICE", "UPDATE", "b1")
    second = _event(ORG_A, "INVOICE", "UPDATE", "b2")
    alone = _parts(_batch(first, entropy="one"))
    together = _parts(_batch(second, first, entropy="two"))
    assert alone[0].event_id == together[1].event_id
    assert together[0].event_id != together[1].event_id
    later = _parts(_batch(_event(ORG_A, "INVOICE", "UPDATE", "b1", at="2026-12-06T11:00:00.000")))
    assert later[0].event_id != alone[0].event_id
    assert all((part.event_id or "").startswith("xero:sha256:") for part in alone + together)


def test_application_events_name_no_organisation_and_are_not_stored() -> None:
    subscription = _event("0f0e", "SUBSCRIPTION", "CREATE", "s1") | {"tenantType": "APPLICATION"}
    assert _parts(_batch(subscription)) == []


@pytest.mark.parametrize(
    "payload",
    [[], "events", {"firstEventSequence": 1}, {"events": {"a": 1}}, {"events": ["not an object"]}, {"events": 3}],
)
def test_a_shape_that_is_not_xeros_is_refused(payload: Any) -> None:
    with pytest.raises(ValueError, match="Xero delivery"):
        webhook_payloads.by_account(payload)


def test_an_invoice_update_says_that_bill_may_be_paid_and_a_creation_says_nothing() -> None:
    updated = {"events": [_event(ORG_A, "INVOICE", "UPDATE", "b1")]}
    assert webhook_payloads.events(updated) == [DocumentsMayBePaid(remote_ids=("b1",))]
    assert webhook_payloads.event_type(updated) == "INVOICE.UPDATE"
    assert webhook_payloads.events({"events": [_event(ORG_A, "INVOICE", "CREATE", "b2")]}) == []


@pytest.mark.parametrize("kind", ["CREATE", "UPDATE"])
def test_a_contact_created_or_changed_asks_for_an_import_of_contacts(kind: str) -> None:
    part = {"events": [_event(ORG_A, "CONTACT", kind, "c1")]}
    assert webhook_payloads.events(part) == [DestinationRecordsChanged(attribute_types=("contact",))]
    assert webhook_payloads.event_type(part) == f"CONTACT.{kind}"


def test_other_categories_and_unreadable_parts_start_nothing() -> None:
    assert webhook_payloads.events({"events": [_event(ORG_A, "CREDITNOTE", "UPDATE", "n1")]}) == []
    assert webhook_payloads.events({"events": "garbled"}) == []
    assert webhook_payloads.event_type({"events": []}) is None
