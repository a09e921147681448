"""Valid documents of every kind against the Intacct sandbox's seed data, and helpers to count what it stores."""

import dataclasses
from datetime import date
from decimal import Decimal
from typing import Any

import httpx

from core.domain import Attachment, Document, DocumentKind, DocumentLine

DAY = date(2024, 3, 15)
VENDOR = "V00004"
INACTIVE_VENDOR = "V00013"
EMPLOYEE = "1004"
ACCOUNT = "70004"
CASH_ACCOUNT = "10000"
EXPENSE_TYPE = "Travel"
CARD = "AMEX-1001"
BANK = "BOA-01"

STORED = {
    DocumentKind.BILL: ("APBILL", "RECORDID"),
    DocumentKind.EXPENSE_REPORT: ("EEXPENSES", "DESCRIPTION"),
    DocumentKind.JOURNAL_ENTRY: ("GLBATCH", "REFERENCENO"),
    DocumentKind.CHARGE_CARD_TRANSACTION: ("CCTRANSACTION", "RECORDID"),
    DocumentKind.PAYMENT: ("APPYMT", "DESCRIPTION"),
    DocumentKind.REIMBURSEMENT: ("EPPAYMENT", "DESCRIPTION"),
}
"""Where the sandbox keeps each kind and the field holding the reference (what the tests count by)."""
WRITE_OPERATIONS = {
    DocumentKind.BILL: "create:APBILL",
    DocumentKind.EXPENSE_REPORT: "create_expensereport",
    DocumentKind.JOURNAL_ENTRY: "create:GLBATCH",
    DocumentKind.CHARGE_CARD_TRANSACTION: "record_cctransaction",
    DocumentKind.PAYMENT: "create:APPYMT",
    DocumentKind.REIMBURSEMENT: "create_reimbursementrequest",
}
"""The sandbox's operation name (fault glob) of each kind's create function."""


def line(amount: str = "100.00", **changes: Any) -> DocumentLine:
    return dataclasses.replace(
        DocumentLine(amount=Decimal(amount), account=ACCOUNT, description="Taxi to client"), **changes
    )


def bill(reference: str, **changes: Any) -> Document:
    document = Document(
        kind=DocumentKind.BILL,
        reference=reference,
        transaction_date=DAY,
        currency="USD",
        lines=(line("60.00"), line("40.10", dimensions={"department": "100"})),
        counterparty=VENDOR,
        memo="Expenses of March",
        due_date=date(2024, 4, 14),
    )
    return dataclasses.replace(document, **changes)


def expense_report(reference: str, **changes: Any) -> Document:
    document = Document(
        kind=DocumentKind.EXPENSE_REPORT,
        reference=reference,
        transaction_date=DAY,
        currency="USD",
        lines=(
            DocumentLine(amount=Decimal("80.00"), expense_type=EXPENSE_TYPE, description="Flight", spent_on=DAY),
            DocumentLine(amount=Decimal("12.50"), account=ACCOUNT, description="Lunch"),
        ),
        counterparty=EMPLOYEE,
        memo="Trip to Austin",
    )
    return dataclasses.replace(document, **changes)


def journal_entry(reference: str, **changes: Any) -> Document:
    document = Document(
        kind=DocumentKind.JOURNAL_ENTRY,
        reference=reference,
        transaction_date=DAY,
        currency="USD",
        lines=(
            DocumentLine(amount=Decimal("55.20"), account=ACCOUNT, description="Hotel", dimensions={"location": "100"}),
            DocumentLine(amount=Decimal("55.20"), account=CASH_ACCOUNT, debit=False, description="Card"),
        ),
        memo="Corporate card, March",
    )
    return dataclasses.replace(document, **changes)


def charge_card_transaction(reference: str, **changes: Any) -> Document:
    document = Document(
        kind=DocumentKind.CHARGE_CARD_TRANSACTION,
        reference=reference,
        transaction_date=DAY,
        currency="USD",
        lines=(DocumentLine(amount=Decimal("12.30"), expense_type=EXPENSE_TYPE, description="Cab"),),
        counterparty="Yellow Cab",
        account=CARD,
        memo="Cab to the airport",
    )
    return dataclasses.replace(document, **changes)


def payment(reference: str, bill_recordno: str, amount: str = "100.10", **changes: Any) -> Document:
    document = Document(
        kind=DocumentKind.PAYMENT,
        reference=reference,
        transaction_date=date(2024, 3, 20),
        currency="USD",
        lines=(DocumentLine(amount=Decimal(amount)),),
        counterparty=VENDOR,
        account=BANK,
        applies_to=bill_recordno,
    )
    return dataclasses.replace(document, **changes)


def reimbursement(reference: str, report_recordno: str, amount: str = "92.50", **changes: Any) -> Document:
    document = Document(
        kind=DocumentKind.REIMBURSEMENT,
        reference=reference,
        transaction_date=date(2024, 3, 25),
        currency="USD",
        lines=(DocumentLine(amount=Decimal(amount)),),
        counterparty=EMPLOYEE,
        account=BANK,
        applies_to=report_recordno,
    )
    return dataclasses.replace(document, **changes)


RECEIPT = Attachment(name="receipt.pdf", content_type="application/pdf", content=b"%PDF-1.4 receipt")


async def stored(
    control: httpx.AsyncClient, kind: DocumentKind, reference: str, company: str | None = None
) -> list[dict[str, Any]]:
    """The documents of `kind` the sandbox holds with this reference."""
    object_name, field = STORED[kind]
    params = {"object": object_name, **({"company": company} if company else {})}
    response = await control.get("/documents", params=params)
    response.raise_for_status()
    return [row for row in response.json()["data"] if row[field] == reference]


async def requests_for(sandbox_control: httpx.AsyncClient, operation: str) -> int:
    """How many requests the sandbox has answered whose first function is `operation`."""
    response = await sandbox_control.get("/requests", params={"system": "intacct", "operation": operation, "limit": 1})
    response.raise_for_status()
    count: int = response.json()["count"]
    return count
