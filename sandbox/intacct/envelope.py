"""Parsing `<request>` envelopes (with defusedxml) and rendering `<response>` ones.

Shapes follow the gateway: `control` echoes the sender, control id, uniqueid and dtdversion; `operation` holds the
`authentication` block and one `result` per function, each with status, function, controlid and data or errormessage.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from xml.etree.ElementTree import Element, ParseError, SubElement, tostring

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from sandbox.intacct.constants import ERR_XML
from sandbox.intacct.errors import ErrorDetail, IntacctError

XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'


@dataclass(frozen=True)
class Control:
    sender_id: str
    password: str
    control_id: str
    unique_id: bool
    dtd_version: str


@dataclass(frozen=True)
class FunctionCall:
    control_id: str
    name: str
    body: Element
    """The element naming the function (`<readByQuery>`, `<create>`, `<create_expensereport>`)."""

    @property
    def operation(self) -> str:
        """`name:OBJECT` when the function acts on an object, for logs and fault matching."""
        if self.name in ("create", "update", "delete") and len(self.body):
            return f"{self.name}:{self.body[0].tag}"
        object_name = (self.body.findtext("object") or "").strip()
        return f"{self.name}:{object_name}" if object_name else self.name


@dataclass(frozen=True)
class Envelope:
    control: Control
    authentication: Element | None
    functions: tuple[FunctionCall, ...]
    transaction: bool


def xml_error(description2: str) -> IntacctError:
    return IntacctError(ErrorDetail(ERR_XML, f"XML Parse schema error: {description2}"))


def parse_xml(body: bytes) -> Element:
    try:
        root: Element = fromstring(body)
    except (ParseError, DefusedXmlException, ValueError) as exc:
        raise xml_error(f"{exc}.") from exc
    return root


def _flag(text: str | None, default: bool) -> bool:
    return default if text is None or not text.strip() else text.strip().lower() == "true"


def parse_control(root: Element) -> Control:
    if root.tag != "request":
        raise xml_error(f"Element '{root.tag}': No matching global declaration available for the validation root.")
    control = root.find("control")
    if control is None:
        raise xml_error("Element 'request': Missing child element(s). Expected is ( control ).")
    return Control(
        sender_id=(control.findtext("senderid") or "").strip(),
        password=control.findtext("password") or "",
        control_id=(control.findtext("controlid") or "").strip(),
        unique_id=_flag(control.findtext("uniqueid"), default=True),
        dtd_version=(control.findtext("dtdversion") or "").strip(),
    )


def parse_operation(root: Element) -> Envelope:
    """The operation of a request whose control block has already been accepted."""
    control = parse_control(root)
    operation = root.find("operation")
    if operation is None:
        raise xml_error("Element 'request': Missing child element(s). Expected is ( operation ).")
    content = operation.find("content")
    functions = []
    for function in content.findall("function") if content is not None else []:
        if len(function) != 1:
            raise xml_error("Element 'function': a function holds exactly one child element.")
        functions.append(FunctionCall((function.get("controlid") or "").strip(), function[0].tag, function[0]))
    if not functions:
        raise xml_error("Element 'content': Missing child element(s). Expected is ( function ).")
    return Envelope(
        control, operation.find("authentication"), tuple(functions), _flag(operation.get("transaction"), default=False)
    )


def text_element(parent: Element, tag: str, text: str | None = "") -> Element:
    element = SubElement(parent, tag)
    element.text = text or ""
    return element


def errormessage(parent: Element, errors: Iterable[ErrorDetail]) -> Element:
    element = SubElement(parent, "errormessage")
    for error in errors:
        entry = SubElement(element, "error")
        text_element(entry, "errorno", error.errorno)
        text_element(entry, "description", error.description)
        text_element(entry, "description2", error.description2)
        text_element(entry, "correction", error.correction)
    return element


def control_block(parent: Element, control: Control | None, status: str) -> Element:
    element = SubElement(parent, "control")
    text_element(element, "status", status)
    if control is not None:
        text_element(element, "senderid", control.sender_id)
        text_element(element, "controlid", control.control_id)
        text_element(element, "uniqueid", "true" if control.unique_id else "false")
        text_element(element, "dtdversion", control.dtd_version)
    return element


def failed_control(control: Control | None, errors: Sequence[ErrorDetail]) -> Element:
    """A response refused before any operation runs (bad XML, bad sender, reused control id, outage, rate limit)."""
    root = Element("response")
    control_block(root, control, "failure")
    errormessage(root, errors)
    return root


def records(parent: Element, tag: str, rows: Iterable[dict[str, str]], fields: Sequence[str]) -> None:
    for row in rows:
        element = SubElement(parent, tag)
        for field in fields:
            text_element(element, field, row.get(field, ""))


def render(root: Element) -> bytes:
    return XML_DECLARATION + tostring(root, encoding="unicode").encode()
