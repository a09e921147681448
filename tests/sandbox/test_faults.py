"""Every fault mode, as a client sees it on the wire, plus rate limits and the control API that switches them."""

import threading
import time
from collections.abc import Iterator

import httpx
import pytest
from defusedxml.ElementTree import ParseError, fromstring

from sandbox.faults import FaultBook, FaultMode, FaultSpec
from tests.sandbox.conftest import RunningSandbox
from tests.sandbox.intacct.helpers import GATEWAY_PATH, GatewayClient, envelope, function, session

BILL = (
    "<create><APBILL><VENDORID>V00004</VENDORID><RECORDID>{reference}</RECORDID><WHENCREATED>03/01/2024</WHENCREATED>"
    "<WHENDUE>03/31/2024</WHENDUE><APBILLITEMS><APBILLITEM><ACCOUNTNO>70004</ACCOUNTNO><TRX_AMOUNT>10.00</TRX_AMOUNT>"
    "</APBILLITEM></APBILLITEMS></APBILL></create>"
)


@pytest.fixture
def gateway(sandbox: RunningSandbox) -> Iterator[GatewayClient]:
    client = GatewayClient(sandbox.url)
    yield client
    client.http.close()


@pytest.fixture
def control(sandbox: RunningSandbox) -> Iterator[httpx.Client]:
    with sandbox.control() as client:
        yield client


def inject(control: httpx.Client, **fault: object) -> str:
    response = control.post("/faults", json={"system": "intacct", **fault})
    assert response.status_code == 201, response.text
    fault_id: str = response.json()["id"]
    return fault_id


def bills_with(control: httpx.Client, reference: str) -> int:
    documents = control.get("/intacct/documents", params={"object": "APBILL", "record_id": reference}).json()
    count: int = documents["count"]
    return count


def bill_request(session_id: str, reference: str, control_id: str | None = None) -> bytes:
    return envelope(
        function(BILL.format(reference=reference), control_id=control_id), auth=session(session_id), unique_id=True
    ).encode()


def test_latency_delays_then_answers_normally(gateway: GatewayClient, control: httpx.Client) -> None:
    session_id = gateway.open_session()
    inject(control, operation="getDimensions", mode="latency", latency_ms=250)
    reply = gateway.call(session_id, function("<getDimensions/>"))
    logged = control.get("/requests", params={"operation": "getDimensions"}).json()["data"][-1]
    assert reply.statuses == ["success"]
    assert logged["duration_ms"] >= 250
    assert logged["fault"] is None  # latency stacks with other faults rather than replacing the answer


def test_hang_holds_the_request_until_the_client_gives_up(gateway: GatewayClient, control: httpx.Client) -> None:
    session_id = gateway.open_session()
    inject(control, operation="getDimensions", mode="hang", times=1)
    with pytest.raises(httpx.ReadTimeout):
        gateway.http.post(
            GATEWAY_PATH, content=envelope(function("<getDimensions/>"), auth=session(session_id)).encode(), timeout=0.5
        )
    assert gateway.call(session_id, function("<getDimensions/>")).statuses == ["success"]


def test_reset_drops_the_connection_mid_response(gateway: GatewayClient, control: httpx.Client) -> None:
    session_id = gateway.open_session()
    inject(control, operation="getDimensions", mode="reset", times=1)
    with pytest.raises(httpx.RemoteProtocolError):
        gateway.http.post(
            GATEWAY_PATH, content=envelope(function("<getDimensions/>"), auth=session(session_id)).encode()
        )


def test_malformed_answers_200_with_an_unparseable_body(gateway: GatewayClient, control: httpx.Client) -> None:
    session_id = gateway.open_session()
    body = envelope(function("<getDimensions/>"), auth=session(session_id)).encode()
    healthy = gateway.http.post(GATEWAY_PATH, content=body)
    inject(control, operation="getDimensions", mode="malformed", times=1)
    response = gateway.http.post(GATEWAY_PATH, content=body)
    assert response.status_code == 200
    assert response.headers["content-type"] == healthy.headers["content-type"]
    with pytest.raises(ParseError):
        fromstring(response.content)


def test_commit_then_fail_applies_the_write_once_and_a_replayed_control_id_is_refused(
    gateway: GatewayClient, control: httpx.Client
) -> None:
    session_id = gateway.open_session()
    inject(control, operation="create:APBILL", mode="commit_then_fail", status=502, times=1)
    body = bill_request(session_id, "ll-ctf-1", control_id="ll-ctf-1")

    failed = gateway.http.post(GATEWAY_PATH, content=body)
    assert failed.status_code == 502
    assert bills_with(control, "ll-ctf-1") == 1, "the write must have been applied despite the error"

    retried = gateway.http.post(GATEWAY_PATH, content=body)  # what a naive client does next
    assert retried.status_code == 200
    refusal = fromstring(retried.content)
    assert refusal.findtext("control/status") == "failure"
    assert "control ID" in refusal.findtext("errormessage/error/description2", "")
    assert bills_with(control, "ll-ctf-1") == 1, "a reused uniqueid control id must not create a second bill"


