"""QuickBooks webhook payloads in both formats: split by realm, typed, and read into neutral events (imports for
the imported objects, payments runs for bills and bill payments), using the simulator's own payload builder."""

from datetime import UTC, datetime
from typing import Any

import pytest

from connectors.quickbooks import CONNECTOR, webhook_payloads
from core.domain import DestinationRecordsChanged, DocumentsMayBePaid
from sandbox.quickbooks.store import Change
from sandbox.quickbooks.webhooks import payload as simulated

AT = datetime(2026, 12, 6, 10, tzinfo=UTC)


def _change(entity: str, remote_id: str, operation: str = "update") -> Change:
    return Change(entity=entity, id=remote_id, operation=operation, at=AT)


@pytest.mark.parametrize("kind", ["classic", "cloudevents"])
def test_every_imported_object_asks_for_an_import_of_its_attribute_type(kind: Any) -> None:
    expected = {
        "Account": "account",
        "Vendor": "vendor",
        "Employee": "employee",
        "Customer": "customer",
        "Class": "class",
        "Department": "department",
        "Item": "item",
        "TaxCode": "tax_code",
    }
    for entity, attribute_type in expected.items():
        [part] = webhook_payloads.by_account(simulated("123", _change(entity, "9"), kind))
        assert part.account_id == "123"
        assert webhook_payloads.events(part.payload) == [DestinationRecordsChanged(attribute_types=(attribute_type,))]


@pytest.mark.parametrize("kind", ["classic", "cloudevents"])
def test_bills_ask_for_payments_by_id_and_bill_payments_without_ids(kind: Any) -> None:
    [bill] = webhook_payloads.by_account(simulated("1", _change("Bill", "145"), kind))
    assert webhook_payloads.events(bill.payload) == [DocumentsMayBePaid(remote_ids=("145",))]
    [payment] = webhook_payloads.by_account(simulated("1", _change("BillPayment", "77", "create"), kind))
    assert webhook_payloads.events(payment.payload) == [DocumentsMayBePaid()]
    [other] = webhook_payloads.by_account(simulated("1", _change("Purchase", "5"), kind))
    assert webhook_payloads.events(other.payload) == []


def test_a_classic_delivery_is_split_by_realm_and_names_its_changes() -> None:
    payload = {
        "eventNotifications": [
            {"realmId": "1", "dataChangeEvent": {"entities": [{"name": "Bill", "id": "1", "operation": "Create"}]}},
            {"realmId": 2, "dataChangeEvent": {"entities": [{"name": "Vendor", "id": "4", "operation": "Merge"}]}},
            {
                "realmId": "1",
                "dataChangeEvent": {
                    "entities": [
                        {"name": "Vendor", "id": "2", "operation": "Update"},
                        {"name": "Account", "id": "3", "operation": "Create"},
                        {"name": "Bill", "id": "1", "operation": "Update"},
                    ]
                },
            },
        ]
    }
    parts = {part.account_id: part for part in webhook_payloads.by_account(payload)}
    assert set(parts) == {"1", "2"} and parts["1"].event_id is None
    assert len(parts["1"].payload["eventNotifications"]) == 2
    assert webhook_payloads.event_type(parts["1"].payload) == "Bill.Create,Vendor.Update,Account.Create,Bill.Update"
    assert webhook_payloads.events(parts["1"].payload) == [
        DestinationRecordsChanged(attribute_types=("vendor", "account")),
        DocumentsMayBePaid(remote_ids=("1",)),
    ]
    assert CONNECTOR.webhook_event_type(parts["2"].payload) == "Vendor.Merge"


def test_cloudevents_are_one_part_each_under_their_own_id_and_type() -> None:
    events = simulated("1", _change("Bill", "1", "create"), "cloudevents") + simulated(
        "2", _change("Vendor", "2"), "cloudevents"
    )
    parts = CONNECTOR.webhook_parts(events)
    assert [(part.account_id, part.event_id) for part in parts] == [("1", events[0]["id"]), ("2", events[1]["id"])]
    assert CONNECTOR.webhook_event_type(parts[0].payload) == "qbo.bill.created.v1"
    assert webhook_payloads.by_account(events[0])[0].event_id == events[0]["id"]  # a lone CloudEvent


@pytest.mark.parametrize(
    "unreadable", [{"other": 1}, {"eventNotifications": "x"}, {"eventNotifications": [1]}, [{"id": "no version"}], [3]]
)
def test_shapes_of_neither_format_are_refused(unreadable: Any) -> None:
    with pytest.raises(ValueError):
        webhook_payloads.by_account(unreadable)


def test_odd_values_inside_a_readable_shape_start_nothing_rather_than_fail() -> None:
    odd = {"eventNotifications": [{"realmId": True, "dataChangeEvent": {"entities": [None, {"name": 5}]}}]}
    [part] = webhook_payloads.by_account(odd)
    assert part.account_id == "" and webhook_payloads.events(part.payload) == []
    assert webhook_payloads.event_type({"specversion": "1.0", "type": 3}) is None
    assert webhook_payloads.events({"specversion": "1.0", "type": "other.bill.created"}) == []
