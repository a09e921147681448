"""What the shared harness sees of the simulator: operation names, outage and rate-limit answers, resets."""

import httpx
import pytest
from sageintacctsdk import SageIntacctSDK  # type: ignore[import-untyped]
from sageintacctsdk.exceptions import InternalServerError, SageIntacctSDKError  # type: ignore[import-untyped]

from sandbox.clock import SandboxClock
from sandbox.intacct import IntacctSimulator
from tests.sandbox.conftest import RunningSandbox
from tests.sandbox.intacct.helpers import GatewayClient, envelope, function, login

BILL = (
    "<create><APBILL><VENDORID>V00004</VENDORID><WHENCREATED>03/01/2024</WHENCREATED><WHENDUE>03/31/2024</WHENDUE>"
    "<APBILLITEMS><APBILLITEM><ACCOUNTNO>70004</ACCOUNTNO><TRX_AMOUNT>1</TRX_AMOUNT></APBILLITEM></APBILLITEMS>"
    "</APBILL></create>"
)


@pytest.mark.parametrize(
    ("body", "operation"),
    [
        ("<getAPISession/>", "getAPISession"),
        ("<readByQuery><object>GLACCOUNT</object><query/></readByQuery>", "readByQuery:GLACCOUNT"),
        ("<query><object>VENDOR</object><select><field>RECORDNO</field></select></query>", "query:VENDOR"),
        (BILL, "create:APBILL"),
        ("<create_expensereport><employeeid>1</employeeid></create_expensereport>", "create_expensereport"),
    ],
)
def test_operation_names_for_fault_matching(body: str, operation: str) -> None:
    simulator = IntacctSimulator(clock=SandboxClock(), seed=1)

    assert simulator.operation_of("POST", "/ia/xml/xmlgw.phtml", envelope(function(body), auth=login()).encode()) == (
        operation
    )
    assert simulator.operation_of("POST", "/ia/xml/xmlgw.phtml", b"{not xml") == "unparseable"


def test_requests_are_logged_under_their_operation(gateway: GatewayClient, sandbox_clock: httpx.Client) -> None:
    session_id = gateway.open_session()
    gateway.call(session_id, function(BILL))

    logged = sandbox_clock.get("/requests", params={"system": "intacct"}).json()["data"]
    assert [entry["operation"] for entry in logged] == ["getAPISession", "create:APBILL"]


def test_outage_answers_with_the_service_off_line(
    gateway: GatewayClient, sandbox_clock: httpx.Client, control: httpx.Client
) -> None:
    session_id = gateway.open_session()
    sandbox_clock.post(
        "/faults", json={"system": "intacct", "operation": "create:APBILL", "mode": "error", "status": 503, "times": 1}
    ).raise_for_status()

    down = gateway.call(session_id, function(BILL))
    again = gateway.call(session_id, function(BILL))

    assert down.status_code == 503
    assert down.control_status == "failure"
    assert "The Service is Temporarily Off-line" in down.errors[0]["description2"]
    assert again.statuses == ["success"]
    assert control.get("/documents").json()["count"] == 1


def test_sdk_surfaces_an_internal_server_error(sdk: SageIntacctSDK, sandbox_clock: httpx.Client) -> None:
    sandbox_clock.post(
        "/faults", json={"system": "intacct", "operation": "query:GLACCOUNT", "mode": "error", "status": 500}
    ).raise_for_status()

    with pytest.raises(InternalServerError) as raised:
        sdk.accounts.count()
    assert "Temporarily Off-line" in str(raised.value.response)


def test_rate_limit_is_a_429_with_retry_after(
    gateway: GatewayClient, sdk: SageIntacctSDK, sandbox_clock: httpx.Client
) -> None:
    sandbox_clock.post("/faults", json={"system": "intacct", "mode": "rate_limit", "retry_after": 7}).raise_for_status()

    reply = gateway.post(envelope(function("<getAPISession/>"), auth=login()))
    raw = gateway.http.post("/intacct/ia/xml/xmlgw.phtml", content=b"<request/>")

    assert reply.status_code == 429
    assert raw.headers["retry-after"] == "7"
    assert reply.errors[0]["errorno"] == "GW-0010"
    assert "API rate limit exceeded" in reply.errors[0]["description2"]
    with pytest.raises(SageIntacctSDKError, match="API rate limit exceeded"):
        sdk.vendors.count()


def test_reset_forgets_everything(sandbox: RunningSandbox, gateway: GatewayClient, control: httpx.Client) -> None:
    session_id = gateway.open_session()
    gateway.call(session_id, function(BILL))
    simulator = sandbox.box.systems["intacct"]

    simulator.reset(sandbox.box.seed)

    assert control.get("/documents").json()["count"] == 0
    assert gateway.call(session_id, function("<getDimensions/>")).auth_status == "failure"


def test_seed_data_is_deterministic() -> None:
    first = IntacctSimulator(clock=SandboxClock(), seed=5).state.stores["ledgerline-demo"].tables["VENDOR"]
    second = IntacctSimulator(clock=SandboxClock(), seed=5).state.stores["ledgerline-demo"].tables["VENDOR"]
    other = IntacctSimulator(clock=SandboxClock(), seed=6).state.stores["ledgerline-demo"].tables["VENDOR"]

    assert list(first.rows()) == list(second.rows())
    assert list(first.rows()) != list(other.rows())
