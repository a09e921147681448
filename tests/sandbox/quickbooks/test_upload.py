"""Attachments: the multipart upload (CRLF as browsers send it, LF as python-quickbooks does) and note-only
Attachables linked to a transaction."""

import base64
import hashlib
import json
from collections.abc import Mapping

import httpx

from tests.sandbox.quickbooks.conftest import Qbo, bill_body, fault_of

RECEIPT = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3 receipt bytes\n"


def multipart(
    meta: Mapping[str, object], content: bytes, newline: str = "\r\n", encode: bool = False
) -> tuple[bytes, str]:
    boundary = "----sandbox-boundary"
    lines = [
        f"--{boundary}",
        'Content-Disposition: form-data; name="file_metadata_01"',
        "Content-Type: application/json",
        "",
        json.dumps(meta),
        f"--{boundary}",
        'Content-Disposition: form-data; name="file_content_01"; filename="receipt.pdf"',
        "Content-Type: application/pdf",
    ]
    if encode:
        lines.append("Content-Transfer-Encoding: base64")
    head = newline.join([*lines, "", ""]).encode()
    payload = base64.b64encode(content) if encode else content
    body = head + payload + f"{newline}--{boundary}--{newline}".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def test_upload_links_the_file_to_a_bill_and_keeps_its_bytes(qbo: Qbo, api: httpx.Client) -> None:
    bill = api.post("/bill", json=bill_body(api)).json()["Bill"]
    meta = {
        "AttachableRef": [{"EntityRef": {"type": "Bill", "value": bill["Id"]}}],
        "FileName": "receipt.pdf",
        "ContentType": "application/pdf",
    }
    for newline, encode in (("\r\n", False), ("\n", True)):
        body, content_type = multipart(meta, RECEIPT, newline, encode)
        response = api.post("/upload", content=body, headers={"Content-Type": content_type})
        assert response.status_code == 200, response.text
        attachable = response.json()["AttachableResponse"][0]["Attachable"]
        assert attachable["Size"] == len(RECEIPT) and attachable["AttachableRef"][0]["EntityRef"]["value"] == bill["Id"]
        assert httpx.get(attachable["TempDownloadUri"]).content == RECEIPT
        realm = api.base_url.path.rstrip("/").split("/")[-1]
        stored = qbo.control.get(f"/realms/{realm}/attachments/{attachable['Id']}").json()
        assert stored["file"]["sha256"] == hashlib.sha256(RECEIPT).hexdigest()
    linked = api.post(
        "/query", content=f"SELECT * FROM Attachable WHERE AttachableRef.EntityRef.value = '{bill['Id']}'"
    )
    assert len(linked.json()["QueryResponse"]["Attachable"]) == 2


def test_upload_to_a_missing_transaction_is_a_per_file_fault(api: httpx.Client) -> None:
    meta = {"AttachableRef": [{"EntityRef": {"type": "Bill", "value": "424242"}}], "FileName": "r.pdf"}
    body, content_type = multipart(meta, RECEIPT)
    result = api.post("/upload", content=body, headers={"Content-Type": content_type}).json()
    assert result["AttachableResponse"][0]["Fault"]["Error"][0]["code"] == "2500"


def test_note_attachable_by_json_and_a_note_is_required(api: httpx.Client) -> None:
    bill = api.post("/bill", json=bill_body(api)).json()["Bill"]
    ref = [{"EntityRef": {"type": "Bill", "value": bill["Id"]}}]
    note = api.post("/attachable", json={"AttachableRef": ref, "Note": "Approved by Ada"}).json()["Attachable"]
    assert note["Note"] == "Approved by Ada"
    assert fault_of(api.post("/attachable", json={"AttachableRef": ref}))["code"] == "2020"
