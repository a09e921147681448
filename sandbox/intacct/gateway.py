"""The XML gateway: control block → authentication → functions → response, with Intacct's failure levels.

A control-level failure (bad XML, wrong sender, reused control id) runs nothing; an authentication failure runs
no function; a function failure affects only that function, unless the operation is `transaction="true"`, in which
case every function is rolled back and reported `aborted` (XL03000009) beside the one that failed.

`uniqueid=true` makes the request's `control/controlid` single-use per sender and company, as the real gateway does:
once a request has run (whatever became of its functions), a request with the same control id is refused as a whole
before anything runs. A function's `controlid` attribute only matches its result to it: the gateway enforces
nothing on it, so no client can lean on a guarantee the real system lacks.
"""

import secrets
from dataclasses import dataclass
from xml.etree.ElementTree import Element, SubElement

from sandbox.intacct.auth import SENDERS, AuthenticationFailed, Identity
from sandbox.intacct.constants import DTD_VERSION, ERR_CREDENTIALS, ERR_DUPLICATE
from sandbox.intacct.context import Context, Handler, Outcome
from sandbox.intacct.envelope import (
    Control,
    Envelope,
    FunctionCall,
    control_block,
    errormessage,
    failed_control,
    parse_control,
    parse_operation,
    parse_xml,
    render,
    text_element,
    xml_error,
)
from sandbox.intacct.errors import ErrorDetail, IntacctError, rolled_back
from sandbox.intacct.reads import READ_FUNCTIONS
from sandbox.intacct.state import ControlIdEntry, FunctionTrace, SimulatorState
from sandbox.intacct.values import format_iso, format_timestamp
from sandbox.intacct.writes import WRITE_FUNCTIONS

SUCCESS, FAILURE, ABORTED = "success", "failure", "aborted"


@dataclass(frozen=True)
class FunctionResult:
    call: FunctionCall
    status: str
    outcome: Outcome | None = None
    errors: tuple[ErrorDetail, ...] = ()


def get_api_session(ctx: Context, body: Element) -> Outcome:
    """The session of this request (a login opened a fresh one) and the endpoint to send later calls to."""
    data = Element("data")
    api = SubElement(data, "api")
    text_element(api, "sessionid", ctx.identity.session.session_id)
    text_element(api, "endpoint", ctx.endpoint)
    text_element(api, "locationid", ctx.entity)
    return Outcome(data=data)


FUNCTIONS: dict[str, Handler] = {"getAPISession": get_api_session, **READ_FUNCTIONS, **WRITE_FUNCTIONS}


def _reused(control_id: str, sender_id: str, company_id: str) -> ErrorDetail:
    return ErrorDetail(
        ERR_DUPLICATE,
        f"Another request with the control ID '{control_id}' has already been executed for sender '{sender_id}' "
        f"and company '{company_id}'.",
        description="Duplicate control ID",
        correction="With uniqueid=true a control ID is single-use: look the earlier result up instead of resending.",
    )


