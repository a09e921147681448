"""Receipts: a file's bytes come through Fyle's signed URLs unchanged, and without the bearer token."""

import uuid
from collections.abc import Generator

import httpx
import respx

from connectors.base import ConnectorContext
from connectors.fyle import FyleConnector
from sync.constants import RECEIPT_MAX_BYTES

PRODUCTION_API = FyleConnector.spec.urls["api"]
RECEIPT = b"%PDF-1.4\n% a receipt\n%%EOF\n"


async def test_an_uploaded_receipt_downloads_as_the_same_bytes(connector: FyleConnector) -> None:
    employees = await connector.request("GET", f"{connector.api}/admin/employees", idempotent=True, params={"limit": 1})
    file = {"name": "taxi.pdf", "type": "RECEIPT", "user_id": employees.json()["data"][0]["user_id"]}
    created = await connector.request("POST", f"{connector.api}/admin/files", idempotent=False, json={"data": file})
    stored = created.json()["data"]
    async with httpx.AsyncClient() as storage:
        (
            await storage.put(stored["upload_url"], content=RECEIPT, headers={"content-type": "application/pdf"})
        ).raise_for_status()

    attachment = await connector.fetch_attachment(stored["id"], max_bytes=RECEIPT_MAX_BYTES)

    assert (attachment.name, attachment.content_type, attachment.content) == ("taxi.pdf", "application/pdf", RECEIPT)


async def test_a_seeded_receipt_matches_what_fyles_download_redirect_serves(connector: FyleConnector) -> None:
    with_receipts = [item async for item in connector.stream("expenses", since=None) if item.data["file_ids"]]
    expense = with_receipts[0]
    file_id = expense.data["file_ids"][0]
    redirect = await connector.http.get(f"{connector.api}/admin/files/download", params={"id": file_id})
    async with httpx.AsyncClient() as storage:
        served = await storage.get(redirect.headers["location"])

    attachment = await connector.fetch_attachment(file_id, max_bytes=RECEIPT_MAX_BYTES)

    assert redirect.status_code == 302
    assert attachment.content == served.content and attachment.content
    assert attachment.content_type == served.headers["content-type"]
    assert attachment.name == expense.data["files"][0]["name"]


class Bearer(httpx.Auth):
    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = "Bearer secret-access-token"
        yield request


async def test_the_bearer_token_never_travels_to_the_signed_url() -> None:
    context = ConnectorContext(
        tenant_id=uuid.uuid4(), connection_id=uuid.uuid4(), urls=FyleConnector.spec.urls, auth=Bearer()
    )
    signed = "https://fyle-storage.s3.amazonaws.com/fi1?X-Amz-Signature=abc"
    with respx.mock(assert_all_called=True) as mocked:
        urls = mocked.post(f"{PRODUCTION_API}/admin/files/generate_urls/bulk").respond(
            200,
            json={
                "data": [
                    {
                        "id": "fi1",
                        "name": "a.png",
                        "content_type": "image/png",
                        "download_url": signed,
                        "upload_url": None,
                    }
                ]
            },
        )
        download = mocked.get(signed).respond(200, content=b"png-bytes", headers={"content-type": "image/png"})
        connector = FyleConnector(context)
        async with connector:
            attachment = await connector.fetch_attachment("fi1", max_bytes=RECEIPT_MAX_BYTES)

    assert attachment.content == b"png-bytes"
    assert urls.calls.last.request.headers["authorization"] == "Bearer secret-access-token"
    assert "authorization" not in download.calls.last.request.headers
