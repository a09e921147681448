"""The simulator as the sandbox sees it: operation names, faults and rate limits in Fyle's shape, seed and reset."""

from collections import Counter
from decimal import Decimal

import httpx

from sandbox.clock import SandboxClock
from sandbox.fyle import FyleSimulator
from sandbox.fyle.constants import EXCHANGE_RATES_TO_USD, FYLE_SANDBOX_CLIENT_ID
from tests.sandbox.fyle.conftest import ADMIN, Fyle


def test_operations_are_named_by_method_and_path_under_the_mount() -> None:
    simulator = FyleSimulator(clock=SandboxClock(), seed=1)

    assert simulator.operation_of("GET", "/fyle/platform/v1/admin/expenses", b"") == "GET /platform/v1/admin/expenses"
    assert simulator.operation_of("POST", "/fyle/oauth/token", b"{}") == "POST /oauth/token"
    assert simulator.operation_of("GET", "/fyle", b"") == "GET /"


def test_injected_faults_answer_in_fyles_error_shape(fyle: Fyle, api: httpx.Client) -> None:
    for status in (500, 503, 401, 404):
        fault = {"system": "fyle", "operation": "GET */admin/expenses", "mode": "error", "status": status, "times": 1}
        fyle.control.post("/faults", json=fault)

        answer = api.get("/expenses")

        assert answer.status_code == status
        assert set(answer.json()) == {"message"}
    assert api.get("/expenses").status_code == 200


def test_rate_limits_answer_429_with_retry_after(fyle: Fyle, api: httpx.Client) -> None:
    fyle.control.put("/rate_limits/fyle", json={"per_minute": 2})

    answers = [api.get("/categories") for _ in range(3)]

    assert [answer.status_code for answer in answers] == [200, 200, 429]
    assert int(answers[2].headers["retry-after"]) > 0
    assert answers[2].json()["message"].startswith("Too many requests")


def test_unknown_paths_answer_in_fyles_shape(fyle: Fyle, api: httpx.Client) -> None:
    assert api.get("/nothing_here").json() == {"message": "Resource not found"}
    assert fyle.wire.get("/platform/v1/admin").status_code == 404


def test_reset_regenerates_the_same_seed_data_and_forgets_changes(fyle: Fyle, api: httpx.Client) -> None:
    before = api.get("/expenses", params={"order": "id.asc", "limit": 200}).json()["data"]
    api.post("/categories/bulk", json={"data": [{"name": "Temporary"}]})

    fyle.control.post("/reset", json={})

    with fyle.admin() as fresh:
        after = fresh.get("/expenses", params={"order": "id.asc", "limit": 200}).json()["data"]
        assert fresh.get("/categories", params={"name": "eq.Temporary"}).json()["count"] == 0
    assert [(e["id"], e["amount"], e["state"]) for e in after] == [(e["id"], e["amount"], e["state"]) for e in before]
    assert fyle.control.get("/fyle/writes").json()["count"] == 0


def test_a_different_seed_gives_different_data() -> None:
    first = FyleSimulator(clock=SandboxClock(), seed=1).state.store
    second = FyleSimulator(clock=SandboxClock(), seed=2).state.store

    assert {expense.id for expense in first.expenses} != {expense.id for expense in second.expenses}


def test_seed_data_looks_like_a_real_organisation(fyle: Fyle, api: httpx.Client) -> None:
    expenses = fyle.list_all(api, "/expenses", {"order": "id.asc"})
    reports = fyle.list_all(api, "/reports", {"order": "id.asc"})
    employees = fyle.list_all(api, "/employees", {"order": "id.asc"})

    assert len(employees) == len({employee["user"]["email"] for employee in employees}) == 20
    assert all(employee["code"] for employee in employees)
    assert {"DRAFT", "APPROVER_PENDING", "APPROVED", "PAYMENT_PROCESSING", "PAID"} <= {r["state"] for r in reports}
    assert Counter(e["source_account"]["type"] for e in expenses).keys() == {
        "PERSONAL_CASH_ACCOUNT",
        "PERSONAL_CORPORATE_CREDIT_CARD_ACCOUNT",
    }
    assert all(e["is_reimbursable"] is False for e in expenses if e["matched_corporate_card_transactions"])
    assert {e["foreign_currency"] for e in expenses} >= {None, "EUR", "GBP", "INR"}
    for expense in expenses:
        assert Decimal(str(expense["amount"])) == Decimal(str(expense["amount"])).quantize(Decimal("0.01"))
        if expense["foreign_currency"]:
            rate = EXCHANGE_RATES_TO_USD[expense["foreign_currency"]]
            expected = (Decimal(str(expense["foreign_amount"])) * rate).quantize(Decimal("0.01"))
            assert Decimal(str(expense["amount"])) == expected
    assert sum(1 for e in expenses if e["file_ids"]) > len(expenses) / 3
    for report in reports:
        members = [e for e in expenses if e["report_id"] == report["id"]]
        assert len(members) == report["num_expenses"]
        assert Decimal(str(report["amount"])) == sum((Decimal(str(e["amount"])) for e in members), Decimal(0))


def test_control_api_exposes_credentials_and_counts(fyle: Fyle) -> None:
    credentials = fyle.control.get("/fyle/credentials").json()
    counts = fyle.control.get("/fyle/counts").json()

    assert credentials["client_id"] == FYLE_SANDBOX_CLIENT_ID
    assert credentials["server_url"] == f"{fyle.base}/platform/v1"
    assert credentials["token_url"] == f"{fyle.base}/oauth/token"
    assert counts["expenses"] > counts["reports"] > 0
    assert fyle.wire.get(f"{ADMIN}/expenses", headers={"Authorization": "Bearer nope"}).status_code == 401


def test_control_report_moves_validate_the_state(fyle: Fyle, api: httpx.Client) -> None:
    report = api.get("/reports", params={"limit": 1}).json()["data"][0]

    unknown_state = fyle.control.post(f"/fyle/reports/{report['id']}/state", json={"state": "LOST"})
    unknown_report = fyle.control.post("/fyle/reports/rpNope/state", json={"state": "PAID"})

    assert unknown_state.status_code == 422 and unknown_report.status_code == 404
