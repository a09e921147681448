"""The query language, batch and change data capture over the wire."""

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.sandbox.quickbooks.conftest import Qbo, bill_body, fault_of, query


def make_bills(api: httpx.Client, count: int, prefix: str = "Q") -> list[dict[str, Any]]:
    bills = []
    for number in range(count):
        response = api.post("/bill", json=bill_body(api, doc_number=f"{prefix}-{number:03d}"))
        assert response.status_code == 200, response.text
        bills.append(response.json()["Bill"])
    return bills


def test_query_response_shape_with_where_orderby_and_paging(api: httpx.Client) -> None:
    make_bills(api, 5)
    page = query(
        api, "SELECT * FROM Bill WHERE DocNumber LIKE 'Q-%' ORDERBY DocNumber DESC STARTPOSITION 2 MAXRESULTS 2"
    )
    assert [bill["DocNumber"] for bill in page["Bill"]] == ["Q-003", "Q-002"]
    assert page["startPosition"] == 2 and page["maxResults"] == 2
    assert query(api, "select count(*) from bill") == {"totalCount": 5}
    assert query(api, "SELECT * FROM Bill WHERE DocNumber = 'none'") == {}
    picked = query(api, "SELECT * FROM Bill WHERE DocNumber IN ('Q-000', 'Q-004') AND TotalAmt > '100'")
    assert sorted(bill["DocNumber"] for bill in picked["Bill"]) == ["Q-000", "Q-004"]


def test_query_by_reference_date_and_get_form(api: httpx.Client) -> None:
    bills = make_bills(api, 2)
    vendor = bills[0]["VendorRef"]["value"]
    found = api.get(
        "/query", params={"query": f"SELECT * FROM Bill WHERE VendorRef = '{vendor}' AND TxnDate >= '2026-11-01'"}
    )
    assert len(found.json()["QueryResponse"]["Bill"]) == 2
    since = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    recent = query(api, f"SELECT * FROM Bill WHERE MetaData.LastUpdatedTime > '{since}'")
    assert len(recent["Bill"]) == 2


def test_maxresults_is_capped_at_1000_and_default_is_100(api: httpx.Client) -> None:
    accounts = query(api, "SELECT * FROM Account MAXRESULTS 5000")
    assert accounts["maxResults"] == len(accounts["Account"]) <= 1000
    assert query(api, "SELECT * FROM Account STARTPOSITION 1")["startPosition"] == 1


def test_query_syntax_errors_are_4000(api: httpx.Client) -> None:
    for text in ("SELECT * FROM Bill WHERE", "SELECT * FROM Nothing", "SELECT * FROM Bill WHERE A = 'x' OR B = 'y'"):
        response = api.post("/query", content=text, headers={"Content-Type": "application/text"})
        assert response.status_code == 400 and fault_of(response)["code"] == "4000", text


def test_batch_answers_each_bid_in_order_with_per_item_faults(api: httpx.Client) -> None:
    good = bill_body(api, doc_number="B-1")
    bad = bill_body(api, doc_number="B-2", VendorRef={"value": "777777"})
    request = {
        "BatchItemRequest": [
            {"bId": "a", "operation": "create", "Bill": good},
            {"bId": "b", "operation": "create", "Bill": bad},
            {"bId": "c", "Query": "SELECT * FROM Bill WHERE DocNumber = 'B-1'"},
        ]
    }
    items = api.post("/batch", json=request).json()["BatchItemResponse"]
    assert [item["bId"] for item in items] == ["a", "b", "c"]
    assert items[0]["Bill"]["DocNumber"] == "B-1"
    assert items[1]["Fault"]["Error"][0]["code"] == "2500" and items[1]["Fault"]["type"] == "ValidationFault"
    assert items[2]["QueryResponse"]["Bill"][0]["Id"] == items[0]["Bill"]["Id"]


def test_batch_over_30_operations_or_without_bids_fails_whole(api: httpx.Client) -> None:
    many = {"BatchItemRequest": [{"bId": str(n), "Query": "SELECT * FROM Term"} for n in range(31)]}
    response = api.post("/batch", json=many)
    assert response.status_code == 400 and fault_of(response)["code"] == "6000"
    assert fault_of(api.post("/batch", json={"BatchItemRequest": [{"Query": "SELECT * FROM Term"}]}))["code"] == "2020"
    assert (
        len(api.post("/batch", json={"BatchItemRequest": many["BatchItemRequest"][:30]}).json()["BatchItemResponse"])
        == 30
    )


def test_cdc_reports_creates_updates_and_deletes_since_a_time(qbo: Qbo, api: httpx.Client) -> None:
    since = (datetime.now(UTC) - timedelta(seconds=5)).isoformat()
    kept, gone = make_bills(api, 2, prefix="CDC")
    api.post("/bill", params={"operation": "delete"}, json={"Id": gone["Id"], "SyncToken": "0"})
    body = api.get("/cdc", params={"entities": "Bill,Vendor", "changedSince": since}).json()
    bills, vendors = body["CDCResponse"][0]["QueryResponse"]
    assert [bill["Id"] for bill in bills["Bill"] if "status" not in bill] == [kept["Id"]]
    assert next(bill for bill in bills["Bill"] if bill.get("status") == "Deleted")["Id"] == gone["Id"]
    assert vendors == {}


def test_cdc_needs_its_parameters_and_a_recent_changed_since(api: httpx.Client) -> None:
    assert fault_of(api.get("/cdc", params={"entities": "Bill"}))["code"] == "2020"
    old = (datetime.now(UTC) - timedelta(days=31)).isoformat()
    assert fault_of(api.get("/cdc", params={"entities": "Bill", "changedSince": old}))["code"] == "6000"
