"""Lists: `{count, offset, data}`, offset/limit paging, `order`, and PostgREST-style filters with Fyle's 400s."""

from datetime import datetime
from typing import Any

import httpx
import pytest

from sandbox.fyle.constants import DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT
from tests.sandbox.fyle.conftest import Fyle

EPOCH = "gte.2000-01-01T00:00:00.000Z"


def _all(fyle: Fyle, api: httpx.Client, path: str, **params: str) -> list[dict[str, Any]]:
    return fyle.list_all(api, path, params)


def _moment(value: str) -> datetime:
    return datetime.fromisoformat(value)


@pytest.mark.parametrize(
    "resource", ["expenses", "reports", "employees", "categories", "projects", "cost_centers", "expense_fields"]
)
def test_every_list_has_the_spec_envelope_and_default_limit(api: httpx.Client, resource: str) -> None:
    response = api.get(f"/{resource}")

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"count", "offset", "data"}
    assert body["offset"] == 0
    assert len(body["data"]) == min(body["count"], DEFAULT_PAGE_LIMIT) > 0


def test_incremental_paging_sees_every_expense_once_in_order(fyle: Fyle, api: httpx.Client) -> None:
    count = api.get("/expenses", params={"limit": 1}).json()["count"]

    expenses = fyle.list_all(api, "/expenses", {"updated_at": EPOCH, "order": "updated_at.asc,id.asc"}, limit=17)

    keys = [(_moment(expense["updated_at"]), expense["id"]) for expense in expenses]
    assert len(keys) == len(set(keys)) == count
    assert keys == sorted(keys)


def test_paging_resumes_from_a_cursor_without_gaps_after_updates(fyle: Fyle, api: httpx.Client) -> None:
    """The sync pattern: remember the last updated_at seen, then ask for gte it; moved records reappear later."""
    first = api.get("/expenses", params={"order": "updated_at.asc,id.asc", "limit": 30}).json()["data"]
    cursor = first[-1]["updated_at"]
    report_id = next(expense["report_id"] for expense in first if expense["state"] == "APPROVED")
    fyle.control.post(f"/fyle/reports/{report_id}/state", json={"state": "PAYMENT_PROCESSING"})

    rest = fyle.list_all(api, "/expenses", {"updated_at": f"gte.{cursor}", "order": "updated_at.asc,id.asc"})

    seen = {expense["id"] for expense in first} | {expense["id"] for expense in rest}
    assert len(seen) == api.get("/expenses", params={"limit": 1}).json()["count"]
    moved = [expense for expense in rest if expense["report_id"] == report_id]
    assert moved and all(expense["state"] == "PAYMENT_PROCESSING" for expense in moved)


def test_descending_order_reverses_the_ascending_one(fyle: Fyle, api: httpx.Client) -> None:
    ascending = _all(fyle, api, "/reports", order="updated_at.asc,id.asc")
    descending = _all(fyle, api, "/reports", order="updated_at.desc,id.desc")

    assert [report["id"] for report in descending] == [report["id"] for report in reversed(ascending)]


def test_order_by_other_fields_with_filters(fyle: Fyle, api: httpx.Client) -> None:
    expenses = _all(fyle, api, "/expenses", order="amount.desc,id", is_reimbursable="eq.true")

    amounts = [expense["amount"] for expense in expenses]
    assert amounts == sorted(amounts, reverse=True)
    assert all(expense["is_reimbursable"] for expense in expenses)


def test_updated_at_range_filters_bound_both_sides(fyle: Fyle, api: httpx.Client) -> None:
    everything = _all(fyle, api, "/expenses", order="updated_at.asc,id.asc")
    low, high = everything[40]["updated_at"], everything[120]["updated_at"]

    inside = api.get(
        "/expenses", params=[("updated_at", f"gte.{low}"), ("updated_at", f"lt.{high}"), ("limit", "200")]
    ).json()

    expected = [e["id"] for e in everything if _moment(low) <= _moment(e["updated_at"]) < _moment(high)]
    assert inside["count"] == len(expected)
    assert sorted(expense["id"] for expense in inside["data"]) == sorted(expected)


