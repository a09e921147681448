"""A minimal Xero behind `httpx.MockTransport`, for answers the simulator cannot give (an unreadable 200, an answer
missing a document, a lookup that fails, a day's 429) and for checking exactly what the connector sends.

It keeps documents per collection, answers PUTs per item (`summarizeErrors=false`), replays a repeated
Idempotency-Key's first answer, and filters GETs by `InvoiceNumbers=`, `IDs=` and `where=Field=="a" OR …`.
"""

import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from connectors.base import ConnectorContext
from connectors.xero import XeroConnector

Json = dict[str, Any]
API = "https://api.xero.com/api.xro/2.0"
TENANT = "9f0c1d2e-3a4b-4c5d-8e6f-7a8b9c0d1e2f"
URLS = {
    "api": API,
    "connections": "https://api.xero.com/connections",
    "authorize": "https://login.xero.com/identity/connect/authorize",
    "token": "https://identity.xero.com/connect/token",
    "revoke": "https://identity.xero.com/connect/revocation",
    "app": "https://go.xero.com",
}
ID_FIELDS = {
    "Invoices": "InvoiceID",
    "BankTransactions": "BankTransactionID",
    "ManualJournals": "ManualJournalID",
    "Payments": "PaymentID",
}
EQUALS = re.compile(r'(\w+)=="((?:[^"\\]|\\.)*)"')
Hook = Callable[[httpx.Request], httpx.Response | None]


@dataclass
class FakeXero:
    documents: dict[str, list[Json]] = field(default_factory=lambda: {name: [] for name in ID_FIELDS})
    answered_keys: dict[str, httpx.Response] = field(default_factory=dict)
    requests: list[httpx.Request] = field(default_factory=list)
    organisation: Json = field(default_factory=lambda: {"Name": "Demo", "BaseCurrency": "NZD"})
    lists: dict[str, list[Json]] = field(default_factory=dict)
    refuse: Callable[[Json], list[str]] = lambda body: []
    """Validation messages for one document body; none: created."""
    hooks: list[Hook] = field(default_factory=list)
    """Tried first, in order: an answer of their own, or None to let the fake answer."""

    def connector(self) -> XeroConnector:
        context = ConnectorContext(
            tenant_id=uuid.uuid4(),
            connection_id=uuid.uuid4(),
            urls=URLS,
            settings={"tenant_id": TENANT},
            transport=httpx.MockTransport(self.handle),
        )
        return XeroConnector(context)

    def sent(self, method: str, path: str) -> list[httpx.Request]:
        return [request for request in self.requests if request.method == method and request.url.path.endswith(path)]

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        for hook in self.hooks:
            answer = hook(request)
            if answer is not None:
                return answer
        path = request.url.path.removeprefix("/api.xro/2.0")
        if request.url.host == "api.xero.com" and request.url.path == "/connections":
            return httpx.Response(200, json=self.lists.get("connections", []))
        if request.headers.get("xero-tenant-id") != TENANT:
            return httpx.Response(403, json={"Title": "Forbidden", "Detail": "AuthorizationUnsuccessful"})
        collection = path.strip("/").split("/")[0]
        if request.method == "PUT" and "/Attachments/" in path:
            return httpx.Response(200, json={"Attachments": [{"FileName": path.rsplit("/", 1)[1]}]})
        if request.method == "PUT":
            return self._put(request, collection)
        if collection == "Organisation":
            return httpx.Response(200, json={"Organisations": [self.organisation]})
        if collection in self.documents:
            return httpx.Response(200, json={collection: self._filtered(request, collection)})
        if collection in self.lists:
            return httpx.Response(200, json={collection: self.lists[collection]})
        return httpx.Response(404, json={"Message": "not found"})

    def _put(self, request: httpx.Request, collection: str) -> httpx.Response:
        key = request.headers.get("Idempotency-Key", "")
        if key in self.answered_keys:
            return self.answered_keys[key]
        answer: list[Json] = []
        for body in json.loads(request.content)[collection]:
            messages = self.refuse(body)
            if messages:
                errors = [{"Message": message} for message in messages]
                answer.append(
                    {
                        **body,
                        ID_FIELDS[collection]: "00000000-0000-0000-0000-000000000000",
                        "HasErrors": True,
                        "ValidationErrors": errors,
                    }
                )
                continue
            created = {**body, ID_FIELDS[collection]: str(uuid.uuid4())}
            self.documents[collection].append(created)
            answer.append(created)
        response = httpx.Response(200, json={collection: answer})
        if key:
            self.answered_keys[key] = response
        return response

    def _filtered(self, request: httpx.Request, collection: str) -> list[Json]:
        rows = self.documents[collection]
        params = request.url.params
        if "InvoiceNumbers" in params:
            wanted = set(params["InvoiceNumbers"].split(","))
            rows = [row for row in rows if row.get("InvoiceNumber") in wanted]
        if "IDs" in params:
            wanted = set(params["IDs"].split(","))
            rows = [row for row in rows if row.get(ID_FIELDS[collection]) in wanted]
        if "where" in params and "==" in params["where"] and ">=" not in params["where"]:
            pairs = EQUALS.findall(params["where"])
            rows = [row for row in rows if any(str(row.get(name)) == value for name, value in pairs)]
        return rows
