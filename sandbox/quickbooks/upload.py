"""`POST /v3/company/{realmId}/upload`: a multipart body of `file_metadata_NN` (an Attachable as JSON) and
`file_content_NN` (the file, raw or `Content-Transfer-Encoding: base64`) pairs; answers
`{"AttachableResponse": [{"Attachable": {…}} | {"Fault": {…}}], "time"}`, one entry per file.

The parser accepts CRLF or bare LF line ends: python-quickbooks builds its body with LF only.
"""

import base64
import binascii
import json
import re
import secrets
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from sandbox.quickbooks.api import answer, state_of
from sandbox.quickbooks.constants import CODE_MALFORMED, MAX_UPLOAD_BYTES
from sandbox.quickbooks.entities import ENTITIES
from sandbox.quickbooks.errors import QboFault
from sandbox.quickbooks.state import StoredFile
from sandbox.quickbooks.store import RealmStore
from sandbox.quickbooks.writes import create

HEADER_END = re.compile(rb"\r?\n\r?\n")


@dataclass(frozen=True, slots=True)
class Part:
    name: str
    filename: str | None
    content_type: str
    content: bytes


def _parts(body: bytes, content_type: str) -> list[Part]:
    match = re.search(r'boundary="?([^";]+)"?', content_type)
    if match is None:
        raise QboFault(CODE_MALFORMED, "Content-Type must be multipart/form-data with a boundary")
    delimiter = b"--" + match.group(1).encode()
    parts = []
    for chunk in body.split(delimiter)[1:]:
        if chunk.startswith(b"--"):
            break
        chunk = chunk[2:] if chunk.startswith(b"\r\n") else chunk.removeprefix(b"\n")
        split = HEADER_END.search(chunk)
        if split is None:
            continue
        headers = {}
        for line in chunk[: split.start()].decode("utf-8", errors="replace").splitlines():
            key, _, value = line.partition(":")
            headers[key.strip().lower()] = value.strip()
        content = chunk[split.end() :]
        content = content[:-2] if content.endswith(b"\r\n") else content.removesuffix(b"\n")
        if headers.get("content-transfer-encoding", "").lower() == "base64":
            try:
                content = base64.b64decode(b"".join(content.split()), validate=True)
            except binascii.Error:
                raise QboFault(CODE_MALFORMED, "file content is not valid base64") from None
        disposition = headers.get("content-disposition", "")
        name = re.search(r'name="([^"]*)"', disposition)
        filename = re.search(r'filename="([^"]*)"', disposition)
        parts.append(
            Part(
                name.group(1) if name else "",
                filename.group(1) if filename else None,
                headers.get("content-type", "application/octet-stream"),
                content,
            )
        )
    return parts


def _attach(request: Request, store: RealmStore, meta: dict[str, Any], part: Part) -> dict[str, Any]:
    state = state_of(request)
    metadata = dict(meta)
    metadata.setdefault("FileName", part.filename or "upload")
    metadata["ContentType"] = metadata.get("ContentType") or part.content_type
    metadata["Size"] = len(part.content)
    attachable = create(store, ENTITIES["Attachable"], metadata)
    stored = StoredFile(part.content, str(metadata["ContentType"]), secrets.token_urlsafe(12))
    state.files[(store.realm_id, attachable["Id"])] = stored
    base = f"{request.url.scheme}://{request.url.netloc}{request.scope.get('root_path', '')}"
    extra = {
        "FileAccessUri": f"/v3/company/{store.realm_id}/download/{attachable['Id']}",
        "TempDownloadUri": f"{base}/files/{store.realm_id}/{attachable['Id']}/{stored.key}",
    }
    store.objects["Attachable"][attachable["Id"]].update(extra)
    return attachable | extra


async def upload(request: Request, store: RealmStore) -> Response:
    body = await request.body()
    if len(body) > MAX_UPLOAD_BYTES:
        raise QboFault("6030", f"The file upload request should not exceed 100MB in size ({len(body)} bytes)")
    parts = _parts(body, request.headers.get("content-type", ""))
    metas = {part.name.removeprefix("file_metadata_"): part for part in parts if part.name.startswith("file_metadata_")}
    results = []
    for part in parts:
        if not part.name.startswith("file_content_"):
            continue
        suffix = part.name.removeprefix("file_content_")
        try:
            meta: Any = json.loads(metas[suffix].content) if suffix in metas else {}
            if not isinstance(meta, dict):
                raise QboFault("6040", "The file metadata must be of Attachable type")
            results.append({"Attachable": _attach(request, store, meta, part)})
        except json.JSONDecodeError:
            results.append({"Fault": QboFault("6040", "The file metadata must be of Attachable type").fault()})
        except QboFault as fault:
            results.append({"Fault": fault.fault()})
    if not results:
        raise QboFault(CODE_MALFORMED, "The request carries no file_content part")
    return answer(state_of(request), {"AttachableResponse": results})
