"""Receipts as Attachables: one multipart `POST /upload` per document, a `file_metadata_NN` (the Attachable, linked to
the document) and a `file_content_NN` (the file) per receipt."""

import json
from collections.abc import Sequence

from connectors.quickbooks.constants import JSON_CONTENT_TYPE
from core.domain import Attachment

UploadPart = tuple[str | None, bytes, str]


def upload_form(attachments: Sequence[Attachment], object_name: str, remote_id: str) -> dict[str, UploadPart]:
    form: dict[str, UploadPart] = {}
    for number, attachment in enumerate(attachments, start=1):
        metadata = {
            "AttachableRef": [{"EntityRef": {"type": object_name, "value": remote_id}}],
            "FileName": attachment.name,
            "ContentType": attachment.content_type,
        }
        form[f"file_metadata_{number:02d}"] = (None, json.dumps(metadata).encode(), JSON_CONTENT_TYPE)
        form[f"file_content_{number:02d}"] = (attachment.name, attachment.content, attachment.content_type)
    return form
