"""Fyle's answers, classified once: its error bodies for the cases the sandbox cannot produce (respx)."""

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
import respx

from connectors.base import ConnectorContext
from connectors.fyle import FyleConnector
from core.errors import AuthError, LedgerlineError, RateLimited, Transient, ValidationError

API = FyleConnector.spec.urls["api"]
EMPLOYEES = f"{API}/admin/employees"


@pytest.fixture
async def offline() -> AsyncIterator[FyleConnector]:
    """A connector with production URLs and no auth; respx answers for Fyle."""
    context = ConnectorContext(tenant_id=uuid.uuid4(), connection_id=uuid.uuid4(), urls=FyleConnector.spec.urls)
    connector = FyleConnector(context)
    async with connector:
        yield connector


async def failure_of(connector: FyleConnector, response: httpx.Response, url: str = EMPLOYEES) -> LedgerlineError:
    with respx.mock() as mocked:
        mocked.get(url).mock(return_value=response)
        with pytest.raises(LedgerlineError) as raised:
            await connector.request("GET", url, idempotent=True)
    return raised.value


async def test_an_invalid_usage_400_is_a_validation_error_with_fyles_message(offline: FyleConnector) -> None:
    body = {"message": "limit must be between 1 and 200", "data": None, "error": "InvalidUsage"}

    error = await failure_of(offline, httpx.Response(400, json=body))

    assert isinstance(error, ValidationError)
    assert error.message == "limit must be between 1 and 200"
    assert error.provider_code == "InvalidUsage"
    assert error.response is not None and error.response.status == 400


async def test_a_bulk_error_names_every_refused_row(offline: FyleConnector) -> None:
    body = {
        "message": "2 row(s) could not be processed",
        "data": [
            {"row": 0, "key": "txA", "message": "expense txA not found"},
            {"row": 3, "key": "name", "message": "category name already exists"},
        ],
        "error": "BulkError",
    }

    error = await failure_of(offline, httpx.Response(400, json=body))

    assert isinstance(error, ValidationError) and error.provider_code == "BulkError"
    assert error.message == (
        "2 row(s) could not be processed: row 0 (txA): expense txA not found; "
        "row 3 (name): category name already exists"
    )


async def test_a_400_without_a_fyle_body_still_says_what_happened(offline: FyleConnector) -> None:
    error = await failure_of(offline, httpx.Response(400, text="<html>Bad Request</html>"))

    assert isinstance(error, ValidationError)
    assert error.message == "Fyle refused the request (400)." and error.provider_code == "400"


async def test_a_404_carries_fyles_message(offline: FyleConnector) -> None:
    error = await failure_of(offline, httpx.Response(404, json={"message": "Resource not found"}))

    assert isinstance(error, ValidationError) and error.message == "Resource not found"


async def test_an_invalid_token_is_an_auth_error(offline: FyleConnector) -> None:
    error = await failure_of(offline, httpx.Response(401, json={"message": "invalid token"}))

    assert isinstance(error, AuthError)


async def test_forbidden_by_the_api_is_an_auth_error(offline: FyleConnector) -> None:
    error = await failure_of(offline, httpx.Response(403, json={"message": "Forbidden"}))

    assert isinstance(error, AuthError)


async def test_a_refused_signed_storage_url_is_transient_not_an_auth_error(offline: FyleConnector) -> None:
    signed = "https://fyle-storage.s3.amazonaws.com/fi1?X-Amz-Expires=300"
    expired = httpx.Response(403, text="<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>")

    error = await failure_of(offline, expired, url=signed)

    assert isinstance(error, Transient)


async def test_throttling_is_rate_limited_until_retry_after(offline: FyleConnector) -> None:
    throttled = httpx.Response(429, json={"message": "Too many requests"}, headers={"Retry-After": "12"})

    error = await failure_of(offline, throttled)

    assert isinstance(error, RateLimited) and error.retry_at is not None


@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_server_errors_are_transient(offline: FyleConnector, status: int) -> None:
    error = await failure_of(offline, httpx.Response(status, json={"message": "API server hit an internal error"}))

    assert isinstance(error, Transient)
