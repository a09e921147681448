"""Documents the Xero tests send, naming objects by id as Ledgerline's imports do."""

from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

from core.domain import Attachment, Document, DocumentKind, DocumentLine

TRAVEL = "5040915e-8ce7-4177-8d08-fde416232b81"
MEALS = "8c6c3b8a-2a39-4a2f-9b5e-1f3c4d5e6f70"
CARD = "13918178-849a-4823-9a31-57b7eac713d7"
CONTACT = "5b96e86b-418e-48e8-8949-308c14aec278"


def bill(reference: str, **changes: Any) -> Document:
    lines = (
        DocumentLine(amount=Decimal("120.50"), account=TRAVEL, description="Flight", source_ids=("tx1",)),
        DocumentLine(amount=Decimal("30.25"), account=MEALS, description="Dinner", source_ids=("tx2",)),
    )
    document = Document(
        kind=DocumentKind.BILL,
        reference=reference,
        transaction_date=date(2026, 11, 20),
        currency="NZD",
        base_currency="NZD",
        lines=lines,
        counterparty=CONTACT,
        memo="Report rp1 of Ana",
    )
    return replace(document, **changes)


def spend(reference: str, **changes: Any) -> Document:
    document = Document(
        kind=DocumentKind.CHARGE_CARD_TRANSACTION,
        reference=reference,
        transaction_date=date(2026, 11, 21),
        currency="NZD",
        base_currency="NZD",
        lines=(DocumentLine(amount=Decimal("42.00"), account=MEALS, description="Lunch", source_ids=("tx9",)),),
        counterparty="Cafe Uno",
        account=CARD,
    )
    return replace(document, **changes)


def journal(reference: str, **changes: Any) -> Document:
    lines = (
        DocumentLine(amount=Decimal("10.00"), account=TRAVEL, source_ids=("tx5",)),
        DocumentLine(amount=Decimal("10.00"), account=CARD, debit=False, source_ids=("tx5",)),
    )
    document = Document(
        kind=DocumentKind.JOURNAL_ENTRY,
        reference=reference,
        transaction_date=date(2026, 11, 22),
        currency="NZD",
        base_currency="NZD",
        lines=lines,
    )
    return replace(document, **changes)


RECEIPT = Attachment(name="receipt.pdf", content_type="application/pdf", content=b"%PDF-1.4 receipt")
