"""Preview: build an export item's document exactly as an export would, without sending (or saving) anything.

A preview that cannot build still answers: with every missing mapping of the item at once, or the reason the
document would be invalid. That is the point of it: one look shows everything left to fix.
"""

import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from core.domain import Document, DocumentKind, Expense
from core.errors import LedgerlineError, ValidationError
from core.models import ExportItem, ExportItemRecord, SourceRecord
from core.repository import TenantRepository
from mappings.builders import PAYMENT_KINDS, build_document
from mappings.errors import MissingMapping, MissingMappingsError, NotFound
from mappings.expense_json import ExpenseFormatError, expense_from_json
from mappings.mapping_table import load_mapping_table
from mappings.settings_store import current_settings


@dataclass(frozen=True, slots=True)
class Preview:
    item: ExportItem
    settings_version: int | None
    document: Document | None
    missing: tuple[MissingMapping, ...] = ()
    error: LedgerlineError | None = None


async def _item_expenses(repository: TenantRepository, item: ExportItem) -> list[Expense]:
    """The item's expenses: its live links, or for an item whose links were released, the ones it had."""
    query = (
        select(SourceRecord.data, ExportItemRecord.released_at)
        .join(
            ExportItemRecord,
            (ExportItemRecord.tenant_id == SourceRecord.tenant_id)
            & (ExportItemRecord.source_record_id == SourceRecord.id),
        )
        .where(ExportItemRecord.tenant_id == repository.tenant_id, ExportItemRecord.export_item_id == item.id)
    )
    rows = (await repository.session.execute(query)).all()
    live = [data for data, released_at in rows if released_at is None]
    try:
        return [expense_from_json(data) for data in (live or [data for data, _ in rows])]
    except ExpenseFormatError as exc:
        raise ValidationError(
            f"export item {item.id}: a source record is not a readable expense ({exc}).",
            code="unreadable_source_record",
            hint="Pull the expense from the source again.",
        ) from exc


async def preview_item(repository: TenantRepository, *, export_item_id: uuid.UUID, export_day: date) -> Preview:
    item = await repository.get(ExportItem, export_item_id)
    if item is None:
        raise NotFound(f"No export item {export_item_id} exists for this tenant.")
    stored = await current_settings(repository, item.destination_connection_id)
    version = stored.version if stored is not None else None
    kind = DocumentKind(item.document_type)
    try:
        if stored is None:
            raise ValidationError(
                "No export settings are saved for this destination.", hint="Save export settings first."
            )
        if kind in PAYMENT_KINDS.values():
            raise ValidationError(
                f"A {kind.value} is built from the document it pays, when the destination reports it paid.",
                code="not_previewable",
            )
        document = build_document(
            kind=kind,
            expenses=await _item_expenses(repository, item),
            settings=stored.settings,
            mappings=await load_mapping_table(repository, item.destination_connection_id),
            reference=item.idempotency_key,
            export_day=export_day,
        )
    except MissingMappingsError as exc:
        return Preview(item, version, None, missing=exc.details, error=exc)
    except ValidationError as exc:
        return Preview(item, version, None, error=exc)
    return Preview(item, version, document)
