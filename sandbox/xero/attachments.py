"""Attachments on a document: `PUT`/`POST /{Endpoint}/{GUID}/Attachments/{FileName}` with the file's raw bytes as
the body and its `Content-Type`; `GET …/Attachments` lists them and `GET …/Attachments/{FileName|AttachmentID}`
returns the bytes. Uploading a file name that is already attached replaces it; a document holds at most ten files
of at most 25 MB each. The document then answers `HasAttachments: true`."""

import uuid
from urllib.parse import quote

from starlette.responses import PlainTextResponse, Response

from sandbox.xero.api import Call
from sandbox.xero.collections import ATTACHABLE, collection_named
from sandbox.xero.constants import API_PREFIX, MAX_ATTACHMENT_BYTES, MAX_ATTACHMENTS_PER_DOCUMENT
from sandbox.xero.errors import XeroError, not_found, validation_error
from sandbox.xero.reads import find
from sandbox.xero.store import Attachment

PRODUCTION_API = "https://api.xero.com" + API_PREFIX
TOO_MANY_MESSAGE = f"A document may have at most {MAX_ATTACHMENTS_PER_DOCUMENT} attachments."


def _document(call: Call) -> tuple[str, str]:
    collection = collection_named(call.request.path_params["collection"])
    if collection is None or collection.name not in ATTACHABLE:
        raise not_found()
    document = find(call, collection, call.request.path_params["object_id"])
    if document is None:
        raise not_found()
    return collection.name, str(document[collection.id_field])


def _url(name: str, document_id: str, file_name: str) -> str:
    return f"{PRODUCTION_API}/{name}/{document_id}/Attachments/{quote(file_name)}"


async def upload(call: Call) -> Response:
    name, document_id = _document(call)
    file_name = call.request.path_params["file_name"]
    if len(call.body) > MAX_ATTACHMENT_BYTES:
        raise XeroError(PlainTextResponse("The file is larger than the 25 MB Xero accepts.", 413))
    if not call.body:
        raise validation_error("The attachment is empty.")
    files = call.store.attachments.setdefault(document_id, [])
    kept = [item for item in files if item.file_name.lower() != file_name.lower()]
    if len(kept) >= MAX_ATTACHMENTS_PER_DOCUMENT:
        raise validation_error(TOO_MANY_MESSAGE)
    media = (call.request.headers.get("content-type") or "application/octet-stream").split(";")[0].strip()
    attachment = Attachment(str(uuid.uuid4()), file_name, media, call.body)
    call.store.attachments[document_id] = [*kept, attachment]
    document = call.store.get(name, document_id)
    if document is not None:
        document["HasAttachments"] = True
    return call.answer({"Attachments": [attachment.public(_url(name, document_id, file_name))]})


async def list_attachments(call: Call) -> Response:
    name, document_id = _document(call)
    files = call.store.attachments.get(document_id, [])
    return call.answer({"Attachments": [item.public(_url(name, document_id, item.file_name)) for item in files]})


async def download(call: Call) -> Response:
    _, document_id = _document(call)
    wanted = call.request.path_params["file_name"].lower()
    for item in call.store.attachments.get(document_id, []):
        if wanted in (item.file_name.lower(), item.id.lower()):
            return Response(item.content, media_type=item.mime_type)
    raise not_found()