@pytest.mark.parametrize(
    ("params", "check"),
    [
        ({"state": "eq.PAID"}, lambda e: e["state"] == "PAID"),
        ({"state": "in.(APPROVED,PAYMENT_PROCESSING)"}, lambda e: e["state"] in ("APPROVED", "PAYMENT_PROCESSING")),
        ({"state": 'in.("PAID",)'}, lambda e: e["state"] == "PAID"),
        ({"state": "not.eq.DRAFT"}, lambda e: e["state"] != "DRAFT"),
        ({"report_id": "is.null"}, lambda e: e["report_id"] is None),
        ({"report_id": "not.is.null"}, lambda e: e["report_id"] is not None),
        ({"amount": "gt.500"}, lambda e: e["amount"] > 500),
        ({"amount": "lte.20"}, lambda e: e["amount"] <= 20),
        ({"foreign_currency": "eq.EUR"}, lambda e: e["foreign_currency"] == "EUR"),
        (
            {"source_account->type": 'in.("PERSONAL_CORPORATE_CREDIT_CARD_ACCOUNT",)'},
            lambda e: e["source_account"]["type"] == "PERSONAL_CORPORATE_CREDIT_CARD_ACCOUNT",
        ),
        ({"merchant": "ilike.*air*"}, lambda e: "air" in e["merchant"].lower()),
    ],
)
def test_expense_filters_select_exactly_the_matching_records(
    fyle: Fyle, api: httpx.Client, params: dict[str, str], check: Any
) -> None:
    everything = _all(fyle, api, "/expenses", order="id.asc")

    selected = _all(fyle, api, "/expenses", order="id.asc", **params)

    assert selected, f"seed data has no expense for {params}"
    assert [expense["id"] for expense in selected] == [expense["id"] for expense in everything if check(expense)]


def test_filters_on_employee_and_report_ids(fyle: Fyle, api: httpx.Client) -> None:
    report = api.get("/reports", params={"limit": 1, "order": "id.asc"}).json()["data"][0]

    by_report = _all(fyle, api, "/expenses", report_id=f"eq.{report['id']}")
    by_employee = _all(fyle, api, "/reports", employee_id=f"eq.{report['employee_id']}")

    assert len(by_report) == report["num_expenses"]
    assert report["id"] in {found["id"] for found in by_employee}
    assert all(found["employee_id"] == report["employee_id"] for found in by_employee)


def test_dimension_filters(fyle: Fyle, api: httpx.Client) -> None:
    enabled = _all(fyle, api, "/categories", is_enabled="eq.true")
    disabled = _all(fyle, api, "/categories", is_enabled="eq.false")
    ids = [category["id"] for category in enabled[:2]]

    picked = _all(fyle, api, "/categories", id=f"in.({ids[0]},{ids[1]})")

    assert all(category["is_enabled"] for category in enabled) and disabled
    assert not any(category["is_enabled"] for category in disabled)
    assert sorted(category["id"] for category in picked) == sorted(ids)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"colour": "eq.red"}, "unknown filter field 'colour'"),
        ({"updated_at": "gte.yesterday"}, "invalid value 'yesterday' for updated_at"),
        ({"updated_at": "2024-01-01"}, "expected operator.value"),
        ({"state": "approx.PAID"}, "unknown operator 'approx'"),
        ({"is_reimbursable": "eq.maybe"}, "invalid value 'maybe' for is_reimbursable"),
        ({"report_id": "is.nothing"}, "is takes null, true or false"),
        ({"state": "in.PAID"}, "expected in.(a,b)"),
        ({"order": "colour.asc"}, "cannot order by unknown field 'colour'"),
        ({"limit": str(MAX_PAGE_LIMIT + 1)}, f"limit must be between 1 and {MAX_PAGE_LIMIT}"),
        ({"limit": "0"}, "limit must be between 1"),
        ({"offset": "-1"}, "offset must not be negative"),
        ({"offset": "ten"}, "offset must be an integer"),
    ],
)
def test_bad_list_parameters_get_the_spec_400(api: httpx.Client, params: dict[str, str], message: str) -> None:
    response = api.get("/expenses", params=params)

    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "InvalidUsage" and body["data"] is None
    assert message in body["message"]


def test_offset_past_the_end_gives_an_empty_page_with_the_count(api: httpx.Client) -> None:
    body = api.get("/projects", params={"offset": 1000, "limit": 10}).json()

    assert body["data"] == [] and body["offset"] == 1000 and body["count"] > 0
