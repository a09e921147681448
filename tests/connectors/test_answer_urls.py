"""Addresses taken from answers are followed only to the connector's own hosts: an Intacct session endpoint (which
then receives the sender password with every call) and a Fyle download URL; downloads stop reading at the cap."""

import gzip
import re
import tracemalloc
import uuid
import zlib
from collections.abc import AsyncIterator, Iterable

import httpx
import pytest
import respx

from connectors.answer_urls import check_answer_url
from connectors.base import ConnectorContext, TooLarge
from connectors.constants import UNTRUSTED_ADDRESS_CODE
from connectors.fyle import FyleConnector
from connectors.intacct import IntacctConnector
from core.domain import DocumentKind
from core.errors import LedgerlineError
from tests.connectors.intacct.conftest import context_for
from tests.sandbox_fixtures import RunningSandbox

INTACCT = IntacctConnector.spec
FYLE_API = FyleConnector.spec.urls["api"]
CHUNK = 64 * 1024

CAP = 1024 * 1024
"""The byte cap these tests ask of a download."""


class AnswerEndpoint(httpx.AsyncBaseTransport):
    """The sandbox over real loopback, except that getAPISession answers `endpoint`; records every host called."""

    def __init__(self, endpoint: str) -> None:
        self._inner = httpx.AsyncHTTPTransport()
        self._endpoint = endpoint
        self.hosts: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.hosts.append(request.url.host)
        response = await self._inner.handle_async_request(request)
        body = await response.aread()
        rewritten = re.sub(rb"<endpoint>[^<]*</endpoint>", f"<endpoint>{self._endpoint}</endpoint>".encode(), body)
        return httpx.Response(response.status_code, headers=response.headers, content=rewritten)

    async def aclose(self) -> None:
        await self._inner.aclose()


@pytest.mark.parametrize(
    "endpoint",
    [
        "http://169.254.169.254/ia/xml/xmlgw.phtml",
        "https://attacker.example/ia/xml/xmlgw.phtml",
        "http://api.intacct.com/ia/xml/xmlgw.phtml",
        "https://intacct.com.attacker.example/ia/xml/xmlgw.phtml",
    ],
)
async def test_an_intacct_session_endpoint_off_its_hosts_is_never_called(
    sandbox: RunningSandbox, endpoint: str
) -> None:
    transport = AnswerEndpoint(endpoint)
    async with IntacctConnector(context_for(sandbox.url, transport=transport)) as connector:
        with pytest.raises(LedgerlineError) as refused:
            await connector.find_by_reference(DocumentKind.BILL, "ll-endpoint")
    assert refused.value.code == UNTRUSTED_ADDRESS_CODE and not refused.value.retriable
    assert httpx.URL(endpoint).host in refused.value.message
    assert transport.hosts == ["127.0.0.1"], "only the login went out, to the configured gateway"


def test_intacct_hosts_over_https_and_the_configured_sandbox_are_allowed() -> None:
    production = "https://api.intacct.com/ia/xml/xmlgw.phtml"
    assert check_answer_url(production, spec=INTACCT, resolved=INTACCT.urls, what="x") == production
    company = "https://acme.intacct.com/ia/xml/xmlgw.phtml"
    assert check_answer_url(company, spec=INTACCT, resolved=INTACCT.urls, what="x") == company
    sandbox = {"gateway": "http://127.0.0.1:9000/intacct/ia/xml/xmlgw.phtml"}
    assert check_answer_url(sandbox["gateway"], spec=INTACCT, resolved=sandbox, what="x") == sandbox["gateway"]
    with pytest.raises(LedgerlineError):  # the sandbox's scheme does not carry over to other hosts
        check_answer_url("http://127.0.0.2:9000/x", spec=INTACCT, resolved=sandbox, what="x")
    with pytest.raises(LedgerlineError):
        check_answer_url(None, spec=INTACCT, resolved=INTACCT.urls, what="x")


@pytest.mark.parametrize(
    "answered",
    [
        "https://xn--x-intacct.com/ia/xml/xmlgw.phtml",  # punycode that is no valid IDN: reading its host raises
        "https://evil.example@api.intacct.com.evil.example/ia/xml/xmlgw.phtml",
        "https://api.intacct.com./ia/xml/xmlgw.phtml",
        "https://[::1]/ia/xml/xmlgw.phtml",
    ],
)
def test_an_answered_address_that_is_malformed_or_off_its_hosts_is_refused_as_untrusted(answered: str) -> None:
    """Refused as an untrusted address (not retried, says why), never an unclassified crash of the caller."""
    with pytest.raises(LedgerlineError) as refused:
        check_answer_url(answered, spec=INTACCT, resolved=INTACCT.urls, what="a session endpoint")
    assert refused.value.code == UNTRUSTED_ADDRESS_CODE and not refused.value.retriable


def _fyle(transport: httpx.AsyncBaseTransport | None = None) -> FyleConnector:
    context = ConnectorContext(
        tenant_id=uuid.uuid4(), connection_id=uuid.uuid4(), urls=FyleConnector.spec.urls, transport=transport
    )
    return FyleConnector(context)


def _file_urls(download_url: str) -> dict[str, object]:
    file = {"id": "fi1", "name": "a.pdf", "content_type": "application/pdf", "download_url": download_url}
    return {"data": [{**file, "upload_url": None}]}


