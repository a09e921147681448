"""Receipts as Xero attachments: `PUT /{Collection}/{id}/Attachments/{FileName}` with the file's bytes as the body,
one request per file, each under an Idempotency-Key of its own derived from its document's reference, generation
and place among the receipts.

A file is named in the path, and a file uploaded under a name the document already has replaces it (names compared
without regard to case). Receipts keep the names people gave them, often alike (`receipt.jpg`), so each receipt of a
document is uploaded under a name of its own (`file_names`): the second `receipt.jpg` as `receipt (2).jpg`, the same
on every upload."""

from pathlib import PurePosixPath
from urllib.parse import quote

from connectors.xero.constants import ATTACHMENT_PATH, OBJECTS
from connectors.xero.references import idempotency_key
from core.domain import Document, DocumentKind


def attachment_path(kind: DocumentKind, remote_id: str, file_name: str) -> str:
    collection_path = OBJECTS[kind][1]
    return ATTACHMENT_PATH.format(
        collection=collection_path, remote_id=quote(remote_id, safe=""), file_name=quote(file_name, safe="")
    )


def file_names(document: Document) -> list[str]:
    """The name each receipt of `document` is uploaded under, in order: its own, numbered when an earlier one has it."""
    taken: set[str] = set()
    names: list[str] = []
    for attachment in document.attachments:
        name, number = attachment.name, 1
        while name.lower() in taken:
            number += 1
            path = PurePosixPath(attachment.name)
            name = f"{path.stem} ({number}){path.suffix}" if path.stem else f"{attachment.name} ({number})"
        taken.add(name.lower())
        names.append(name)
    return names


def attachment_key(document: Document, index: int) -> str:
    return idempotency_key([(f"{document.reference}:receipt:{index}", document.generation)])


def attachment_names(body: dict[str, object]) -> frozenset[str]:
    """The file names a GET of a document's attachments lists."""
    rows = body.get("Attachments")
    if not isinstance(rows, list):
        return frozenset()
    return frozenset(str(row["FileName"]) for row in rows if isinstance(row, dict) and row.get("FileName"))
