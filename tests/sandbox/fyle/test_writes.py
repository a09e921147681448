"""What an integration writes to Fyle: dimensions, accounting export summaries and paid reports."""

from datetime import datetime
from typing import Any

import httpx

from sandbox.fyle.constants import FYLE_SANDBOX_CLIENT_ID
from tests.sandbox.fyle.conftest import Fyle


def _one(api: httpx.Client, path: str, **params: str) -> dict[str, Any]:
    found: dict[str, Any] = api.get(path, params={"limit": 1, "order": "id.asc", **params}).json()["data"][0]
    return found


def _later(after: str, before: str) -> bool:
    return datetime.fromisoformat(after) > datetime.fromisoformat(before)


def _writes(fyle: Fyle, kind: str) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = fyle.control.get("/fyle/writes", params={"kind": kind}).json()["data"]
    return data


def test_mark_paid_moves_the_report_and_its_expenses_to_paid(fyle: Fyle, api: httpx.Client) -> None:
    report = _one(api, "/reports", state="eq.PAYMENT_PROCESSING")

    answer = api.post("/reports/mark_paid/bulk", json={"data": [{"id": report["id"]}]})

    assert answer.status_code == 200 and answer.json() == {}
    paid = _one(api, "/reports", id=f"eq.{report['id']}")
    assert paid["state"] == "PAID" and paid["last_paid_at"] is not None
    assert _later(paid["updated_at"], report["updated_at"])
    expenses = api.get("/expenses", params={"report_id": f"eq.{report['id']}"}).json()["data"]
    assert {expense["state"] for expense in expenses} == {"PAID"}
    assert all(expense["report"]["state"] == "PAID" and expense["last_settled_at"] for expense in expenses)
    assert [write["data"]["id"] for write in _writes(fyle, "reports_mark_paid")] == [report["id"]]


def test_mark_paid_again_is_harmless_and_an_unpayable_report_fails_the_whole_request(api: httpx.Client) -> None:
    paid = _one(api, "/reports", state="eq.PAID")
    draft = _one(api, "/reports", state="eq.DRAFT")

    again = api.post("/reports/mark_paid/bulk", json={"data": [{"id": paid["id"]}]})
    refused = api.post("/reports/mark_paid/bulk", json={"data": [{"id": paid["id"]}, {"id": draft["id"]}]})
    unknown = api.post("/reports/mark_paid/bulk", json={"data": [{"id": "rpNoSuchReport"}]})

    assert again.status_code == 200
    assert _one(api, "/reports", id=f"eq.{paid['id']}")["updated_at"] == paid["updated_at"]
    assert refused.status_code == 400
    assert refused.json()["error"] == "BulkError"
    assert refused.json()["data"] == [
        {"row": 1, "key": draft["id"], "message": "report in state DRAFT cannot be marked as paid"}
    ]
    assert _one(api, "/reports", id=f"eq.{draft['id']}")["state"] == "DRAFT"
    assert unknown.status_code == 404 and unknown.json() == {"message": "Resource not found"}


def test_expense_export_summaries_show_on_expenses_and_roll_up_to_the_report(fyle: Fyle, api: httpx.Client) -> None:
    report = _one(api, "/reports", state="eq.APPROVED")
    expenses = api.get("/expenses", params={"report_id": f"eq.{report['id']}", "order": "id.asc"}).json()["data"]
    summaries = [
        {"id": expense["id"], "state": "COMPLETE", "error_type": None, "url": f"https://ll.example/{expense['id']}"}
        for expense in expenses
    ]
    summaries[0] |= {"state": "ERROR", "error_type": "MAPPING"}

    answer = api.post("/expenses/accounting_export_summary/bulk", json={"data": summaries})

    assert answer.status_code == 200
    after = {e["id"]: e for e in api.get("/expenses", params={"report_id": f"eq.{report['id']}"}).json()["data"]}
    failed = after[summaries[0]["id"]]
    assert failed["accounting_export_summary"] == {
        "state": "ERROR",
        "error_type": "MAPPING",
        "url": summaries[0]["url"],
        "tpa_id": FYLE_SANDBOX_CLIENT_ID,
    }
    assert failed["is_exported"] is False
    assert all(after[s["id"]]["is_exported"] for s in summaries[1:])
    assert all(after[s["id"]]["updated_at"] == e["updated_at"] for s, e in zip(summaries, expenses, strict=True))
    rolled_up = _one(api, "/reports", id=f"eq.{report['id']}")["accounting_export_summary"]
    assert rolled_up | {"tpa_id": None} == {
        "state": "ERROR",
        "error": 1,
        "complete": len(expenses) - 1,
        "skipped": 0,
        "in_progress": 0,
        "initiate": 0,
        "tpa_id": None,
    }
    assert len(_writes(fyle, "expense_export_summaries")) == len(expenses)


def test_export_summary_rows_are_validated(api: httpx.Client) -> None:
    expense = _one(api, "/expenses")

    bad_state = api.post(
        "/expenses/accounting_export_summary/bulk",
        json={"data": [{"id": expense["id"], "state": "DONE", "error_type": None, "url": "u"}]},
    )
    unknown = api.post(
        "/expenses/accounting_export_summary/bulk",
        json={"data": [{"id": "txNope", "state": "COMPLETE", "error_type": None, "url": "u"}]},
    )

    assert bad_state.status_code == 400 and bad_state.json()["data"][0]["key"] == "state"
    assert unknown.status_code == 400 and unknown.json()["data"][0] == {
        "row": 0,
        "key": "txNope",
        "message": "expense txNope not found",
    }


