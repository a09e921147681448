"""Classification: Intacct's failures (mostly inside HTTP 200 XML) end in the right class, with redacted excerpts.

The sandbox shows behaviour over real HTTP; `httpx.MockTransport` answers what the sandbox cannot produce
(a failure inside one function's result, an unreadable answer to both a write and its lookup).
"""

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from defusedxml.ElementTree import fromstring

from connectors import http
from connectors.intacct import IntacctConnector, envelope
from connectors.intacct.envelope import ErrorDetail
from connectors.intacct.errors import classify_errors
from core.domain import DocumentKind, RemoteDocument
from core.errors import (
    AuthError,
    DestinationRejected,
    LedgerlineError,
    OutcomeUnknown,
    RateLimited,
    Transient,
    ValidationError,
)
from sandbox.intacct.constants import SENDER_PASSWORD, USER_PASSWORD
from tests.connectors.conformance import inject
from tests.connectors.intacct import factories
from tests.connectors.intacct.conftest import context_for
from tests.sandbox_fixtures import RunningSandbox

Handler = Callable[[httpx.Request], httpx.Response]
SESSION_ID = "mock-session-id-0123456789.."
MOCK_URL = "https://intacct.test"


def _login_answer() -> str:
    return (
        "<response><control><status>success</status></control><operation><authentication><status>success</status>"
        "</authentication><result><status>success</status><function>getAPISession</function><controlid>{id}"
        f"</controlid><data><api><sessionid>{SESSION_ID}</sessionid><endpoint>{MOCK_URL}/ia/xml/xmlgw.phtml"
        "</endpoint></api></data></result></operation></response>"
    )


def _function_failure(errorno: str, description2: str) -> str:
    return (
        "<response><control><status>success</status></control><operation><authentication><status>success</status>"
        "</authentication><result><status>failure</status><function>{name}</function><controlid>{id}</controlid>"
        f"<errormessage><error><errorno>{errorno}</errorno><description></description>"
        f"<description2>{description2}</description2><correction></correction></error></errormessage>"
        "</result></operation></response>"
    )


def gateway(answer: Callable[[str, str], httpx.Response]) -> Handler:
    """A fake gateway: logs in, then answers each request by its first function's name and control id."""

    def handle(request: httpx.Request) -> httpx.Response:
        function = fromstring(request.content).find("operation/content/function")
        assert function is not None
        name, control_id = function[0].tag, function.get("controlid", "")
        if name == "getAPISession":
            return httpx.Response(200, text=_login_answer().replace("{id}", control_id))
        return answer(name, control_id)

    return handle


def mock_connector(handler: Handler) -> IntacctConnector:
    return IntacctConnector(context_for(MOCK_URL, transport=httpx.MockTransport(handler)))


def failing(errorno: str, description2: str) -> Callable[[str, str], httpx.Response]:
    template = _function_failure(errorno, description2)
    return lambda name, control_id: httpx.Response(
        200, text=template.replace("{name}", name).replace("{id}", control_id)
    )


def unreadable(name: str, control_id: str) -> httpx.Response:
    return httpx.Response(200, text="<response><control><status>succ")


async def test_a_rate_limited_read_says_when_to_retry(connector: IntacctConnector, sandbox: RunningSandbox) -> None:
    inject(sandbox, system="intacct", operation="readByQuery:VENDOR", mode="rate_limit", retry_after=7, times=1)

    with pytest.raises(RateLimited) as raised:
        [value async for value in connector.import_dimensions("vendor", since=None)]

    assert raised.value.retry_at is not None
    assert timedelta(seconds=5) <= raised.value.retry_at - datetime.now(UTC) <= timedelta(seconds=8)


async def test_the_sandbox_rate_limit_is_rate_limited(
    connector: IntacctConnector, sandbox_control: httpx.AsyncClient
) -> None:
    (await sandbox_control.put("/rate_limits/intacct", json={"per_minute": 1})).raise_for_status()
    await connector.check()  # the one call of this minute

    [outcome] = await connector.push([factories.bill("ll-throttled")])

    assert isinstance(outcome, RateLimited) and outcome.retry_at is not None


async def test_a_rate_limit_inside_a_function_result_is_rate_limited() -> None:
    connector = mock_connector(gateway(failing("GW-0010", "API rate limit exceeded")))
    async with connector:
        with pytest.raises(RateLimited):
            await connector.find_by_reference(DocumentKind.BILL, "ll-1")


async def test_the_service_off_line_is_transient(connector: IntacctConnector, sandbox: RunningSandbox) -> None:
    inject(sandbox, system="intacct", operation="query:EEXPENSES", mode="error", status=503, times=1)

    with pytest.raises(Transient) as raised:
        await connector.find_by_reference(DocumentKind.EXPENSE_REPORT, "ll-1")

    assert raised.value.response is not None and "Temporarily Off-line" in (raised.value.response.body or "")
    assert await connector.find_by_reference(DocumentKind.EXPENSE_REPORT, "ll-1") is None


