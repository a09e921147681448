"""The XML of the gateway: `<request>` envelopes out (built with ElementTree, which escapes every value), `<response>`
envelopes in (parsed with defusedxml, because the body comes from the network).

A response fails at one of three levels: `control` (nothing ran), `operation/authentication` (no function ran), or
per function `result` (only that function failed). The first two are a whole-call failure for `classify`; the
third is one document's outcome.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from xml.etree.ElementTree import Element, ParseError, SubElement, tostring

import httpx
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from connectors.intacct.constants import DTD_VERSION, READ_FUNCTIONS, SUCCESS, XML_DECLARATION


class MalformedReplyError(ValueError):
    """The body is not a gateway response we can read (truncated, not XML, wrong shape)."""


@dataclass(frozen=True)
class Function:
    """One `<function controlid="…">` of a request: its id and the element naming what it does."""

    control_id: str
    body: Element

    @property
    def is_write(self) -> bool:
        return self.body.tag not in READ_FUNCTIONS

    def xml(self) -> str:
        return tostring(self.body, encoding="unicode")


@dataclass(frozen=True)
class Sender:
    """Ledgerline's Web Services partner credentials, sent in every control block."""

    sender_id: str
    password: str = field(repr=False)


@dataclass(frozen=True)
class ErrorDetail:
    errorno: str
    description: str
    description2: str
    correction: str

    @property
    def text(self) -> str:
        return self.description2 or self.description


@dataclass(frozen=True)
class Result:
    """One function's answer, in the order the functions were sent."""

    status: str
    control_id: str
    element: Element
    errors: tuple[ErrorDetail, ...]

    @property
    def ok(self) -> bool:
        return self.status == SUCCESS

    @property
    def key(self) -> str:
        """The legacy functions' `<key>`, else the first `RECORDNO` a generic create returned."""
        return (self.element.findtext("key") or self.element.findtext("data/*/RECORDNO") or "").strip()

    @property
    def data(self) -> Element | None:
        return self.element.find("data")

    def rows(self) -> list[dict[str, str]]:
        data = self.data
        return [] if data is None else [row_of(child) for child in data]

    def xml(self) -> str:
        return tostring(self.element, encoding="unicode")


@dataclass(frozen=True)
class Reply:
    control_status: str
    control_errors: tuple[ErrorDetail, ...]
    authentication_status: str
    authentication_errors: tuple[ErrorDetail, ...]
    results: tuple[Result, ...]


def text_element(parent: Element, tag: str, text: str | None) -> Element:
    element = SubElement(parent, tag)
    element.text = text or ""
    return element


def optional_element(parent: Element, tag: str, text: str | None) -> None:
    """Only present values: an empty element would clear the field or break a legacy function's DTD."""
    if text:
        text_element(parent, tag, text)


def login(*, user_id: str, company_id: str, password: str, entity_id: str) -> Element:
    authentication = Element("authentication")
    block = SubElement(authentication, "login")
    text_element(block, "userid", user_id)
    text_element(block, "companyid", company_id)
    text_element(block, "password", password)
    optional_element(block, "locationid", entity_id)
    return authentication


def session(session_id: str) -> Element:
    authentication = Element("authentication")
    text_element(authentication, "sessionid", session_id)
    return authentication


def build_request(*, sender: Sender, control_id: str, authentication: Element, functions: Sequence[Function]) -> bytes:
    """A request whose control id is single-use when it writes (`uniqueid=true`), so a replay is refused.

    A function's own `controlid` only matches its result to it; the request's control id is the idempotency unit.
    No `transaction="true"`: one document's failure must not roll back the others.
    """
    root = Element("request")
    control = SubElement(root, "control")
    text_element(control, "senderid", sender.sender_id)
    text_element(control, "password", sender.password)
    text_element(control, "controlid", control_id)
    text_element(control, "uniqueid", "true" if any(function.is_write for function in functions) else "false")
    text_element(control, "dtdversion", DTD_VERSION)
    text_element(control, "includewhitespace", "false")
    operation = SubElement(root, "operation")
    operation.append(authentication)
    content = SubElement(operation, "content")
    for function in functions:
        SubElement(content, "function", controlid=function.control_id).append(function.body)
    return XML_DECLARATION + tostring(root, encoding="unicode").encode()


def _parse(body: bytes) -> Element:
    try:
        root: Element = fromstring(body)
    except (ParseError, DefusedXmlException, ValueError) as exc:
        raise MalformedReplyError(f"the body is not well-formed XML ({exc})") from exc
    return root


def parse_errors(parent: Element | None) -> tuple[ErrorDetail, ...]:
    if parent is None:
        return ()
    return tuple(
        ErrorDetail(
            errorno=(error.findtext("errorno") or "").strip(),
            description=(error.findtext("description") or "").strip(),
            description2=(error.findtext("description2") or "").strip(),
            correction=(error.findtext("correction") or "").strip(),
        )
        for error in parent.findall("errormessage/error")
    )


def row_of(element: Element) -> dict[str, str]:
    """A record as field → text. Nested fields come back flat with dotted names (`CONTACT.PRINTAS`)."""
    return {child.tag: (child.text or "").strip() for child in element}


def parse_reply(body: bytes) -> Reply:
    root = _parse(body)
    control_status = root.findtext("control/status")
    if root.tag != "response" or control_status is None:
        raise MalformedReplyError(f"<{root.tag}> is not a gateway response")
    operation = root.find("operation")
    authentication = operation.find("authentication") if operation is not None else None
    results = tuple(
        Result(
            status=(result.findtext("status") or "").strip(),
            control_id=(result.findtext("controlid") or "").strip(),
            element=result,
            errors=parse_errors(result),
        )
        for result in (operation.findall("result") if operation is not None else [])
    )
    return Reply(
        control_status=control_status.strip(),
        control_errors=parse_errors(root),
        authentication_status=(authentication.findtext("status") or "").strip() if authentication is not None else "",
        authentication_errors=parse_errors(operation),
        results=results,
    )


REPLY_EXTENSION = "ledgerline.intacct_reply"


def reply_of(response: httpx.Response) -> Reply:
    """The response's reply, parsed once and kept on it: the connector's `classify` and the gateway both read it."""
    reply: Reply | None = response.extensions.get(REPLY_EXTENSION)
    if reply is None:
        reply = response.extensions[REPLY_EXTENSION] = parse_reply(response.content)
    return reply


def wrote_anything(body: bytes) -> bool:
    """Whether a request we sent holds a write, to tell what a lost answer may have hidden."""
    try:
        root = _parse(body)
    except MalformedReplyError:
        return True  # cannot tell: assume the worst
    return any(
        len(function) and function[0].tag not in READ_FUNCTIONS
        for function in root.findall("operation/content/function")
    )


def used_session(body: bytes) -> bool:
    """Whether a request authenticated with a session id (an authentication failure then means it expired)."""
    try:
        return _parse(body).find("operation/authentication/sessionid") is not None
    except MalformedReplyError:
        return False
