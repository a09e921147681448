"""Raw XML requests to the simulated gateway, for what the official SDK never sends: several functions in one
request, `uniqueid=true`, `transaction="true"`, other senders. Responses are read with the standard library."""

import uuid
from dataclasses import dataclass
from xml.etree.ElementTree import Element
from xml.sax.saxutils import escape

import httpx
from defusedxml.ElementTree import fromstring

from sandbox.intacct.constants import (
    SENDER_ID,
    SENDER_PASSWORD,
    SINGLE_ENTITY_COMPANY,
    USER_ID,
    USER_PASSWORD,
)

GATEWAY_PATH = "/intacct/ia/xml/xmlgw.phtml"


def function(body: str, control_id: str | None = None) -> str:
    return f'<function controlid="{control_id or uuid.uuid4()}">{body}</function>'


def login(
    company: str = SINGLE_ENTITY_COMPANY, *, user: str = USER_ID, password: str = USER_PASSWORD, entity: str = ""
) -> str:
    return (
        f"<login><userid>{user}</userid><companyid>{company}</companyid><password>{escape(password)}</password>"
        f"<locationid>{entity}</locationid></login>"
    )


def session(session_id: str) -> str:
    return f"<sessionid>{session_id}</sessionid>"


def envelope(
    *functions: str,
    auth: str,
    control_id: str | None = None,
    unique_id: bool = False,
    sender: str = SENDER_ID,
    sender_password: str = SENDER_PASSWORD,
    transaction: bool = False,
) -> str:
    operation = '<operation transaction="true">' if transaction else "<operation>"
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><request><control><senderid>{sender}</senderid>'
        f"<password>{escape(sender_password)}</password><controlid>{control_id or uuid.uuid4()}</controlid>"
        f"<uniqueid>{'true' if unique_id else 'false'}</uniqueid><dtdversion>3.0</dtdversion>"
        f"<includewhitespace>false</includewhitespace></control>{operation}<authentication>{auth}</authentication>"
        f"<content>{''.join(functions)}</content></operation></request>"
    )


def errors_of(element: Element) -> list[dict[str, str]]:
    return [{child.tag: child.text or "" for child in error} for error in element.findall("errormessage/error")]


@dataclass
class Reply:
    status_code: int
    root: Element

    @property
    def control_status(self) -> str:
        return self.root.findtext("control/status", "")

    @property
    def auth_status(self) -> str:
        return self.root.findtext("operation/authentication/status", "")

    @property
    def results(self) -> list[Element]:
        return self.root.findall("operation/result")

    @property
    def statuses(self) -> list[str]:
        return [result.findtext("status", "") for result in self.results]

    def data(self, index: int = 0) -> Element:
        data = self.results[index].find("data")
        assert data is not None, errors_of(self.results[index])
        return data

    def rows(self, index: int = 0) -> list[dict[str, str]]:
        return [{field.tag: field.text or "" for field in row} for row in self.data(index)]

    @property
    def errors(self) -> list[dict[str, str]]:
        """Errors at control level, else authentication level, else of the first result."""
        for element in (self.root, self.root.find("operation")):
            if element is not None and element.find("errormessage") is not None:
                return errors_of(element)
        return errors_of(self.results[0])


class GatewayClient:
    def __init__(self, base_url: str) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=30)

    def post(self, xml: str) -> Reply:
        response = self.http.post(GATEWAY_PATH, content=xml.encode(), headers={"content-type": "application/xml"})
        return Reply(response.status_code, fromstring(response.content))

    def open_session(self, company: str = SINGLE_ENTITY_COMPANY, entity: str = "") -> str:
        reply = self.post(envelope(function("<getAPISession/>"), auth=login(company, entity=entity)))
        assert reply.statuses == ["success"], reply.errors
        return reply.data().findtext("api/sessionid", "")

    def call(
        self,
        session_id: str,
        *functions: str,
        control_id: str | None = None,
        unique_id: bool = False,
        transaction: bool = False,
    ) -> Reply:
        return self.post(
            envelope(
                *functions,
                auth=session(session_id),
                control_id=control_id,
                unique_id=unique_id,
                transaction=transaction,
            )
        )
