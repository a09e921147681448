"""Excerpts never carry secrets; transport failures and rate-limit hints are classified as DESIGN.md says."""

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from connectors.http import rate_limited, redact_text, request_excerpt, retry_at, transport_failure
from connectors.spec import RateLimitSpec, RetryHint
from core.errors import OutcomeUnknown, Transient

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def test_json_xml_and_form_secrets_are_redacted() -> None:
    json_body = redact_text('{"refresh_token": "rt-1", "client_secret": "cs", "amount": "1.00"}', "application/json")
    xml_body = redact_text("<login><userid>u</userid><password>pw-1</password></login><sessionid>s-1</sessionid>")
    form_body = redact_text("grant_type=refresh_token&refresh_token=rt-2&client_secret=cs-2&code_verifier=v")
    for text, secrets in (
        (json_body, ["rt-1", '"cs"']),
        (xml_body, ["pw-1", "s-1"]),
        (form_body, ["rt-2", "cs-2", "=v"]),
    ):
        assert all(secret not in text for secret in secrets), text
    assert '"amount": "1.00"' in json_body
    assert "<userid>u</userid>" in xml_body


def test_request_excerpts_redact_query_tokens_and_never_include_headers() -> None:
    request = httpx.Request(
        "GET", "https://x.test/items?access_token=S3CRET&limit=5", headers={"Authorization": "Bearer S3CRET"}
    )
    excerpt = request_excerpt(request)
    assert excerpt.url is not None and "S3CRET" not in excerpt.url and "limit=5" in excerpt.url
    assert "S3CRET" not in repr(excerpt)


@pytest.mark.parametrize(
    ("error", "idempotent", "expected"),
    [
        (httpx.ConnectError("refused"), False, Transient),
        (httpx.ConnectTimeout("slow"), False, Transient),
        (httpx.ReadTimeout("no answer"), True, Transient),
        (httpx.ReadTimeout("no answer"), False, OutcomeUnknown),
        (httpx.RemoteProtocolError("dropped"), False, OutcomeUnknown),
    ],
)
def test_transport_failures_are_transient_unless_a_write_may_have_landed(
    error: httpx.TransportError, idempotent: bool, expected: type
) -> None:
    error.request = httpx.Request("POST", "https://x.test/bills")
    classified = transport_failure(error, idempotent=idempotent)
    assert type(classified) is expected


def _response(headers: dict[str, str]) -> httpx.Response:
    return httpx.Response(429, headers=headers, request=httpx.Request("GET", "https://x.test/"))


def test_retry_hints_after_at_and_remaining() -> None:
    after = RateLimitSpec(retry_hints=(RetryHint.AFTER,))
    at = RateLimitSpec(retry_hints=(RetryHint.AT,))
    remaining = RateLimitSpec(retry_hints=(RetryHint.REMAINING,), remaining_header="X-MinLimit-Remaining")
    assert retry_at(_response({"Retry-After": "30"}), after, now=NOW) == NOW + timedelta(seconds=30)
    assert retry_at(_response({"Retry-After": "Sat, 21 Nov 2026 12:05:00 GMT"}), at, now=NOW) == NOW + timedelta(
        minutes=5
    )
    assert retry_at(_response({"X-MinLimit-Remaining": "0"}), remaining, now=NOW) == NOW + timedelta(minutes=1)
    assert retry_at(_response({}), after, now=NOW) is None


def test_rate_limited_keeps_the_status_and_an_excerpt() -> None:
    error = rate_limited(_response({"Retry-After": "5"}), RateLimitSpec(), "slow down")
    assert error.provider_code == "429"
    assert error.retry_at is not None
    assert error.response is not None and error.response.status == 429


def test_a_body_cut_inside_a_secret_element_does_not_leak_its_start() -> None:
    assert "abc123" not in redact_text("<response><api><sessionid>abc123")
