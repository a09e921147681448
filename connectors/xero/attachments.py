"""Receipts as Xero attachments: `PUT /{Collection}/{id}/Attachments/{FileName}` with the file's bytes as the body,
one request per file, each under an Idempotency-Key of its own derived from its document's reference, generation
and place among the receipts."""

from urllib.parse import quote

from connectors.xero.constants import ATTACHMENT_PATH, OBJECTS
from connectors.xero.references import idempotency_key
from core.domain import Document, DocumentKind


def attachment_path(kind: DocumentKind, remote_id: str, file_name: str) -> str:
    collection_path = OBJECTS[kind][1]
    return ATTACHMENT_PATH.format(
        collection=collection_path, remote_id=quote(remote_id, safe=""), file_name=quote(file_name, safe="")
    )


def attachment_key(document: Document, index: int) -> str:
    return idempotency_key([(f"{document.reference}:receipt:{index}", document.generation)])


def attachment_names(body: dict[str, object]) -> frozenset[str]:
    """The file names a GET of a document's attachments lists."""
    rows = body.get("Attachments")
    if not isinstance(rows, list):
        return frozenset()
    return frozenset(str(row["FileName"]) for row in rows if isinstance(row, dict) and row.get("FileName"))
