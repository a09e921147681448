"""Files: records, signed upload/download URLs that point back at the simulator, and seeded receipts."""

from typing import Any

import httpx

from sandbox.fyle.constants import SIGNED_URL_TTL_SECONDS
from tests.sandbox.fyle.conftest import Fyle

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _user_id(api: httpx.Client) -> str:
    user_id: str = api.get("/employees", params={"limit": 1, "order": "id.asc"}).json()["data"][0]["user_id"]
    return user_id


def _urls(api: httpx.Client, *file_ids: str) -> list[dict[str, Any]]:
    answer = api.post("/files/generate_urls/bulk", json={"data": [{"id": file_id} for file_id in file_ids]})
    assert answer.status_code == 200, answer.text
    urls: list[dict[str, Any]] = answer.json()["data"]
    return urls


def test_a_created_file_is_uploaded_and_downloaded_through_its_signed_urls(fyle: Fyle, api: httpx.Client) -> None:
    created = api.post("/files", json={"data": {"name": "bill.csv", "type": "INTEGRATION", "user_id": _user_id(api)}})
    stored = created.json()["data"]

    uploaded = httpx.put(stored["upload_url"], content=b"a,b\n1,2\n", headers={"content-type": "text/csv"})
    downloaded = httpx.get(stored["download_url"])

    assert created.status_code == 200
    assert stored["content_type"] == "text/csv" and stored["upload_url"].startswith(f"{fyle.base}/storage/")
    assert uploaded.status_code == 200 and uploaded.headers["etag"]
    assert downloaded.content == b"a,b\n1,2\n"
    uploads = fyle.control.get("/fyle/writes", params={"kind": "file_uploads"}).json()["data"]
    assert [upload["data"]["bytes"] for upload in uploads] == [8]


def test_files_bulk_creates_several_and_refuses_rows_without_a_known_user(api: httpx.Client) -> None:
    rows = [{"name": "a.pdf", "type": "RECEIPT"}, {"name": "b.png", "type": "RECEIPT"}]
    user_id = _user_id(api)

    created = api.post("/files/bulk", json={"data": [row | {"user_id": user_id} for row in rows]})
    missing_user = api.post("/files/bulk", json={"data": [rows[0] | {"user_id": user_id}, rows[1]]})
    unknown_user = api.post("/files/bulk", json={"data": [rows[0] | {"user_id": "usNope"}]})

    assert [stored["content_type"] for stored in created.json()["data"]] == ["application/pdf", "image/png"]
    assert missing_user.status_code == 400 and missing_user.json()["data"][0]["row"] == 1
    assert unknown_user.status_code == 400 and unknown_user.json()["data"][0]["key"] == "user_id"


def test_seeded_receipts_download_as_real_png_and_pdf(fyle: Fyle, api: httpx.Client) -> None:
    expenses = fyle.list_all(api, "/expenses", {"order": "id.asc"})
    file_types = {file["content_type"]: file["id"] for expense in expenses for file in expense["files"]}

    png, pdf = (
        httpx.get(urls["download_url"]) for urls in _urls(api, file_types["image/png"], file_types["application/pdf"])
    )

    assert png.content.startswith(PNG_MAGIC) and png.headers["content-type"] == "image/png"
    assert pdf.content.startswith(b"%PDF-") and pdf.content.rstrip().endswith(b"%%EOF")


def test_files_download_redirects_to_a_signed_url(fyle: Fyle, api: httpx.Client) -> None:
    receipts = [expense for expense in fyle.list_all(api, "/expenses", {"order": "id.asc"}) if expense["file_ids"]]

    redirect = api.get("/files/download", params={"id": receipts[0]["file_ids"][0]})
    missing = api.get("/files/download", params={"id": "fiNope"})

    assert redirect.status_code == 302
    assert httpx.get(redirect.headers["location"]).status_code == 200
    assert missing.status_code == 404 and missing.json() == {"message": "Resource not found"}


def test_signed_urls_expire_and_cannot_be_used_for_the_other_action(fyle: Fyle, api: httpx.Client) -> None:
    created = api.post("/files", json={"data": {"name": "x.txt", "type": "INTEGRATION", "user_id": _user_id(api)}})
    stored = created.json()["data"]

    wrong_action = httpx.put(stored["download_url"], content=b"x")
    fyle.control.put("/clock", json={"advance_seconds": SIGNED_URL_TTL_SECONDS + 1})
    expired = httpx.put(stored["upload_url"], content=b"x")

    assert wrong_action.status_code == 403 and b"AccessDenied" in wrong_action.content
    assert expired.status_code == 403 and b"expired" in expired.content


def test_receipts_of_approved_expenses_cannot_be_replaced(fyle: Fyle, api: httpx.Client) -> None:
    expenses = fyle.list_all(api, "/expenses", {"order": "id.asc"})
    approved = next(expense for expense in expenses if expense["state"] == "APPROVED" and expense["file_ids"])
    draft = next(expense for expense in expenses if expense["state"] == "DRAFT" and expense["file_ids"])

    locked, open_ = _urls(api, approved["file_ids"][0], draft["file_ids"][0])

    assert locked["upload_url"] is None and locked["download_url"]
    assert open_["upload_url"] is not None


def test_generating_urls_for_an_unknown_file_is_a_400(api: httpx.Client) -> None:
    answer = api.post("/files/generate_urls/bulk", json={"data": [{"id": "fiNope"}]})

    assert answer.status_code == 400 and "fiNope" in answer.json()["message"]