def test_report_export_summary_initiates_the_export_of_its_expenses(fyle: Fyle, api: httpx.Client) -> None:
    report = _one(api, "/reports", state="eq.PAYMENT_PROCESSING")

    answer = api.post("/reports/accounting_export_summary/bulk", json={"data": [{"id": report["id"]}]})

    assert answer.status_code == 200
    summary = _one(api, "/reports", id=f"eq.{report['id']}")["accounting_export_summary"]
    assert summary["state"] == "INITIATED" and summary["initiate"] == report["num_expenses"]
    assert _writes(fyle, "report_export_summaries")[0]["data"] == {"id": report["id"], "tpa_id": FYLE_SANDBOX_CLIENT_ID}


def test_bulk_dimensions_create_new_and_update_existing_by_id_or_name(fyle: Fyle, api: httpx.Client) -> None:
    travel = _one(api, "/categories", name="eq.Travel", sub_category="eq.Taxi")
    project = _one(api, "/projects", name="eq.Borealis")
    rows = [
        {"id": travel["id"], "name": "Travel", "sub_category": "Taxi", "code": "NEW-6120"},
        {"name": "Consulting Fees", "code": "7100", "is_enabled": False},
    ]

    categories = api.post("/categories/bulk", json={"data": rows})
    projects = api.post(
        "/projects/bulk", json={"data": [{"name": "Borealis", "is_enabled": False}, {"name": "Zephyr"}]}
    )
    cost_centers = api.post("/cost_centers/bulk", json={"data": [{"name": "Treasury", "code": "CC-90"}]})

    assert categories.status_code == projects.status_code == cost_centers.status_code == 200
    updated = _one(api, "/categories", id=f"eq.{travel['id']}")
    assert updated["code"] == "NEW-6120" and _later(updated["updated_at"], travel["updated_at"])
    created = _one(api, "/categories", name="eq.Consulting Fees")
    assert created["is_enabled"] is False and created["display_name"] == "Consulting Fees"
    assert _one(api, "/projects", id=f"eq.{project['id']}")["is_enabled"] is False
    assert _one(api, "/projects", name="eq.Zephyr")["display_name"] == "Zephyr"
    assert _one(api, "/cost_centers", name="eq.Treasury")["code"] == "CC-90"
    written = [(write["data"]["action"], write["data"]["payload"]["name"]) for write in _writes(fyle, "categories")]
    assert written == [("updated", "Travel"), ("created", "Consulting Fees")]


def test_a_bad_dimension_row_fails_the_whole_bulk_request(api: httpx.Client) -> None:
    before = api.get("/categories", params={"limit": 1}).json()["count"]

    answer = api.post(
        "/categories/bulk", json={"data": [{"name": "Fine"}, {"name": "Bad", "colour": "red"}, {"id": 1, "name": "X"}]}
    )

    assert answer.status_code == 400
    assert [(row["row"], row["key"]) for row in answer.json()["data"]] == [(1, "colour")]
    assert api.get("/categories", params={"limit": 1}).json()["count"] == before
    unknown_id = api.post("/categories/bulk", json={"data": [{"id": 1, "name": "X"}]})
    assert unknown_id.json()["data"] == [{"row": 0, "key": 1, "message": "categories with id 1 not found"}]


def test_single_post_creates_and_returns_the_dimension(api: httpx.Client) -> None:
    answer = api.post("/projects", json={"data": {"name": "Solo", "sub_project": "One", "code": "S-1"}})

    assert answer.status_code == 200
    assert answer.json()["data"]["display_name"] == "Solo / One"


def test_malformed_write_bodies_get_400(api: httpx.Client) -> None:
    not_json = api.post("/categories/bulk", content=b"{", headers={"content-type": "application/json"})
    no_data = api.post("/categories/bulk", json={"rows": []})
    not_a_list = api.post("/categories/bulk", json={"data": {"name": "x"}})

    assert [not_json.status_code, no_data.status_code, not_a_list.status_code] == [400, 400, 400]
    assert not_a_list.json() == {"message": "data must be an array", "data": None, "error": "InvalidUsage"}


def test_rows_naming_the_same_dimension_update_it_and_a_rename_may_not_take_an_existing_name(api: httpx.Client) -> None:
    taxi = _one(api, "/categories", name="eq.Travel", sub_category="eq.Taxi")

    repeated = api.post("/cost_centers/bulk", json={"data": [{"name": "Dup"}, {"name": "Dup", "code": "D2"}]})
    clash = api.post("/categories/bulk", json={"data": [{"id": taxi["id"], "name": "Training"}]})

    assert repeated.status_code == 200
    assert [(cc["name"], cc["code"]) for cc in api.get("/cost_centers", params={"name": "eq.Dup"}).json()["data"]] == [
        ("Dup", "D2")
    ]
    assert clash.status_code == 400
    assert clash.json()["data"] == [{"row": 0, "key": taxi["id"], "message": "categories name already exists"}]