class Gateway:
    def __init__(self, state: SimulatorState) -> None:
        self.state = state

    def handle(self, body: bytes, endpoint: str) -> bytes:
        try:
            root = parse_xml(body)
            control = parse_control(root)
        except IntacctError as error:
            return render(failed_control(None, error.errors))
        refusal = self._check_control(control)
        if refusal is not None:
            self._log(control, "", "control_failed")
            return render(failed_control(control, [refusal]))
        try:
            envelope = parse_operation(root)
            unknown = next((call.name for call in envelope.functions if call.name not in FUNCTIONS), None)
            if unknown is not None:
                raise xml_error(f"Element '{unknown}': This element is not expected.")
            if envelope.authentication is None:
                raise xml_error("Element 'operation': Missing child element(s). Expected is ( authentication ).")
        except IntacctError as error:
            self._log(control, "", "control_failed")
            return render(failed_control(control, error.errors))
        return render(self._operate(control, envelope, envelope.authentication, endpoint))

    def _check_control(self, control: Control) -> ErrorDetail | None:
        expected = SENDERS.get(control.sender_id)
        if expected is None or not secrets.compare_digest(expected, control.password):
            return ErrorDetail(
                ERR_CREDENTIALS,
                "Incorrect Intacct XML Partner ID or password.",
                correction="Check the Web Services sender ID and password.",
            )
        if control.dtd_version != DTD_VERSION:
            return xml_error(f"dtdversion '{control.dtd_version}' is not supported; use {DTD_VERSION}.").errors[0]
        if not control.control_id:
            return xml_error("Element 'controlid': [facet 'minLength'] The value has a length of '0'.").errors[0]
        return None

    def _operate(self, control: Control, envelope: Envelope, authentication: Element, endpoint: str) -> Element:
        try:
            identity = self.state.sessions.authenticate(authentication, control.sender_id)
        except AuthenticationFailed as failure:
            self._log(control, failure.company_id, "authentication_failed")
            root = Element("response")
            control_block(root, control, "success")
            operation = SubElement(root, "operation")
            block = SubElement(operation, "authentication")
            text_element(block, "status", "failure")
            text_element(block, "userid", failure.user_id)
            text_element(block, "companyid", failure.company_id)
            errormessage(operation, failure.errors)
            return root
        request_key = (control.sender_id, identity.company_id, control.control_id)
        if control.unique_id and request_key in self.state.executed_requests:
            self._log(control, identity.company_id, "duplicate_refused")
            return failed_control(control, [_reused(control.control_id, control.sender_id, identity.company_id)])
        session = identity.session
        ctx = Context(
            identity,
            self.state.stores[identity.company_id],
            self.state.clock,
            endpoint,
            self.state.result_sets,
            format_iso(self.state.sessions.expires_at(session)),
        )
        results = self._run(ctx, envelope)
        if control.unique_id:
            self.state.executed_requests.add(request_key)
        self._log(
            control,
            identity.company_id,
            "executed",
            tuple(FunctionTrace(result.call.control_id, result.call.operation, result.status) for result in results),
        )
        return self._response(control, identity, ctx, results)

    def _run(self, ctx: Context, envelope: Envelope) -> list[FunctionResult]:
        """Run each function atomically; with `transaction="true"`, all of them or none."""
        store = ctx.store
        before = store.state()
        results: list[FunctionResult] = []
        for call in envelope.functions:
            if envelope.transaction and any(result.status == FAILURE for result in results):
                results.append(FunctionResult(call, ABORTED, errors=(rolled_back(),)))
                continue
            snapshot = store.state()
            try:
                results.append(FunctionResult(call, SUCCESS, FUNCTIONS[call.name](ctx, call.body)))
            except IntacctError as error:
                store.restore(snapshot)
                results.append(FunctionResult(call, FAILURE, errors=error.errors))
        if envelope.transaction and any(result.status == FAILURE for result in results):
            store.restore(before)
            return [
                FunctionResult(result.call, FAILURE, errors=(*result.errors, rolled_back()))
                if result.status == FAILURE
                else FunctionResult(result.call, ABORTED, errors=(rolled_back(),))
                for result in results
            ]
        return results

    def _response(self, control: Control, identity: Identity, ctx: Context, results: list[FunctionResult]) -> Element:
        root = Element("response")
        control_block(root, control, "success")
        operation = SubElement(root, "operation")
        block = SubElement(operation, "authentication")
        text_element(block, "status", "success")
        text_element(block, "userid", identity.user_id)
        text_element(block, "companyid", identity.company_id)
        text_element(block, "locationid", identity.entity_id)
        text_element(block, "sessiontimestamp", format_iso(self.state.clock.now()))
        text_element(block, "sessiontimeout", ctx.session_expiry)
        for outcome in results:
            result = SubElement(operation, "result")
            text_element(result, "status", outcome.status)
            text_element(result, "function", outcome.call.name)
            text_element(result, "controlid", outcome.call.control_id)
            if outcome.errors:
                errormessage(result, outcome.errors)
            elif outcome.outcome is not None and outcome.outcome.key is not None:
                text_element(result, "key", outcome.outcome.key)
            if outcome.outcome is not None and outcome.outcome.data is not None:
                result.append(outcome.outcome.data)
        return root

    def _log(self, control: Control, company_id: str, outcome: str, functions: tuple[FunctionTrace, ...] = ()) -> None:
        self.state.control_log.append(
            ControlIdEntry(
                format_timestamp(self.state.clock.now()),
                control.sender_id,
                company_id,
                control.control_id,
                control.unique_id,
                outcome,
                functions,
            )
        )
