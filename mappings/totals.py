"""What a built document adds up to, counting tax that lines carry beside their net amounts."""

from decimal import Decimal

from core.domain import Document, DocumentLine
from mappings.constants import ZERO


def line_gross(line: DocumentLine) -> Decimal:
    """A line's amount with its tax: what the expense cost."""
    return line.amount + (line.tax_amount or ZERO)


def gross_total(document: Document) -> Decimal:
    """The total of the debit lines with their tax: what the document is worth (journals: one side)."""
    return sum((line_gross(line) for line in document.lines if line.debit), ZERO)


def credit_total(document: Document) -> Decimal:
    return sum((line_gross(line) for line in document.lines if not line.debit), ZERO)


def is_balanced(document: Document) -> bool:
    """Debits equal credits. Only journal entries have credit lines; a document is in one currency."""
    return gross_total(document) == credit_total(document)
