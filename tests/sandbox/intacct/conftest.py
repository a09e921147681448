"""Fixtures for the Intacct simulator: a raw XML client, the official SDK pointed at the sandbox, and helpers for
the control API. All of them go through the shared sandbox server over real loopback HTTP."""

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
import requests
import sageintacctsdk.apis.api_base as sdk_api_base  # type: ignore[import-untyped]
from sageintacctsdk import SageIntacctSDK

from sandbox.intacct.constants import SENDER_ID, SENDER_PASSWORD, SINGLE_ENTITY_COMPANY, USER_ID, USER_PASSWORD
from tests.sandbox.conftest import RunningSandbox
from tests.sandbox.intacct.helpers import GatewayClient

INTACCT_BASE_URL = "https://api.intacct.com"
"""The SDK hard-codes `https://api.intacct.com/ia/xml/xmlgw.phtml`; only this prefix is re-pointed."""


@pytest.fixture
def gateway(sandbox: RunningSandbox) -> Iterator[GatewayClient]:
    client = GatewayClient(sandbox.url)
    yield client
    client.http.close()


@pytest.fixture
def control(sandbox: RunningSandbox) -> Iterator[httpx.Client]:
    """The Intacct control API (`/_sandbox/intacct`)."""
    with httpx.Client(base_url=f"{sandbox.url}/_sandbox/intacct", timeout=10) as client:
        yield client


@pytest.fixture
def sandbox_clock(sandbox: RunningSandbox) -> Iterator[httpx.Client]:
    """The shared control API, for moving the sandbox clock."""
    with sandbox.control() as client:
        yield client


@pytest.fixture
def sdk_to_sandbox(sandbox: RunningSandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    """Re-point the SDK's base URL at the sandbox; nothing else of the SDK changes."""

    def post(url: str, *args: Any, **kwargs: Any) -> requests.Response:
        target = url.replace(INTACCT_BASE_URL, f"{sandbox.url}/intacct", 1)
        return requests.post(target, *args, **kwargs)  # noqa: S113 - the SDK's own call, only re-pointed

    monkeypatch.setattr(sdk_api_base, "requests", SimpleNamespace(post=post))


@pytest.fixture
def sdk(sdk_to_sandbox: None) -> SageIntacctSDK:
    return SageIntacctSDK(
        sender_id=SENDER_ID,
        sender_password=SENDER_PASSWORD,
        user_id=USER_ID,
        company_id=SINGLE_ENTITY_COMPANY,
        user_password=USER_PASSWORD,
    )
