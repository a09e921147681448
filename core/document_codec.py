"""A document as JSON and back, losslessly: what the engine stores before the first send that may reach the
destination, so that every resend carries exactly that payload (DESIGN.md, "Exactly-once effect").

Attachments' bytes are not stored: they are fetched again from the source by file id (`attachment_ids`).
"""

from datetime import date
from decimal import Decimal
from typing import Any

from core.domain import Document, DocumentKind, DocumentLine


def document_to_json(document: Document) -> dict[str, Any]:
    return {
        "kind": document.kind.value,
        "reference": document.reference,
        "transaction_date": document.transaction_date.isoformat(),
        "currency": document.currency,
        "counterparty": document.counterparty,
        "memo": document.memo,
        "due_date": _day(document.due_date),
        "exchange_rate": _money(document.exchange_rate),
        "base_currency": document.base_currency,
        "account": document.account,
        "applies_to": document.applies_to,
        "journal": document.journal,
        "entity": document.entity,
        "attachment_ids": list(document.attachment_ids),
        "total": str(document.total),
        "lines": [
            {
                "amount": str(line.amount),
                "account": line.account,
                "expense_type": line.expense_type,
                "description": line.description,
                "spent_on": _day(line.spent_on),
                "dimensions": dict(line.dimensions),
                "debit": line.debit,
                "tax_code": line.tax_code,
                "tax_amount": _money(line.tax_amount),
                "source_ids": list(line.source_ids),
                "base_amount": _money(line.base_amount),
            }
            for line in document.lines
        ],
    }


def document_from_json(data: dict[str, Any]) -> Document:
    """The document `document_to_json` stored; `KeyError`/`ValueError` if `data` is not one."""
    return Document(
        kind=DocumentKind(data["kind"]),
        reference=data["reference"],
        transaction_date=date.fromisoformat(data["transaction_date"]),
        currency=data["currency"],
        counterparty=data.get("counterparty"),
        memo=data.get("memo"),
        due_date=_parse_day(data.get("due_date")),
        exchange_rate=_parse_money(data.get("exchange_rate")),
        base_currency=data.get("base_currency"),
        account=data.get("account"),
        applies_to=data.get("applies_to"),
        journal=data.get("journal"),
        entity=data.get("entity"),
        attachment_ids=tuple(data.get("attachment_ids", ())),
        lines=tuple(
            DocumentLine(
                amount=Decimal(line["amount"]),
                account=line.get("account"),
                expense_type=line.get("expense_type"),
                description=line.get("description"),
                spent_on=_parse_day(line.get("spent_on")),
                dimensions=dict(line.get("dimensions") or {}),
                debit=bool(line.get("debit", True)),
                tax_code=line.get("tax_code"),
                tax_amount=_parse_money(line.get("tax_amount")),
                source_ids=tuple(line.get("source_ids", ())),
                base_amount=_parse_money(line.get("base_amount")),
            )
            for line in data["lines"]
        ),
    )


def _day(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def _money(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _parse_day(value: str | None) -> date | None:
    return None if value is None else date.fromisoformat(value)


def _parse_money(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)
