"""The gateway's failure levels: control block, authentication, per function, transactions, single-use ids."""

import httpx

from sandbox.intacct.constants import MULTI_ENTITY_COMPANY, OTHER_SENDER_ID, OTHER_SENDER_PASSWORD, SENDER_ID
from tests.sandbox.intacct.helpers import GatewayClient, envelope, function, login

BILL = (
    "<create><APBILL><VENDORID>V00004</VENDORID><RECORDID>{reference}</RECORDID><WHENCREATED>03/01/2024</WHENCREATED>"
    "<WHENDUE>03/31/2024</WHENDUE><APBILLITEMS><APBILLITEM><ACCOUNTNO>70004</ACCOUNTNO><TRX_AMOUNT>{amount}</TRX_AMOUNT>"
    "</APBILLITEM></APBILLITEMS></APBILL></create>"
)


def bill(reference: str, amount: str = "10.00") -> str:
    return BILL.format(reference=reference, amount=amount)


def bills(control: httpx.Client) -> list[dict[str, str]]:
    data: list[dict[str, str]] = control.get("/documents", params={"object": "APBILL"}).json()["data"]
    return data


def test_malformed_xml_is_a_control_failure(gateway: GatewayClient) -> None:
    reply = gateway.post("<request><control>")

    assert reply.status_code == 200
    assert reply.control_status == "failure"
    assert reply.errors[0]["errorno"] == "XL03000003"


def test_wrong_sender_password_runs_nothing(gateway: GatewayClient, control: httpx.Client) -> None:
    xml = envelope(function(bill("x")), auth=login(), sender_password="not-it")

    reply = gateway.post(xml)

    assert reply.control_status == "failure"
    assert reply.errors == [
        {
            "errorno": "XL03000006",
            "description": "",
            "description2": "Incorrect Intacct XML Partner ID or password.",
            "correction": "Check the Web Services sender ID and password.",
        }
    ]
    assert reply.root.find("operation") is None
    assert bills(control) == []


def test_wrong_user_password_fails_authentication_not_control(gateway: GatewayClient) -> None:
    reply = gateway.post(envelope(function("<getAPISession/>"), auth=login(password="nope")))

    assert reply.control_status == "success"
    assert reply.auth_status == "failure"
    assert reply.errors[0]["description2"] == "Sign-in information is incorrect"
    assert reply.results == []


def test_sender_not_authorised_for_the_company(gateway: GatewayClient) -> None:
    xml = envelope(
        function("<getAPISession/>"), auth=login(), sender=OTHER_SENDER_ID, sender_password=OTHER_SENDER_PASSWORD
    )

    reply = gateway.post(xml)

    assert reply.auth_status == "failure"
    assert reply.errors[0]["description"] == "Invalid Web Services Authorization"
    assert OTHER_SENDER_ID in reply.errors[0]["description2"]


def test_get_api_session_returns_an_endpoint_back_to_the_sandbox(gateway: GatewayClient) -> None:
    reply = gateway.post(envelope(function("<getAPISession/>"), auth=login()))

    api = reply.data().find("api")
    assert api is not None
    assert api.findtext("endpoint") == f"{gateway.http.base_url}".rstrip("/") + "/intacct/ia/xml/xmlgw.phtml"
    assert api.findtext("sessionid", "").endswith("..")
    assert reply.root.findtext("operation/authentication/sessiontimeout")


def test_session_expires_after_inactivity_on_the_sandbox_clock(
    gateway: GatewayClient, sandbox_clock: httpx.Client, control: httpx.Client
) -> None:
    control.put("/sessions/ttl", json={"seconds": 600}).raise_for_status()
    session_id = gateway.open_session()
    sandbox_clock.put("/clock", json={"advance_seconds": 540}).raise_for_status()
    assert gateway.call(session_id, function("<getDimensions/>")).statuses == ["success"]  # activity extends it

    sandbox_clock.put("/clock", json={"advance_seconds": 540}).raise_for_status()
    assert gateway.call(session_id, function("<getDimensions/>")).auth_status == "success"
    sandbox_clock.put("/clock", json={"advance_seconds": 601}).raise_for_status()
    reply = gateway.call(session_id, function("<getDimensions/>"))

    assert reply.auth_status == "failure"
    assert reply.errors[0]["errorno"] == "XL03000006"
    assert reply.results == []


def test_expiring_all_sessions_through_the_control_api(gateway: GatewayClient, control: httpx.Client) -> None:
    session_id = gateway.open_session()

    assert control.delete("/sessions").json() == {"expired": 1}
    assert gateway.call(session_id, function("<getDimensions/>")).auth_status == "failure"


