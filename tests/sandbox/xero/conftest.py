"""Clients for the Xero simulator on the shared sandbox server. Every JSON answer of the accounting API and of
`/connections`, and every JSON body a test sends there, is checked against Xero's OpenAPI documents by httpx event
hooks (`openapi_check`); a mismatch fails the test that caused it."""

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from sandbox.xero.constants import CLIENT_ID, CLIENT_SECRET, MAIN_TENANT, SEEDED_REFRESH_TOKEN
from tests.sandbox.conftest import RunningSandbox
from tests.sandbox.xero.openapi_check import Tally, request_problems, response_problems

API = "/api.xro/2.0"


def basic() -> str:
    return "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()


def spec_hooks(tally: Tally) -> dict[str, list[Any]]:
    def check_request(request: httpx.Request) -> None:
        if "json" not in request.headers.get("content-type", "") or not request.content:
            return
        problems = request_problems(request.method, request.url.path, json.loads(request.content))
        if problems is not None:
            tally.requests += 1
            assert not problems, f"{request.method} {request.url.path} sent off-spec: {problems[:10]}"

    def check_response(response: httpx.Response) -> None:
        response.read()
        if "json" not in response.headers.get("content-type", ""):
            return
        request = response.request
        problems = response_problems(request.method, request.url.path, response.status_code, response.json())
        if problems is not None:
            tally.responses += 1
            assert not problems, f"{request.method} {request.url.path} answered off-spec: {problems[:10]}"

    return {"request": [check_request], "response": [check_response]}


@dataclass
class Xero:
    sandbox: RunningSandbox
    wire: httpx.Client
    control: httpx.Client
    tally: Tally

    @property
    def base(self) -> str:
        return f"{self.sandbox.url}/xero"

    def token_response(self, **form: str) -> httpx.Response:
        return self.wire.post("/identity/connect/token", data=form, headers={"Authorization": basic()})

    def seeded_tokens(self) -> dict[str, Any]:
        response = self.token_response(grant_type="refresh_token", refresh_token=SEEDED_REFRESH_TOKEN)
        assert response.status_code == 200, response.text
        tokens: dict[str, Any] = response.json()
        return tokens

    def grant(self, **request: Any) -> dict[str, Any]:
        response = self.control.post("/grants", json=request)
        assert response.status_code == 200, response.text
        tokens: dict[str, Any] = response.json()
        return tokens

    def api(self, tenant: str = MAIN_TENANT, token: str | None = None) -> httpx.Client:
        headers = {
            "Authorization": f"Bearer {token or self.grant()['access_token']}",
            "xero-tenant-id": tenant,
            "Accept": "application/json",
        }
        return httpx.Client(
            base_url=f"{self.base}{API}", headers=headers, timeout=30, event_hooks=spec_hooks(self.tally)
        )


@pytest.fixture
def xero(sandbox: RunningSandbox) -> Iterator[Xero]:
    tally = Tally()
    with (
        httpx.Client(base_url=f"{sandbox.url}/xero", timeout=30, event_hooks=spec_hooks(tally)) as wire,
        httpx.Client(base_url=f"{sandbox.url}/_sandbox/xero", timeout=30) as control,
    ):
        yield Xero(sandbox=sandbox, wire=wire, control=control, tally=tally)


@pytest.fixture
def api(xero: Xero) -> Iterator[httpx.Client]:
    with xero.api() as client:
        yield client


def ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def contact_id(api: httpx.Client, name: str = "Delta Hotels") -> str:
    found = ok(api.get("/Contacts", params={"where": f'Name=="{name}"'}))["Contacts"]
    assert found, name
    return str(found[0]["ContactID"])


def bill(contact: str, number: str = "LL-0001", **extra: Any) -> dict[str, Any]:
    return {
        "Type": "ACCPAY",
        "Contact": {"ContactID": contact},
        "Date": "2026-11-20",
        "DueDate": "2026-12-20",
        "InvoiceNumber": number,
        "Reference": "Expense report R-1",
        "Status": "AUTHORISED",
        "LineAmountTypes": "NoTax",
        "LineItems": [
            {"Description": "Hotel", "Quantity": 1, "UnitAmount": 120.5, "AccountCode": "493"},
            {"Description": "Taxi", "Quantity": 2, "UnitAmount": 4.75, "AccountCode": "493"},
        ],
    } | extra


def spend(contact: str, reference: str = "LL-C-1", **extra: Any) -> dict[str, Any]:
    return {
        "Type": "SPEND",
        "Contact": {"ContactID": contact},
        "BankAccount": {"Code": "091"},
        "Date": "2026-11-21",
        "Reference": reference,
        "LineAmountTypes": "NoTax",
        "LineItems": [{"Description": "Lunch", "Quantity": 1, "UnitAmount": 18.4, "AccountCode": "420"}],
    } | extra


def journal(narration: str = "LL-J-1", **extra: Any) -> dict[str, Any]:
    return {
        "Narration": narration,
        "Date": "2026-11-22",
        "Status": "POSTED",
        "JournalLines": [
            {"LineAmount": 55.0, "AccountCode": "493", "Description": "Train"},
            {"LineAmount": -55.0, "AccountCode": "800", "Description": "Owed to employee"},
        ],
    } | extra