@pytest.mark.parametrize(
    "download_url",
    ["http://169.254.169.254/latest/meta-data", "https://attacker.example/fi1", "http://x.s3.amazonaws.com/fi1"],
)
async def test_a_fyle_download_url_off_its_hosts_is_never_fetched(download_url: str) -> None:
    with respx.mock(assert_all_called=True) as mocked:
        mocked.post(f"{FYLE_API}/admin/files/generate_urls/bulk").respond(200, json=_file_urls(download_url))
        async with _fyle() as connector:
            with pytest.raises(LedgerlineError) as refused:
                await connector.fetch_attachment("fi1", max_bytes=CAP)
    assert refused.value.code == UNTRUSTED_ADDRESS_CODE
    assert "meta-data" not in refused.value.message


async def test_a_download_stops_reading_at_the_cap() -> None:
    served = 0

    async def four_times_the_cap() -> AsyncIterator[bytes]:
        nonlocal served
        for _ in range(4 * CAP // CHUNK):
            served += CHUNK
            yield b"0" * CHUNK

    signed = "https://fyle-storage.s3.amazonaws.com/fi1?X-Amz-Signature=abc"

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/generate_urls/bulk"):
            return httpx.Response(200, json=_file_urls(signed))
        return httpx.Response(200, content=four_times_the_cap(), headers={"content-type": "application/pdf"})

    async with _fyle(httpx.MockTransport(handler)) as connector:
        with pytest.raises(TooLarge) as refused:
            await connector.fetch_attachment("fi1", max_bytes=CAP)
    assert not refused.value.retriable and refused.value.file_name == "a.pdf"
    assert CAP < served <= CAP + 2 * CHUNK, "read on past the cap"


async def test_a_download_declared_over_the_cap_is_refused_before_its_body() -> None:
    signed = "https://fyle-storage.s3.amazonaws.com/fi1?X-Amz-Signature=abc"
    with respx.mock(assert_all_called=True) as mocked:
        mocked.post(f"{FYLE_API}/admin/files/generate_urls/bulk").respond(200, json=_file_urls(signed))
        mocked.get(signed).respond(200, headers={"content-length": str(CAP + 1)}, content=b"")
        async with _fyle() as connector:
            with pytest.raises(TooLarge):
                await connector.fetch_attachment("fi1", max_bytes=CAP)


async def iter_bytes(chunks: Iterable[bytes]) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk


def _gzip_bomb(inflated_bytes: int) -> bytes:
    """A gzip stream of zeros: about a thousandth of its inflated size."""
    squeezer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = b"\0" * CHUNK
    return b"".join(squeezer.compress(block) for _ in range(inflated_bytes // CHUNK)) + squeezer.flush()


async def test_a_compressed_download_is_inflated_only_up_to_the_cap() -> None:
    """httpx inflates a received chunk whole: a 64 KiB chunk of this bomb became ~60 MiB before the cap looked. The
    download asks for identity and inflates a coding the server sends anyway no further than the cap."""
    bomb = _gzip_bomb(256 * CAP)
    signed = "https://fyle-storage.s3.amazonaws.com/fi1?X-Amz-Signature=abc"
    asked: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/generate_urls/bulk"):
            return httpx.Response(200, json=_file_urls(signed))
        asked.append(request.headers.get("accept-encoding", ""))
        chunks = [bomb[start : start + CHUNK] for start in range(0, len(bomb), CHUNK)]
        return httpx.Response(200, content=iter_bytes(chunks), headers={"content-encoding": "gzip"})

    async with _fyle(httpx.MockTransport(handler)) as connector:
        tracemalloc.start()
        try:
            with pytest.raises(TooLarge):
                await connector.fetch_attachment("fi1", max_bytes=CAP)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert peak < 8 * CAP, f"{peak / CAP:.0f} MiB held while reading a download capped at 1 MiB"
    assert asked == ["identity"]


def _serving_file(body: bytes, coding: str) -> httpx.MockTransport:
    signed = "https://fyle-storage.s3.amazonaws.com/fi1?X-Amz-Signature=abc"

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/generate_urls/bulk"):
            return httpx.Response(200, json=_file_urls(signed))
        return httpx.Response(200, content=iter_bytes([body]), headers={"content-encoding": coding})

    return httpx.MockTransport(handler)


async def test_a_small_compressed_download_arrives_inflated_and_a_broken_one_is_refused() -> None:
    receipt = b"%PDF-1.7 a small receipt " * 100
    for body, coding in ((gzip.compress(receipt), "gzip"), (zlib.compress(receipt), "deflate"), (receipt, "identity")):
        async with _fyle(_serving_file(body, coding)) as connector:
            attachment = await connector.fetch_attachment("fi1", max_bytes=CAP)
        assert attachment.content == receipt, coding
    for body, coding in ((b"not gzip at all", "gzip"), (receipt, "br")):
        async with _fyle(_serving_file(body, coding)) as connector:
            with pytest.raises(LedgerlineError) as refused:
                await connector.fetch_attachment("fi1", max_bytes=CAP)
        assert "could not be read" in refused.value.message and not refused.value.retriable, coding
