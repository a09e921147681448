"""One `POST /batch` of up to 30 creates under one `requestid`, and reading its answer back per document.

Each item's `bId` is its document's DocNumber (`references.doc_number`), so an answer is matched by name: a
`requestid` repeated by a resend is answered with the first request's stored response, which may list more
documents than the resend carries. The request id derives from the batch's references and generations
(`request_id`), so a resend of an unsettled batch repeats it and a settled document gets a new one.
"""

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from connectors.quickbooks.constants import REQUEST_ID_HEX, REQUEST_ID_PREFIX
from connectors.quickbooks.documents import Json, document_body
from connectors.quickbooks.errors import DISPLAY_NAME
from connectors.quickbooks.references import doc_number
from core.domain import Document, DocumentKind
from core.errors import LedgerlineError, ValidationError


def request_id(members: Sequence[tuple[str, int]]) -> str:
    """The `requestid` of a request writing these (reference, generation) pairs, in any order."""
    digest = hashlib.sha256(
        "\n".join(sorted(f"{reference}:{generation}" for reference, generation in members)).encode()
    )
    return REQUEST_ID_PREFIX + digest.hexdigest()[:REQUEST_ID_HEX]


@dataclass(frozen=True)
class Planned:
    position: int
    document: Document
    object_name: str
    bid: str


@dataclass
class Plan:
    items: list[Json] = field(default_factory=list)
    planned: list[Planned] = field(default_factory=list)
    refused: dict[int, LedgerlineError] = field(default_factory=dict)
    """Documents that cannot be valid as built: refused before any call."""


def plan(documents: Sequence[Document], objects: Sequence[tuple[DocumentKind, str]]) -> Plan:
    result = Plan()
    seen: set[str] = set()
    for position, document in enumerate(documents):
        bid = doc_number(document.reference)
        try:
            if bid in seen:
                raise ValidationError(
                    f"The reference {document.reference} appears twice in one batch.", code="duplicate_reference"
                )
            object_name, body = document_body(document, objects)
        except ValidationError as error:
            result.refused[position] = error
            continue
        seen.add(bid)
        result.items.append({"bId": bid, "operation": "create", object_name: body})
        result.planned.append(Planned(position, document, object_name, bid))
    return result


def answers_by_bid(body: Any) -> dict[str, dict[str, Any]]:
    """The batch answer's items by `bId`; `ValueError` for an answer that is not a batch answer."""
    items = body.get("BatchItemResponse") if isinstance(body, dict) else None
    if not isinstance(items, list):
        raise ValueError(f"{DISPLAY_NAME}'s batch answer has no BatchItemResponse")
    return {str(item["bId"]): item for item in items if isinstance(item, dict) and "bId" in item}
