"""`requestid` idempotency, the per-realm throttles, and the shared fault modes in QuickBooks' own shapes."""

from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.sandbox.quickbooks.conftest import Qbo, bill_body, fault_of, query


def test_a_repeated_requestid_returns_the_original_answer_without_writing_again(api: httpx.Client) -> None:
    first = api.post("/bill", params={"requestid": "req-1"}, json=bill_body(api, doc_number="IDEM-1"))
    again = api.post("/bill", params={"requestid": "req-1"}, json=bill_body(api, doc_number="IDEM-OTHER"))
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert query(api, "SELECT COUNT(*) FROM Bill") == {"totalCount": 1}


def test_a_fault_is_the_original_answer_too_and_a_new_requestid_runs_again(qbo: Qbo, api: httpx.Client) -> None:
    realm = api.base_url.path.rstrip("/").split("/")[-1]
    qbo.control.put(f"/realms/{realm}/closing_date", json={"closing_date": "2026-11-30"})
    refused = api.post("/bill", params={"requestid": "req-2"}, json=bill_body(api))
    qbo.control.put(f"/realms/{realm}/closing_date", json={"closing_date": None})
    assert fault_of(api.post("/bill", params={"requestid": "req-2"}, json=bill_body(api)))["code"] == "6210"
    assert fault_of(refused)["code"] == "6210"
    assert api.post("/bill", params={"requestid": "req-3"}, json=bill_body(api)).status_code == 200


def test_requestid_longer_than_50_is_refused(api: httpx.Client) -> None:
    response = api.post("/bill", params={"requestid": "r" * 51}, json=bill_body(api))
    assert response.status_code == 400 and fault_of(response)["element"] == "requestid"


def test_commit_then_fail_then_retry_with_the_same_requestid_adopts_the_committed_batch(
    qbo: Qbo, api: httpx.Client
) -> None:
    qbo.sandbox.control().post(
        "/faults", json={"system": "quickbooks", "operation": "POST batch", "mode": "commit_then_fail", "times": 1}
    )
    request = {"BatchItemRequest": [{"bId": "1", "operation": "create", "Bill": bill_body(api, doc_number="CTF-1")}]}
    lost = api.post("/batch", params={"requestid": "batch-1"}, json=request)
    assert lost.status_code == 503 and lost.json()["Fault"]["type"] == "SystemFault"
    retried = api.post("/batch", params={"requestid": "batch-1"}, json=request)
    assert retried.json()["BatchItemResponse"][0]["Bill"]["DocNumber"] == "CTF-1"
    assert query(api, "SELECT COUNT(*) FROM Bill WHERE DocNumber = 'CTF-1'") == {"totalCount": 1}


def test_injected_rate_limit_and_errors_use_quickbooks_faults(qbo: Qbo, api: httpx.Client) -> None:
    qbo.sandbox.control().post(
        "/faults", json={"system": "quickbooks", "operation": "GET bill/{id}", "mode": "rate_limit", "times": 1}
    )
    throttled = api.get("/bill/1")
    assert throttled.status_code == 429 and fault_of(throttled)["code"] == "3001"
    assert throttled.headers["retry-after"] == "30"


def test_requests_per_minute_are_limited_per_realm(qbo: Qbo, api: httpx.Client, uk_api: httpx.Client) -> None:
    qbo.control.put("/settings", json={"requests_per_minute": 3})
    answers = [api.get("/preferences").status_code for _ in range(4)]
    assert answers == [200, 200, 200, 429]
    assert uk_api.get("/preferences").status_code == 200
    assert qbo.control.get("/settings").json()["concurrent_requests"] == 10


def test_more_than_the_allowed_concurrent_requests_get_429(qbo: Qbo, api: httpx.Client) -> None:
    qbo.control.put("/settings", json={"concurrent_requests": 2, "processing_delay_ms": 400})
    with ThreadPoolExecutor(max_workers=4) as pool:
        codes = sorted(pool.map(lambda _: api.get("/preferences").status_code, range(4)))
    assert codes.count(200) == 2 and codes.count(429) == 2


def test_default_limits_are_500_a_minute_and_10_at_once(qbo: Qbo) -> None:
    settings = qbo.control.get("/settings").json()
    assert settings["requests_per_minute"] == 500 and settings["concurrent_requests"] == 10


def test_minorversion_is_accepted_and_a_malformed_one_refused(api: httpx.Client) -> None:
    assert api.get("/preferences", params={"minorversion": "75"}).status_code == 200
    assert api.get("/preferences", params={"minorversion": "latest"}).status_code == 400
