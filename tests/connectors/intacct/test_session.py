"""API sessions: one login reused, renewed once when it expires (between pages, mid-batch, under concurrency)."""

import asyncio
from dataclasses import replace
from typing import Any

import httpx
import pytest

from connectors.intacct import IntacctConnector
from core.domain import DocumentKind, RemoteDocument
from core.errors import AuthError
from sandbox.intacct.constants import MULTI_ENTITY_COMPANY, OTHER_SENDER_ID, OTHER_SENDER_PASSWORD
from tests.connectors.intacct import factories
from tests.connectors.intacct.conftest import MakeConnector, context_for
from tests.sandbox_fixtures import RunningSandbox


class ExpireSessionsAfter(httpx.AsyncBaseTransport):
    """Real loopback HTTP, but every session is expired (control API) right after the n-th request is answered."""

    def __init__(self, sandbox: RunningSandbox, after: int) -> None:
        self._inner = httpx.AsyncHTTPTransport()
        self._control = f"{sandbox.url}/_sandbox/intacct/sessions"
        self._after = after
        self.sent = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        self.sent += 1
        if self.sent == self._after:
            async with httpx.AsyncClient() as client:
                (await client.delete(self._control)).raise_for_status()
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()


async def logins(sandbox_control: httpx.AsyncClient) -> int:
    return await factories.requests_for(sandbox_control, "getAPISession")


async def test_one_login_serves_every_call(connector: IntacctConnector, sandbox_control: httpx.AsyncClient) -> None:
    await connector.push([factories.bill("ll-s-1")])
    await connector.find_by_reference(DocumentKind.BILL, "ll-s-1")
    await connector.payment_status(DocumentKind.BILL, ["1"])

    assert await logins(sandbox_control) == 1


async def test_connectors_sharing_a_workers_state_share_one_login_per_login_and_renew_a_stale_one(
    sandbox: RunningSandbox, sandbox_control: httpx.AsyncClient, control: httpx.AsyncClient
) -> None:
    """Each export job opens its own connector; with the worker's shared state they log in once between them."""
    shared: dict[str, Any] = {}
    for index in range(3):
        async with IntacctConnector(replace(context_for(sandbox.url), shared=shared)) as connector:
            await connector.find_by_reference(DocumentKind.BILL, f"ll-shared-{index}")
    assert await logins(sandbox_control) == 1

    async with IntacctConnector(context_for(sandbox.url)) as alone:  # a connector lent no state logs in itself
        await alone.find_by_reference(DocumentKind.BILL, "ll-shared-alone")
    assert await logins(sandbox_control) == 2

    (await control.delete("/sessions")).raise_for_status()  # the shared session expires
    async with IntacctConnector(replace(context_for(sandbox.url), shared=shared)) as connector:
        found = await connector.find_by_reference(DocumentKind.BILL, "ll-shared-0")
    assert found is None
    assert await logins(sandbox_control) == 3
    assert len(shared) == 1, "the renewed session replaced the stale one"


async def test_a_session_expiring_mid_batch_is_renewed_and_the_push_completes(
    sandbox: RunningSandbox, sandbox_control: httpx.AsyncClient, control: httpx.AsyncClient
) -> None:
    """Requests: login, first create, its URLs — sessions expire — second create fails, renews, is resent."""
    transport = ExpireSessionsAfter(sandbox, after=3)
    documents = [factories.bill(f"ll-mid-{index}") for index in range(60)]

    connector = IntacctConnector(context_for(sandbox.url, transport=transport))

    async with connector:
        outcomes = await connector.push(documents)

    assert all(isinstance(outcome, RemoteDocument) and not outcome.adopted for outcome in outcomes), outcomes
    assert await logins(sandbox_control) == 2
    assert (await control.get("/documents")).json()["count"] == 60


async def test_a_session_expiring_between_pages_keeps_paging(
    sandbox: RunningSandbox, sandbox_control: httpx.AsyncClient, control: httpx.AsyncClient
) -> None:
    transport = ExpireSessionsAfter(sandbox, after=2)

    connector = IntacctConnector(context_for(sandbox.url, transport=transport))

    async with connector:
        values = [value async for value in connector.import_dimensions("account", since=None)]

    assert (
        len({value.remote_id for value in values})
        == (await control.get("/counts")).json()["objects"]["master"]["GLACCOUNT"]
    )
    assert await logins(sandbox_control) == 2


async def test_concurrent_calls_on_an_expired_session_renew_it_once(
    connector: IntacctConnector, control: httpx.AsyncClient, sandbox_control: httpx.AsyncClient
) -> None:
    await connector.check()
    (await control.delete("/sessions")).raise_for_status()

    found = await asyncio.gather(
        *(connector.find_by_reference(DocumentKind.BILL, f"ll-none-{index}") for index in range(5))
    )

    assert found == [None] * 5
    assert await logins(sandbox_control) == 2


async def test_a_session_timing_out_on_the_sandbox_clock_is_renewed(
    connector: IntacctConnector, control: httpx.AsyncClient, sandbox_control: httpx.AsyncClient
) -> None:
    (await control.put("/sessions/ttl", json={"seconds": 60})).raise_for_status()
    await connector.check()
    (await sandbox_control.put("/clock", json={"advance_seconds": 61})).raise_for_status()

    assert await connector.find_by_reference(DocumentKind.BILL, "ll-none") is None
    assert await logins(sandbox_control) == 2


async def test_check_logs_in_afresh_every_time(connector: IntacctConnector, sandbox_control: httpx.AsyncClient) -> None:
    await connector.check()
    await connector.check()

    assert await logins(sandbox_control) == 2


WRONG_SENDER = {"sender_id": "ledgerline", "sender_password": "wrong"}
UNAUTHORISED_SENDER = {"sender_id": OTHER_SENDER_ID, "sender_password": OTHER_SENDER_PASSWORD}


@pytest.mark.parametrize(
    ("app", "credentials", "message"),
    [
        (None, {"user_password": "wrong"}, "Sign-in information is incorrect"),
        (None, {"company_id": "no-such-company"}, "Sign-in information is incorrect"),
        (None, {"company_id": MULTI_ENTITY_COMPANY, "entity_id": "E999"}, "Invalid entity ID 'E999'"),
        (WRONG_SENDER, {}, "Incorrect Intacct XML Partner ID"),
        (UNAUTHORISED_SENDER, {}, "is not authorized to make Web Services requests"),
    ],
)
async def test_wrong_credentials_are_an_auth_error_with_intacct_s_reason(
    make_connector: MakeConnector, app: dict[str, str] | None, credentials: dict[str, str], message: str
) -> None:
    connector = make_connector(app=app, **credentials)

    with pytest.raises(AuthError) as raised:
        await connector.check()

    assert message in raised.value.message
    assert raised.value.provider_code == "XL03000006"
    assert raised.value.hint


async def test_an_expired_session_is_never_shown_as_an_auth_error(
    connector: IntacctConnector, control: httpx.AsyncClient
) -> None:
    await connector.check()
    for _ in range(3):
        (await control.delete("/sessions")).raise_for_status()
        assert [value async for value in connector.import_dimensions("charge_card_account", since=None)]
