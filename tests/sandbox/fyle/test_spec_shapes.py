"""Every response and webhook body holds against Fyle's published OpenAPI documents (admin, authorization)."""

from typing import Any

import httpx
import pytest

from tests.sandbox.fyle.conftest import Fyle, Receiver, wait_for
from tests.sandbox.fyle.openapi_check import Checker, load, response_schema

LISTS = ["expenses", "reports", "employees", "categories", "projects", "cost_centers", "expense_fields"]


@pytest.fixture(scope="module")
def admin_spec() -> dict[str, Any]:
    return load("admin.yaml")


def _assert_valid(document: dict[str, Any], value: Any, schema: dict[str, Any]) -> None:
    problems = Checker(document).problems(value, schema)
    assert not problems, "\n".join(problems[:20])


def _exercise(fyle: Fyle, api: httpx.Client) -> None:
    """Put records in every state the renderers know: paid with a reimbursement, exported, failed, initiated."""
    processing = api.get("/reports", params={"state": "eq.PAYMENT_PROCESSING", "limit": 2}).json()["data"]
    api.post("/reports/mark_paid/bulk", json={"data": [{"id": processing[0]["id"]}]})
    api.post("/reports/accounting_export_summary/bulk", json={"data": [{"id": processing[1]["id"]}]})
    expenses = api.get("/expenses", params={"state": "eq.APPROVED", "limit": 3}).json()["data"]
    summaries = [
        {"id": expenses[0]["id"], "state": "COMPLETE", "error_type": None, "url": "https://ll.example/1"},
        {"id": expenses[1]["id"], "state": "ERROR", "error_type": "ACCOUNTING_INTEGRATION_ERROR", "url": "u"},
    ]
    api.post("/expenses/accounting_export_summary/bulk", json={"data": summaries})
    api.post("/projects/bulk", json={"data": [{"name": "Spec Check", "approver_user_ids": []}]})


@pytest.mark.parametrize("resource", LISTS)
def test_lists_match_the_admin_spec(fyle: Fyle, api: httpx.Client, admin_spec: dict[str, Any], resource: str) -> None:
    _exercise(fyle, api)
    schema = response_schema(admin_spec, f"/admin/{resource}")
    offset = 0
    while True:
        body = api.get(f"/{resource}", params={"offset": offset, "limit": 200, "order": "id.asc"}).json()
        _assert_valid(admin_spec, body, schema)
        offset += len(body["data"])
        if offset >= body["count"]:
            break


def test_file_responses_match_the_admin_spec(fyle: Fyle, api: httpx.Client, admin_spec: dict[str, Any]) -> None:
    user_id = api.get("/employees", params={"limit": 1}).json()["data"][0]["user_id"]
    created = api.post("/files", json={"data": {"name": "r.png", "type": "RECEIPT", "user_id": user_id}}).json()
    bulk = api.post("/files/bulk", json={"data": [{"name": "s.pdf", "type": "RECEIPT", "user_id": user_id}]}).json()
    urls = api.post("/files/generate_urls/bulk", json={"data": [{"id": created["data"]["id"]}]}).json()

    _assert_valid(admin_spec, created, response_schema(admin_spec, "/admin/files", "post"))
    _assert_valid(admin_spec, bulk, response_schema(admin_spec, "/admin/files/bulk", "post"))
    _assert_valid(admin_spec, urls, response_schema(admin_spec, "/admin/files/generate_urls/bulk", "post"))


def test_error_bodies_match_the_admin_spec(fyle: Fyle, api: httpx.Client, admin_spec: dict[str, Any]) -> None:
    bad_filter = api.get("/expenses", params={"nope": "eq.1"})
    no_token = fyle.wire.get("/platform/v1/admin/expenses")
    missing = api.get("/files/download", params={"id": "fiNope"})
    bulk = api.post("/categories/bulk", json={"data": [{"code": "no name"}]})

    _assert_valid(admin_spec, bad_filter.json(), response_schema(admin_spec, "/admin/expenses", status="400"))
    _assert_valid(admin_spec, no_token.json(), response_schema(admin_spec, "/admin/expenses", status="401"))
    _assert_valid(admin_spec, missing.json(), response_schema(admin_spec, "/admin/files/download", status="404"))
    _assert_valid(admin_spec, bulk.json(), response_schema(admin_spec, "/admin/categories/bulk", "post", "400"))


def test_webhook_payloads_match_the_subscription_callback_schema(
    fyle: Fyle, api: httpx.Client, admin_spec: dict[str, Any], receiver: Receiver
) -> None:
    callback = admin_spec["paths"]["/admin/subscriptions"]["post"]["callbacks"]["REPORT.*"]
    schema = callback["{$request.body#/data/webhook_url}"]["post"]["requestBody"]["content"]["application/json"]
    fyle.control.post("/fyle/webhooks", json={"url": receiver.url})
    report = api.get("/reports", params={"state": "eq.APPROVED", "limit": 1}).json()["data"][0]

    fyle.control.post(f"/fyle/reports/{report['id']}/state", json={"state": "PAYMENT_PROCESSING"})
    api.post("/reports/mark_paid/bulk", json={"data": [{"id": report["id"]}]})

    bodies = wait_for(lambda: receiver.received if len(receiver.received) >= 2 else None)
    for body, _ in bodies:
        _assert_valid(admin_spec, httpx.Response(200, content=body).json(), schema["schema"])


def test_cluster_response_matches_the_authorization_spec(fyle: Fyle) -> None:
    spec = load("authorization.yaml")

    cluster = fyle.wire.post("/oauth/cluster", headers={"Authorization": f"Bearer {fyle.access_token()}"}).json()

    _assert_valid(spec, cluster, response_schema(spec, "/oauth/cluster", "post"))
