"""Receipts as Xero attachments: `PUT /{Collection}/{id}/Attachments/{FileName}` with the file's bytes as the body,
one request per file, each under an Idempotency-Key of its own derived from its document's reference, generation
and the receipt's source file id.

A file is named in the path, and a file uploaded under a name the document already has replaces it (names compared
without regard to case). Receipts keep the names people gave them, often alike (`receipt.jpg`), so receipts named
alike are numbered by their place among the document's receipts as built (`file_names`): `receipt (1).jpg`,
`receipt (2).jpg`. Keys and numbers come from the receipts' source ids, never from their place in one attempt's
list, which moves up when the source stops serving an earlier receipt: a receipt must not be sent under another's
key, nor skipped for another's name."""

from collections import Counter
from pathlib import PurePosixPath
from urllib.parse import quote

from connectors.xero.constants import ATTACHMENT_PATH, OBJECTS
from connectors.xero.references import idempotency_key
from core.domain import Attachment, Document, DocumentKind


def attachment_path(kind: DocumentKind, remote_id: str, file_name: str) -> str:
    collection_path = OBJECTS[kind][1]
    return ATTACHMENT_PATH.format(
        collection=collection_path, remote_id=quote(remote_id, safe=""), file_name=quote(file_name, safe="")
    )


def file_names(document: Document) -> list[str]:
    """The name each receipt of `document` is uploaded under, in order: its own, or numbered when another receipt of
    the document has it too."""
    counts = Counter(attachment.name.lower() for attachment in document.attachments)
    taken = {name for name, count in counts.items() if count == 1}
    names: list[str] = []
    for index, attachment in enumerate(document.attachments):
        if counts[attachment.name.lower()] == 1:
            names.append(attachment.name)
            continue
        number = str(_place(document, attachment, index) + 1)
        name = _numbered(attachment.name, number)
        while name.lower() in taken:  # another receipt is called that already
            number += "+"
            name = _numbered(attachment.name, number)
        taken.add(name.lower())
        names.append(name)
    return names


def _numbered(name: str, number: str) -> str:
    path = PurePosixPath(name)
    return f"{path.stem} ({number}){path.suffix}" if path.stem else f"{name} ({number})"


def attachment_key(document: Document, attachment: Attachment, index: int) -> str:
    """The Idempotency-Key of one receipt's upload: the same for that file on every attempt."""
    identity = attachment.source_id or str(index)
    return idempotency_key([(f"{document.reference}:receipt:{identity}", document.generation)])


def _place(document: Document, attachment: Attachment, index: int) -> int:
    """The receipt's place among the document's receipts as built (`attachment_ids`); `index`, its place in this
    attempt's list, only for a receipt with no source id."""
    if attachment.source_id is not None and attachment.source_id in document.attachment_ids:
        return document.attachment_ids.index(attachment.source_id)
    return index


def attachment_names(body: dict[str, object]) -> frozenset[str]:
    """The file names a GET of a document's attachments lists."""
    rows = body.get("Attachments")
    if not isinstance(rows, list):
        return frozenset()
    return frozenset(str(row["FileName"]) for row in rows if isinstance(row, dict) and row.get("FileName"))
