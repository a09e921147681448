"""Reading documents back for the books check: their headers page by page (readByQuery + readMore), then each page's
lines with one `read` of every field, which nests a document's lines under it.

Only what the check needs is read: the reference field, currency, date, and per line its amount with tax and the
memo where `documents._line_memo` names the line's expenses.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from xml.etree.ElementTree import Element

from connectors.base import BookedDocument, BookedLine
from connectors.intacct.constants import DATE_FORMAT
from connectors.intacct.documents import REFERENCES
from connectors.intacct.envelope import Result, row_of
from core.domain import DocumentKind
from core.errors import ValidationError

RECORD_NUMBER = "RECORDNO"
ALL_FIELDS = "*"
TAX_FIELD = "TRX_TAX"


@dataclass(frozen=True)
class BookedShape:
    """Where a kind of document keeps what the check compares."""

    date_field: str
    currency_field: str
    lines_field: str
    amount_field: str
    memo_field: str


SHAPES: dict[DocumentKind, BookedShape] = {
    DocumentKind.BILL: BookedShape("WHENCREATED", "CURRENCY", "APBILLITEMS", "TRX_AMOUNT", "ENTRYDESCRIPTION"),
}
"""The kinds read back so far; others are refused with a clear error."""


def shape_of(kind: DocumentKind) -> BookedShape:
    shape = SHAPES.get(kind)
    if shape is None:
        readable = ", ".join(kind.value for kind in SHAPES)
        raise ValidationError(
            f"Sage Intacct {kind.value} documents cannot be read back for the books check yet (only: {readable}).",
            code="books_kind_unsupported",
        )
    return shape


def header_fields(kind: DocumentKind) -> tuple[str, ...]:
    shape = shape_of(kind)
    return (RECORD_NUMBER, REFERENCES[kind].reference_field, shape.currency_field, shape.date_field)


def since_query(kind: DocumentKind, since: date) -> str:
    return f"{shape_of(kind).date_field} >= '{since.strftime(DATE_FORMAT)}'"


def _amount(text: str | None) -> Decimal:
    try:
        return Decimal((text or "0").strip() or "0")
    except InvalidOperation:
        return Decimal(0)


def _line(element: Element, shape: BookedShape) -> BookedLine:
    tax = sum((_amount(found.text) for found in element.iter(TAX_FIELD)), Decimal(0))
    return BookedLine(
        amount=_amount(element.findtext(shape.amount_field)) + tax,
        trace=(element.findtext(shape.memo_field) or "").strip(),
    )


def booked(kind: DocumentKind, headers: Sequence[dict[str, str]], result: Result) -> list[BookedDocument]:
    """The documents of `headers` with the lines their `read` answer nests; one deleted meanwhile is left out."""
    shape = shape_of(kind)
    reference_field = REFERENCES[kind].reference_field
    lines: dict[str, tuple[BookedLine, ...]] = {}
    for record in list(result.data) if result.data is not None else []:
        container = record.find(shape.lines_field)
        found = list(container) if container is not None else []
        lines[row_of(record).get(RECORD_NUMBER, "")] = tuple(_line(line, shape) for line in found)
    return [
        BookedDocument(
            kind=kind,
            remote_id=header[RECORD_NUMBER],
            reference=header.get(reference_field, ""),
            currency=header.get(shape.currency_field, ""),
            transaction_date=datetime.strptime(header[shape.date_field], DATE_FORMAT).date(),
            lines=lines[header[RECORD_NUMBER]],
        )
        for header in headers
        if header[RECORD_NUMBER] in lines
    ]
