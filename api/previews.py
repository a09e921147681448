"""`GET /v1/export-items/{export_item_id}/preview`: the document an export would send, without sending it.

When it cannot be built the answer is still 200: a preview reports, and what it reports is every missing
mapping of the item at once (or why the document would be invalid).
"""

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

from fastapi import APIRouter
from pydantic import BaseModel

from api.deps import RepositoryDep
from connectors.registry import destination_vocabulary
from core.domain import Document, DocumentLine
from mappings import MissingMapping, NotFound, Preview, gross_total, preview_item
from web.problems import Problem

router = APIRouter(prefix="/export-items", tags=["export items"])


class DocumentLinePublic(BaseModel):
    amount: Decimal
    debit: bool
    account: str | None
    expense_type: str | None
    description: str | None
    spent_on: date | None
    dimensions: dict[str, str]
    tax_code: str | None
    tax_amount: Decimal | None
    source_ids: list[str]

    @classmethod
    def of(cls, line: DocumentLine) -> "DocumentLinePublic":
        return cls(
            amount=line.amount,
            debit=line.debit,
            account=line.account,
            expense_type=line.expense_type,
            description=line.description,
            spent_on=line.spent_on,
            dimensions=line.dimensions,
            tax_code=line.tax_code,
            tax_amount=line.tax_amount,
            source_ids=list(line.source_ids),
        )


class DocumentPublic(BaseModel):
    kind: str
    reference: str
    transaction_date: date
    currency: str
    exchange_rate: Decimal | None
    counterparty: str | None
    account: str | None
    memo: str | None
    total: Decimal
    lines: list[DocumentLinePublic]
    attachment_ids: list[str]

    @classmethod
    def of(cls, document: Document) -> "DocumentPublic":
        return cls(
            kind=document.kind.value,
            reference=document.reference,
            transaction_date=document.transaction_date,
            currency=document.currency,
            exchange_rate=document.exchange_rate,
            counterparty=document.counterparty,
            account=document.account,
            memo=document.memo,
            total=gross_total(document),
            lines=[DocumentLinePublic.of(line) for line in document.lines],
            attachment_ids=list(document.attachment_ids),
        )


class MissingMappingPublic(BaseModel):
    source_type: str
    source_value: str
    destination_type: str
    expense_ids: list[str]

    @classmethod
    def of(cls, missing: MissingMapping) -> "MissingMappingPublic":
        return cls(
            source_type=missing.source_type,
            source_value=missing.source_value,
            destination_type=missing.destination_type,
            expense_ids=list(missing.expense_ids),
        )


class BuildErrorPublic(BaseModel):
    error_class: str
    code: str | None
    message: str
    hint: str | None


class PreviewPublic(BaseModel):
    export_item_id: uuid.UUID
    document_type: str
    state: str
    settings_version: int | None
    ready: bool
    """True when the document builds: the export would send exactly `document`."""
    document: DocumentPublic | None
    missing_mappings: list[MissingMappingPublic]
    error: BuildErrorPublic | None

    @classmethod
    def of(cls, preview: Preview) -> "PreviewPublic":
        error = preview.error
        return cls(
            export_item_id=preview.item.id,
            document_type=preview.item.document_type,
            state=preview.item.state,
            settings_version=preview.settings_version,
            ready=preview.document is not None,
            document=DocumentPublic.of(preview.document) if preview.document else None,
            missing_mappings=[MissingMappingPublic.of(missing) for missing in preview.missing],
            error=BuildErrorPublic(
                error_class=error.error_class, code=error.code, message=error.message, hint=error.hint
            )
            if error
            else None,
        )


@router.get("/{export_item_id}/preview", response_model=PreviewPublic, summary="Build an item's document, unsent")
async def preview_export_item(export_item_id: uuid.UUID, repository: RepositoryDep) -> PreviewPublic:
    try:
        preview = await preview_item(
            repository,
            export_item_id=export_item_id,
            export_day=datetime.now(UTC).date(),
            vocabulary_for=destination_vocabulary,
        )
    except NotFound as exc:
        raise Problem(404, str(exc)) from exc
    return PreviewPublic.of(preview)
