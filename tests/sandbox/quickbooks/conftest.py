"""Clients for the QuickBooks simulator on the shared sandbox server: a bearer-authenticated API client on the main
realm, the control API, and helpers to build documents from the seeded chart of accounts."""

import base64
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from sandbox.quickbooks.constants import CLIENT_ID, CLIENT_SECRET, MAIN_REALM, SEEDED_REFRESH_TOKEN_PREFIX, UK_REALM
from tests.sandbox.conftest import RunningSandbox

MINOR = {"minorversion": "75"}


def basic() -> str:
    return "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()


@dataclass
class Qbo:
    sandbox: RunningSandbox
    wire: httpx.Client
    control: httpx.Client

    @property
    def base(self) -> str:
        return f"{self.sandbox.url}/quickbooks"

    def token_response(self, **form: str) -> httpx.Response:
        return self.wire.post("/oauth2/v1/tokens/bearer", data=form, headers={"Authorization": basic()})

    def tokens(self, realm: str = MAIN_REALM) -> dict[str, Any]:
        response = self.token_response(grant_type="refresh_token", refresh_token=SEEDED_REFRESH_TOKEN_PREFIX + realm)
        assert response.status_code == 200, response.text
        tokens: dict[str, Any] = response.json()
        return tokens

    def api(self, realm: str = MAIN_REALM, token: str | None = None) -> httpx.Client:
        headers = {
            "Authorization": f"Bearer {token or self.tokens(realm)['access_token']}",
            "Accept": "application/json",
        }
        return httpx.Client(base_url=f"{self.base}/v3/company/{realm}", headers=headers, params=MINOR, timeout=30)


@pytest.fixture
def qbo(sandbox: RunningSandbox) -> Iterator[Qbo]:
    with (
        httpx.Client(base_url=f"{sandbox.url}/quickbooks", timeout=30) as wire,
        httpx.Client(base_url=f"{sandbox.url}/_sandbox/quickbooks", timeout=30) as control,
    ):
        yield Qbo(sandbox=sandbox, wire=wire, control=control)


@pytest.fixture
def api(qbo: Qbo) -> Iterator[httpx.Client]:
    with qbo.api() as client:
        yield client


@pytest.fixture
def uk_api(qbo: Qbo) -> Iterator[httpx.Client]:
    with qbo.api(UK_REALM) as client:
        yield client


def query(api: httpx.Client, text: str) -> dict[str, Any]:
    response = api.post("/query", content=text, headers={"Content-Type": "application/text"})
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()["QueryResponse"]
    return result


def find(api: httpx.Client, entity: str, where: str) -> dict[str, Any]:
    found = query(api, f"SELECT * FROM {entity} WHERE {where}")
    assert found.get(entity), f"no {entity} where {where}"
    first: dict[str, Any] = found[entity][0]
    return first


def account_id(api: httpx.Client, name: str) -> str:
    return str(find(api, "Account", f"Name = '{name}'")["Id"])


def vendor_id(api: httpx.Client, name: str = "Delta Air Lines") -> str:
    return str(find(api, "Vendor", f"DisplayName = '{name}'")["Id"])


def expense_line(account: str, amount: float, **detail: Any) -> dict[str, Any]:
    return {
        "Amount": amount,
        "DetailType": "AccountBasedExpenseLineDetail",
        "AccountBasedExpenseLineDetail": {"AccountRef": {"value": account}, **detail},
    }


def bill_body(api: httpx.Client, doc_number: str = "LL-0001", **extra: Any) -> dict[str, Any]:
    travel = account_id(api, "Travel")
    return {
        "VendorRef": {"value": vendor_id(api)},
        "TxnDate": "2026-11-20",
        "DocNumber": doc_number,
        "PrivateNote": "Expense report R-1",
        "Line": [expense_line(travel, 120.5), expense_line(travel, 9.5)],
    } | extra


def fault_of(response: httpx.Response) -> dict[str, Any]:
    body: dict[str, Any] = response.json()
    assert "Fault" in body, body
    error: dict[str, Any] = body["Fault"]["Error"][0]
    return error