def test_commit_then_hang_applies_the_write_and_times_the_client_out(
    gateway: GatewayClient, control: httpx.Client
) -> None:
    session_id = gateway.open_session()
    inject(control, operation="create:APBILL", mode="commit_then_fail", then="hang", times=1)
    with pytest.raises(httpx.ReadTimeout):
        gateway.http.post(GATEWAY_PATH, content=bill_request(session_id, "ll-ctf-2"), timeout=0.5)
    assert bills_with(control, "ll-ctf-2") == 1


def test_probability_and_times_bound_how_often_a_fault_fires(gateway: GatewayClient, control: httpx.Client) -> None:
    session_id = gateway.open_session()
    fault_id = inject(control, operation="getDimensions", mode="error", status=500, probability=0.5)
    statuses = [gateway.call(session_id, function("<getDimensions/>")).status_code for _ in range(60)]
    assert 10 < statuses.count(500) < 50
    assert set(statuses) == {200, 500}
    assert control.delete(f"/faults/{fault_id}").status_code == 204

    inject(control, operation="getDimensions", mode="error", status=500, times=2)
    statuses = [gateway.call(session_id, function("<getDimensions/>")).status_code for _ in range(5)]
    assert statuses == [500, 500, 200, 200, 200]
    assert control.get("/faults").json() == []


def test_faults_match_operations_by_glob(gateway: GatewayClient, control: httpx.Client) -> None:
    session_id = gateway.open_session()
    inject(control, operation="create:*", mode="error", status=503)
    assert gateway.call(session_id, function("<getDimensions/>")).status_code == 200
    assert gateway.post(bill_request(session_id, "ll-glob").decode()).status_code == 503
    control.delete("/faults", params={"system": "intacct"})
    assert gateway.post(bill_request(session_id, "ll-glob").decode()).status_code == 200


def test_a_per_minute_limit_answers_429_with_retry_after(gateway: GatewayClient, control: httpx.Client) -> None:
    session_id = gateway.open_session()
    assert control.put("/rate_limits/intacct", json={"per_minute": 3}).status_code == 200
    statuses = [gateway.call(session_id, function("<getDimensions/>")).status_code for _ in range(5)]
    limited = gateway.http.post(
        GATEWAY_PATH, content=envelope(function("<getDimensions/>"), auth=session(session_id)).encode()
    )
    assert statuses == [200, 200, 200, 429, 429]
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    assert "rate limit" in limited.text


def test_a_concurrency_limit_refuses_requests_beyond_it(
    gateway: GatewayClient, control: httpx.Client, sandbox: RunningSandbox
) -> None:
    session_id = gateway.open_session()
    control.put("/rate_limits/intacct", json={"concurrency": 1})
    inject(control, operation="getDimensions", mode="latency", latency_ms=600, times=1)
    body = envelope(function("<getDimensions/>"), auth=session(session_id)).encode()
    slow: list[int] = []
    holder = threading.Thread(
        target=lambda: slow.append(httpx.post(f"{sandbox.url}{GATEWAY_PATH}", content=body).status_code)
    )
    holder.start()
    limiter = sandbox.box.limiters["intacct"]
    deadline = time.monotonic() + 5
    while limiter.in_flight == 0 and time.monotonic() < deadline:
        time.sleep(0.005)  # until the slow request holds the only slot
    refused = gateway.http.post(GATEWAY_PATH, content=body)
    holder.join()
    assert slow == [200]
    assert refused.status_code == 429


def test_the_control_api_refuses_unknown_systems_and_bad_faults(control: httpx.Client) -> None:
    assert control.post("/faults", json={"system": "netsuite", "mode": "error"}).status_code == 404
    assert control.post("/faults", json={"system": "intacct", "mode": "explode"}).status_code == 422
    assert control.post("/faults", json={"system": "intacct", "mode": "error", "probability": 2}).status_code == 422
    assert control.put("/rate_limits/nowhere", json={"per_minute": 1}).status_code == 404


def test_the_clock_moves_and_resets(control: httpx.Client, sandbox: RunningSandbox) -> None:
    moved = control.put("/clock", json={"now": "2030-01-01T00:00:00Z"}).json()["now"]
    assert moved.startswith("2030-01-01T00:00:0")
    control.post("/reset", json={})
    assert not control.get("/clock").json()["now"].startswith("2030")


def test_a_fault_retiring_does_not_skip_the_next_one() -> None:
    """A spent fault leaves the list while the draw walks it; the fault after it must still be considered."""
    book = FaultBook(seed=1)
    book.add(FaultSpec(system="intacct", mode=FaultMode.LATENCY, latency_ms=5, times=1))
    book.add(FaultSpec(system="intacct", mode=FaultMode.ERROR))
    latency, chosen = book.draw("intacct", "create:APBILL")
    assert latency == 5 and chosen is not None and chosen.mode is FaultMode.ERROR