def control_off_line(name: str, control_id: str) -> httpx.Response:
    """The gateway's own outage notice in a 200: the control block failed with GW-0001."""
    return httpx.Response(
        200,
        text="<response><control><status>failure</status></control><errormessage><error><errorno>GW-0001</errorno>"
        "<description>The Service is Temporarily Off-line</description><description2></description2>"
        "<correction></correction></error></errormessage></response>",
    )


async def test_an_off_line_notice_to_a_write_leaves_its_outcome_unknown_and_to_a_read_is_transient() -> None:
    """Issue 15, path 1: only an answer that proves the write was not applied may count as not sent."""
    connector = mock_connector(gateway(control_off_line))
    async with connector:
        [outcome] = await connector.push([factories.bill("ll-1")])
        with pytest.raises(Transient) as read:
            await connector.find_by_reference(DocumentKind.BILL, "ll-1")

    assert isinstance(outcome, OutcomeUnknown), outcome
    assert not isinstance(read.value, OutcomeUnknown)


async def test_off_line_inside_a_function_result_is_transient() -> None:
    connector = mock_connector(gateway(failing("GW-0001", "The Service is Temporarily Off-line")))
    async with connector:
        [outcome] = await connector.push([factories.bill("ll-1")])

    assert isinstance(outcome, Transient) and outcome.code == "offline"


async def test_an_unreadable_answer_to_a_read_is_transient(
    connector: IntacctConnector, sandbox: RunningSandbox
) -> None:
    inject(sandbox, system="intacct", operation="readByQuery:GLACCOUNT", mode="malformed", times=1)

    with pytest.raises(Transient) as raised:
        [value async for value in connector.import_dimensions("account", since=None)]

    assert not isinstance(raised.value, OutcomeUnknown)
    assert raised.value.code == "malformed_response"


async def test_an_unreadable_answer_to_a_write_is_looked_up_and_adopted(
    connector: IntacctConnector, sandbox: RunningSandbox, control: httpx.AsyncClient
) -> None:
    """The sandbox ran the write and garbled its answer: the lookup finds the bill, so it is adopted, not resent."""
    inject(sandbox, system="intacct", operation="create:APBILL", mode="malformed", times=1)

    [outcome] = await connector.push([factories.bill("ll-garbled")])

    assert isinstance(outcome, RemoteDocument) and outcome.adopted
    assert len(await factories.stored(control, DocumentKind.BILL, "ll-garbled")) == 1


async def test_an_unreadable_answer_to_a_write_with_no_lookup_is_outcome_unknown() -> None:
    connector = mock_connector(gateway(unreadable))
    async with connector:
        [outcome] = await connector.push([factories.bill("ll-1")])

    assert isinstance(outcome, OutcomeUnknown) and outcome.code == "malformed_response"
    assert outcome.response is not None and outcome.response.status == 200


async def test_an_unreadable_login_answer_is_transient_and_leaks_no_session(
    connector: IntacctConnector, sandbox: RunningSandbox
) -> None:
    inject(sandbox, system="intacct", operation="getAPISession", mode="malformed", times=1)

    with pytest.raises(Transient) as raised:
        await connector.check()

    body = raised.value.response.body if raised.value.response else ""
    assert not re.search(r"<sessionid>(?!\[redacted\])", body or "")


