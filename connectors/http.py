"""Calling out: shared httpx client set-up, redacted request/response excerpts, and transport-failure classes.

A transport failure is `Transient` when the request cannot have reached the system (connect errors, pool
timeouts) and `OutcomeUnknown` when it may have been applied (the read timed out or the connection dropped after
the request was sent) — unless the request was a read, which is always safe to repeat.
"""

import json
import re
import ssl
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from functools import cache

import httpx

from connectors.constants import (
    CONNECT_TIMEOUT_SECONDS,
    EXCERPT_MAX_CHARS,
    MAX_CONNECTIONS,
    MAX_KEEPALIVE,
    READ_TIMEOUT_SECONDS,
)
from connectors.spec import RateLimitSpec, RetryHint
from core.constants import REDACTED
from core.errors import Excerpt, LedgerlineError, OutcomeUnknown, RateLimited, Transient
from core.log import is_secret_field, redact

SECRET_HEADERS = frozenset({"authorization", "cookie", "set-cookie", "x-api-key", "proxy-authorization"})
XML_SECRET_ELEMENT = re.compile(
    r"<(?P<tag>password|sessionid|user_password|sender_password)>[^<]*(?:</(?P=tag)>|$)", re.IGNORECASE
)
"""A secret element, also when a truncated body ends inside it."""


@cache
def _tls_context() -> ssl.SSLContext:
    """Loading the CA bundle costs tens of milliseconds: done once per process, not once per connector."""
    return httpx.create_ssl_context()


def build_client(
    *, base_url: str = "", auth: httpx.Auth | None = None, transport: httpx.AsyncBaseTransport | None = None
) -> httpx.AsyncClient:
    """One client per connection kind: bounded timeouts and pool, no redirects followed silently."""
    return httpx.AsyncClient(
        base_url=base_url,
        auth=auth,
        transport=transport,
        timeout=httpx.Timeout(READ_TIMEOUT_SECONDS, connect=CONNECT_TIMEOUT_SECONDS),
        limits=httpx.Limits(max_connections=MAX_CONNECTIONS, max_keepalive_connections=MAX_KEEPALIVE),
        follow_redirects=False,
        verify=_tls_context(),
    )


def redact_text(text: str, content_type: str = "") -> str:
    """Secrets out of a body: JSON fields with secret-looking names, XML password/session elements, query tokens.
    NUL characters go too: an excerpt is stored as JSON, which PostgreSQL refuses with a NUL in it (a garbled answer
    would otherwise fail the whole batch's finish)."""
    text = text.replace("\x00", "")
    if "json" in content_type or text.lstrip().startswith(("{", "[")):
        try:
            return json.dumps(redact(json.loads(text)))[:EXCERPT_MAX_CHARS]
        except ValueError:
            pass
    text = XML_SECRET_ELEMENT.sub(
        lambda match: f"<{match['tag']}>{REDACTED}" + (f"</{match['tag']}>" if match[0].endswith(">") else ""), text
    )
    text = re.sub(
        r"(?P<key>[A-Za-z_]*(?:token|secret|password|code_verifier)[A-Za-z_]*)=[^&\s]+",
        lambda match: f"{match['key']}={REDACTED}",
        text,
    )
    return text[:EXCERPT_MAX_CHARS]


def _redacted_url(url: httpx.URL) -> str:
    params = [(key, REDACTED if is_secret_field(key) else value) for key, value in url.params.multi_items()]
    return str(url.copy_with(params=params))


def request_excerpt(request: httpx.Request) -> Excerpt:
    try:
        content = request.content
    except httpx.RequestNotRead:  # a streamed body (a multipart upload): described without its bytes
        content = b""
    body = content.decode("utf-8", "replace") if content else None
    return Excerpt(
        method=request.method,
        url=_redacted_url(request.url),
        body=redact_text(body, request.headers.get("content-type", "")) if body else None,
    )


def response_excerpt(response: httpx.Response) -> Excerpt:
    try:
        body = response.text
    except (httpx.ResponseNotRead, UnicodeDecodeError):
        body = None
    return Excerpt(
        status=response.status_code,
        url=_redacted_url(response.request.url),
        body=redact_text(body, response.headers.get("content-type", "")) if body else None,
    )


def transport_failure(error: httpx.TransportError, *, idempotent: bool) -> LedgerlineError:
    """Classify a failure to get any answer at all."""
    excerpt = request_excerpt(error.request) if _has_request(error) else None
    before_send = isinstance(error, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)
    if before_send or idempotent:
        return Transient(
            f"{type(error).__name__} calling the system: {error}",
            code="transport",
            hint="The system could not be reached; the request is retried with backoff.",
            request=excerpt,
        )
    return OutcomeUnknown(
        f"No answer after the request was sent ({type(error).__name__}); it may have been applied.",
        code="no_answer",
        hint="Before sending again, Ledgerline looks the document up by its reference.",
        request=excerpt,
    )


def unknown_outcome(error: Transient) -> OutcomeUnknown:
    """A write's failure that does not prove the write was not applied (a 5xx, an off-line notice, a redirect): the
    system may have applied it before failing, so its outcome stays unknown until a lookup settles it."""
    return OutcomeUnknown(
        f"{error.message} The write may have been applied.",
        code=error.code or "write_failed",
        provider_code=error.provider_code,
        hint="Before sending again, Ledgerline looks the document up by its reference.",
        request=error.request,
        response=error.response,
    )


def _has_request(error: httpx.TransportError) -> bool:
    try:
        error.request  # noqa: B018 - httpx raises RuntimeError when the error carries no request
    except RuntimeError:
        return False
    return True


def retry_at(response: httpx.Response, limits: RateLimitSpec, *, now: datetime | None = None) -> datetime | None:
    """When a rate-limited call may be retried, from whichever hint headers the system sends."""
    now = now or datetime.now(UTC)
    value = response.headers.get(limits.retry_after_header)
    if value and RetryHint.AFTER in limits.retry_hints and value.strip().isdigit():
        return now + timedelta(seconds=int(value))
    if value and RetryHint.AT in limits.retry_hints:
        try:
            return parsedate_to_datetime(value).astimezone(UTC)
        except (TypeError, ValueError):
            pass
    remaining = response.headers.get(limits.remaining_header or "")
    if RetryHint.REMAINING in limits.retry_hints and remaining is not None and remaining.strip() == "0":
        return now + timedelta(minutes=1)
    return None


def rate_limited(response: httpx.Response, limits: RateLimitSpec, message: str) -> RateLimited:
    return RateLimited(
        message,
        retry_at=retry_at(response, limits),
        provider_code=str(response.status_code),
        hint="The connection waits until the system's rate limit allows calls again.",
        response=response_excerpt(response),
    )
