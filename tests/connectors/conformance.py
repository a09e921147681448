"""The conformance suite every connector runs for free.

A connector's tests subclass the classes that apply (`SourceConformance`, `DestinationConformance`,
`OAuth2Conformance`) in `tests/connectors/<system>/test_conformance.py` and provide the fixtures named in each
class docstring; everything runs against the sandbox over real HTTP.
"""

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from connectors.base import Connector, DestinationConnector, SourceConnector
from connectors.registry import available_systems, connector_class
from core.domain import Document, RemoteDocument
from core.errors import AuthError, LedgerlineError, OutcomeUnknown, RateLimited, Transient
from tests.sandbox_fixtures import RunningSandbox

DocumentFactory = Callable[[str], Document]
CountDocuments = Callable[[str], Awaitable[int]]


def inject(sandbox: RunningSandbox, **fault: object) -> None:
    with sandbox.control() as control:
        response = control.post("/faults", json=fault)
        assert response.status_code == 201, response.text


class ConnectorConformance:
    """Fixtures: `connector` (working, against the sandbox), `broken_connector` (wrong credentials), `sandbox`,
    `read_operation` (a sandbox fault glob matching the connector's `check` call)."""

    def test_the_connector_is_registered_with_a_valid_spec(self, connector: Connector) -> None:
        assert connector.system in available_systems()
        assert connector_class(connector.system) is type(connector)
        assert connector.spec.system == connector.system

    async def test_check_passes_with_good_credentials(self, connector: Connector) -> None:
        await connector.check()

    async def test_check_raises_auth_error_with_bad_credentials(self, broken_connector: Connector) -> None:
        with pytest.raises(AuthError) as raised:
            await broken_connector.check()
        assert raised.value.message

    async def test_server_errors_are_transient(
        self, connector: Connector, sandbox: RunningSandbox, read_operation: str
    ) -> None:
        system = connector.system
        inject(sandbox, system=system, operation=read_operation, mode="error", status=503, times=10)
        with pytest.raises(Transient) as raised:
            await connector.check()
        assert raised.value.response is not None or raised.value.code

    async def test_rate_limits_say_when_to_retry(
        self, connector: Connector, sandbox: RunningSandbox, read_operation: str
    ) -> None:
        inject(sandbox, system=connector.system, operation=read_operation, mode="rate_limit", retry_after=7, times=10)
        with pytest.raises(RateLimited) as raised:
            await connector.check()
        assert raised.value.retry_at is not None
        assert timedelta(seconds=5) <= raised.value.retry_at - datetime.now(UTC) <= timedelta(seconds=8)

    async def test_a_dropped_read_is_transient_not_unknown(
        self, connector: Connector, sandbox: RunningSandbox, read_operation: str
    ) -> None:
        inject(sandbox, system=connector.system, operation=read_operation, mode="reset", times=10)
        with pytest.raises(Transient) as raised:
            await connector.check()
        assert not isinstance(raised.value, OutcomeUnknown)