async def test_a_login_answer_cut_inside_the_session_id_does_not_leak_it() -> None:
    cut = _login_answer().index(SESSION_ID) + len(SESSION_ID) // 2

    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text=_login_answer()[:cut])

    connector = mock_connector(handle)
    async with connector:
        with pytest.raises(Transient) as raised:
            await connector.check()

    body = raised.value.response.body if raised.value.response else ""
    assert body and body.endswith("<sessionid>[redacted]")
    assert SESSION_ID[: len(SESSION_ID) // 2] not in body


async def test_a_dropped_write_is_looked_up_then_unknown(connector: IntacctConnector, sandbox: RunningSandbox) -> None:
    await connector.check()
    inject(sandbox, system="intacct", operation="create:APBILL", mode="reset", times=1)
    inject(sandbox, system="intacct", operation="query:APBILL", mode="error", status=503, times=1)

    [outcome] = await connector.push([factories.bill("ll-dropped")])

    assert isinstance(outcome, OutcomeUnknown) and outcome.code == "no_answer"


async def test_excerpts_never_carry_passwords_or_session_ids(
    connector: IntacctConnector, broken_connector: IntacctConnector, sandbox: RunningSandbox
) -> None:
    with pytest.raises(AuthError) as login_failure:
        await broken_connector.check()
    await connector.check()
    inject(sandbox, system="intacct", operation="create:APBILL", mode="error", status=500, times=1)
    inject(sandbox, system="intacct", operation="query:APBILL", mode="error", status=500, times=1)
    [outage] = await connector.push([factories.bill("ll-secret")])
    [refused] = await connector.push([factories.bill("ll-secret-2", counterparty="V-NOBODY")])
    session_id = (await connector.gateway.sessions.current()).session_id

    assert isinstance(outage, OutcomeUnknown) and isinstance(refused, DestinationRejected)
    for error in (login_failure.value, outage, refused):
        assert error.request is not None and error.request.body
        assert error.response is not None and error.response.body
        for body in (error.request.body, error.response.body):
            assert USER_PASSWORD not in body and SENDER_PASSWORD not in body and session_id not in body
    assert "<password>[redacted]</password>" in str(login_failure.value.request)
    assert "<sessionid>[redacted]</sessionid>" in str(outage.request)


@pytest.mark.parametrize(
    ("errorno", "description2", "expected", "code"),
    [
        ("XL03000006", "Sign-in information is incorrect", AuthError, None),
        ("GW-0010", "API rate limit exceeded: retry after 7 seconds.", RateLimited, None),
        ("GW-0001", "The Service is Temporarily Off-line. Injected failure.", Transient, "offline"),
        ("BL01001973", "Invalid Vendor 'V9' specified.", DestinationRejected, "invalid_reference"),
        ("BL01001973", "Account 99999 is not valid", DestinationRejected, "invalid_reference"),
        ("BL01001973", "Department 999 is not valid", DestinationRejected, "invalid_reference"),
        ("BL01001973", "The employee '9999' is invalid.", DestinationRejected, "invalid_reference"),
        ("BL01001973", "The vendor 'V00013' is inactive.", DestinationRejected, "inactive_reference"),
        ("BL01001973", "Required field VENDORID is missing", ValidationError, "invalid_document"),
        ("BL01001973", "TRX_AMOUNT '12,50' is not a valid number.", ValidationError, "invalid_document"),
        ("BL01001973", "Debits and credits are not equal: debits 1.00, credits 2.00.", ValidationError, None),
        ("XL03000003", "XML Parse schema error: Element 'x': This element is not expected.", ValidationError, "schema"),
        ("Query Failed", "Invalid field 'NOPE' for object VENDOR.", ValidationError, "query_failed"),
        (
            "Query Failed",
            "There is no open result set for resultId 'abc': it does not exist, has expired or has been read.",
            Transient,
            "result_set_expired",
        ),
        ("BL01001973", "Currency XXX is not valid", DestinationRejected, "invalid_reference"),
        ("PL04000055", "Something nobody has seen before", DestinationRejected, "refused"),
    ],
)
def test_intacct_errors_map_onto_the_taxonomy(
    errorno: str, description2: str, expected: type[LedgerlineError], code: str | None
) -> None:
    errors = [ErrorDetail(errorno, "", description2, "Do it right."), ErrorDetail("BL01001973", "", "x", "")]
    if errorno == "BL01001973":  # a refused create ends with the generic trailer, which is never the cause
        errors[1] = ErrorDetail("BL01001973", "", "Could not create Bill record!", "")

    error = classify_errors(errors[:1] if errorno != "BL01001973" else errors)

    assert type(error) is expected
    if code is not None:
        assert error.code == code
    assert error.provider_code == errorno
    assert description2 in error.message
    assert error.hint


async def test_a_failed_function_names_its_cause_not_the_trailer(connector: IntacctConnector) -> None:
    [outcome] = await connector.push([factories.bill("ll-cause", lines=(factories.line(account="99999"),))])

    assert isinstance(outcome, DestinationRejected)
    assert outcome.message == "Account 99999 is not valid; Could not create Bill record!"
    assert outcome.hint and "re-import" in outcome.hint


async def test_a_successful_answer_is_parsed_once_and_never_redacted(
    connector: IntacctConnector, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Parsing and redacting a 50-bill answer is a real share of an export's CPU: a success parses it once (for
    both the classification and the results) and makes no excerpts, which only a failure needs."""
    async with connector:
        await connector.check()  # the session: its own request
        parsed: list[bytes] = []
        redacted: list[str] = []
        parse, redact = envelope.parse_reply, http.redact_text
        monkeypatch.setattr(envelope, "parse_reply", lambda body: parsed.append(body) or parse(body))
        monkeypatch.setattr(http, "redact_text", lambda text, *args: redacted.append(text) or redact(text, *args))

        assert await connector.find_by_reference(DocumentKind.BILL, "ll-never-sent") is None

    assert len(parsed) == 1
    assert redacted == []