def test_uniqueid_replay_is_refused_and_not_executed(gateway: GatewayClient, control: httpx.Client) -> None:
    session_id = gateway.open_session()
    first = gateway.call(session_id, function(bill("ll-1")), control_id="export:item-1:1", unique_id=True)
    assert first.statuses == ["success"]

    replay = gateway.call(session_id, function(bill("ll-1")), control_id="export:item-1:1", unique_id=True)

    assert replay.control_status == "failure"
    assert replay.errors[0]["errorno"] == "BL34000061"
    assert "export:item-1:1" in replay.errors[0]["description2"]
    assert replay.root.find("operation") is None
    assert [row["RECORDID"] for row in bills(control)] == ["ll-1"]
    seen = control.get("/control_ids", params={"control_id": "export:item-1:1"}).json()["data"]
    assert [entry["outcome"] for entry in seen] == ["executed", "duplicate_refused"]


def test_without_uniqueid_the_same_control_id_runs_again(gateway: GatewayClient, control: httpx.Client) -> None:
    session_id = gateway.open_session()
    for _ in range(2):
        assert gateway.call(session_id, function(bill("ll-2")), control_id="same").statuses == ["success"]

    assert len(bills(control)) == 2


def test_a_request_that_ran_spends_its_control_id_even_when_its_functions_failed(
    gateway: GatewayClient, control: httpx.Client
) -> None:
    """The control id names the request, not its outcome: a client must settle what the first run did (look it up)
    and send anything again under a new control id."""
    session_id = gateway.open_session()
    failed = gateway.call(session_id, function(bill("ll-3", "ten")), control_id="retry-me", unique_id=True)
    assert failed.statuses == ["failure"]

    again = gateway.call(session_id, function(bill("ll-3")), control_id="retry-me", unique_id=True)
    fixed = gateway.call(session_id, function(bill("ll-3")), control_id="retry-me-2", unique_id=True)

    assert again.control_status == "failure" and again.results == []
    assert fixed.statuses == ["success"]
    assert len(bills(control)) == 1


def test_function_control_ids_only_match_results_and_guard_nothing(
    gateway: GatewayClient, control: httpx.Client
) -> None:
    """As on the real gateway, `uniqueid` makes the request's control id single-use, not a function's: a function
    control id seen before runs again in a new request. No client may lean on it for idempotency."""
    session_id = gateway.open_session()
    gateway.call(session_id, function(bill("ll-a"), "item-a"), unique_id=True)

    batch = gateway.call(session_id, function(bill("ll-a"), "item-a"), function(bill("ll-b"), "item-b"), unique_id=True)

    assert batch.statuses == ["success", "success"]
    assert sorted(row["RECORDID"] for row in bills(control)) == ["ll-a", "ll-a", "ll-b"]


def test_several_functions_fail_one_by_one(gateway: GatewayClient, control: httpx.Client) -> None:
    session_id = gateway.open_session()

    reply = gateway.call(
        session_id, function(bill("ok-1"), "f1"), function(bill("bad", "1,5"), "f2"), function(bill("ok-2"), "f3")
    )

    assert reply.statuses == ["success", "failure", "success"]
    assert [result.findtext("controlid") for result in reply.results] == ["f1", "f2", "f3"]
    assert reply.rows(0)[0]["RECORDNO"] and reply.rows(2)[0]["RECORDNO"]
    assert sorted(row["RECORDID"] for row in bills(control)) == ["ok-1", "ok-2"]


def test_transaction_rolls_every_function_back(gateway: GatewayClient, control: httpx.Client) -> None:
    session_id = gateway.open_session()

    reply = gateway.call(
        session_id,
        function(bill("t-1"), "f1"),
        function(bill("t-bad", "x"), "f2"),
        function(bill("t-3"), "f3"),
        transaction=True,
    )

    assert reply.statuses == ["aborted", "failure", "aborted"]
    assert reply.errors[-1]["errorno"] == "XL03000009"
    assert [error["errorno"] for error in reply.errors] == ["XL03000009"]  # the first result: aborted
    assert bills(control) == []


def test_login_with_an_unknown_entity_fails(gateway: GatewayClient) -> None:
    reply = gateway.post(envelope(function("<getAPISession/>"), auth=login(MULTI_ENTITY_COMPANY, entity="E999")))

    assert reply.auth_status == "failure"
    assert "E999" in reply.errors[0]["description2"]


def test_unknown_function_is_a_schema_error(gateway: GatewayClient) -> None:
    reply = gateway.call(gateway.open_session(), function("<launch_rocket/>"))

    assert reply.control_status == "failure"
    assert reply.errors[0]["errorno"] == "XL03000003"
    assert reply.root.findtext("control/senderid") == SENDER_ID