class SourceConformance(ConnectorConformance):
    """Also: `stream_name` and `stream_total` (how many records the sandbox holds for that stream)."""

    async def test_a_stream_yields_every_record_once(
        self, connector: SourceConnector, stream_name: str, stream_total: int
    ) -> None:
        ids = [item.remote_id async for item in connector.stream(stream_name, since=None)]
        assert len(ids) == stream_total
        assert len(set(ids)) == len(ids)

    async def test_a_stream_is_incremental(self, connector: SourceConnector, stream_name: str) -> None:
        items = [item async for item in connector.stream(stream_name, since=None)]
        cursor = items[len(items) // 2].updated_at
        later = [item async for item in connector.stream(stream_name, since=cursor)]
        assert later
        assert all(item.updated_at >= cursor for item in later)
        assert len(later) < len(items)


class DestinationConformance(ConnectorConformance):
    """Also: `dimension_type` and `dimension_total`; `make_document(reference)` → a valid document;
    `make_invalid_document(reference)` → one the system refuses; `count_documents(reference)` → how many
    documents with that reference the sandbox holds; `write_operation` (fault glob matching `push`)."""

    async def test_dimensions_import_completely(
        self, connector: DestinationConnector, dimension_type: str, dimension_total: int
    ) -> None:
        values = [value async for value in connector.import_dimensions(dimension_type, since=None)]
        assert len(values) == dimension_total
        assert len({value.remote_id for value in values}) == dimension_total

    async def test_push_creates_and_find_by_reference_finds_it(
        self, connector: DestinationConnector, make_document: DocumentFactory, count_documents: CountDocuments
    ) -> None:
        [created] = await connector.push([make_document("conf-push-1")])
        assert isinstance(created, RemoteDocument), created
        found = await connector.find_by_reference(make_document("conf-push-1").kind, "conf-push-1")
        assert found is not None and found.remote_id == created.remote_id
        assert await connector.find_by_reference(make_document("x").kind, "conf-never-pushed") is None
        assert await count_documents("conf-push-1") == 1

    async def test_one_bad_document_does_not_fail_the_batch(
        self,
        connector: DestinationConnector,
        make_document: DocumentFactory,
        make_invalid_document: DocumentFactory,
        count_documents: CountDocuments,
    ) -> None:
        outcomes = await connector.push(
            [make_document("conf-batch-1"), make_invalid_document("conf-batch-2"), make_document("conf-batch-3")]
        )
        assert isinstance(outcomes[0], RemoteDocument)
        assert isinstance(outcomes[1], LedgerlineError) and not outcomes[1].retriable
        assert isinstance(outcomes[2], RemoteDocument)
        assert [await count_documents(f"conf-batch-{n}") for n in (1, 2, 3)] == [1, 0, 1]

    async def test_commit_then_fail_is_adopted_not_duplicated(
        self,
        connector: DestinationConnector,
        sandbox: RunningSandbox,
        make_document: DocumentFactory,
        count_documents: CountDocuments,
        write_operation: str,
    ) -> None:
        document = make_document("conf-ctf-1")
        inject(
            sandbox, system=connector.system, operation=write_operation, mode="commit_then_fail", status=502, times=1
        )
        outcome = (await connector.push([document]))[0]
        if isinstance(outcome, RemoteDocument):  # the connector looked the reference up itself after the failure
            assert outcome.adopted
        else:
            assert isinstance(outcome, OutcomeUnknown | Transient), outcome
            adopted = await connector.find_by_reference(document.kind, document.reference)
            assert adopted is not None
        assert await count_documents("conf-ctf-1") == 1


class OAuth2Conformance:
    """Fixtures: `connector`, `expire_access_token()` (make the stored token stale), `revoke_refresh_token()`,
    `token_requests()` → how many token requests the sandbox has answered, and `connection_status()`."""

    async def test_an_expired_access_token_is_refreshed_once(
        self,
        connector: Connector,
        expire_access_token: Callable[[], Awaitable[None]],
        token_requests: Callable[[], int],
    ) -> None:
        await expire_access_token()
        before = token_requests()
        await connector.check()
        await connector.check()
        assert token_requests() == before + 1

    async def test_a_revoked_refresh_token_needs_reauthorization(
        self,
        connector: Connector,
        expire_access_token: Callable[[], Awaitable[None]],
        revoke_refresh_token: Callable[[], None],
        connection_status: Callable[[], Awaitable[str]],
    ) -> None:
        await expire_access_token()
        revoke_refresh_token()
        with pytest.raises(AuthError) as raised:
            await connector.check()
        assert raised.value.code == "refresh_revoked"
        assert await connection_status() == "needs_reauth"


def response_of(status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> httpx.Response:
    """A response bound to a request, for classification unit tests."""
    return httpx.Response(status, content=body, headers=headers, request=httpx.Request("POST", "https://x.test/"))
