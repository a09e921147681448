"""Preview: build export items' documents exactly as an export would, without sending (or saving) anything.

A preview that cannot build still answers: with every missing mapping of the item at once, or the reason the
document would be invalid. That is the point of it: one look shows everything left to fix. The export engine builds
its batches through `preview_items`, which reads the settings and the mapping table once per destination and every
item's expenses in two queries at most (decoded ones come from `expense_cache`).
"""

import uuid
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select

from core.bulk import among
from core.destination_vocabulary import DestinationVocabulary
from core.domain import Document, DocumentKind, Expense
from core.errors import LedgerlineError, MappingError, ValidationError
from core.models import Connection, ExportItem, ExportItemRecord, SourceRecord
from core.repository import TenantRepository
from mappings.builders import PAYMENT_KINDS, build_document
from mappings.errors import MissingMapping, MissingMappingsError, NotFound
from mappings.mapping_table import MappingTable, load_mapping_table
from mappings.settings_store import StoredSettings, current_settings
from mappings.source_expenses import read_expenses


@dataclass(frozen=True, slots=True)
class Preview:
    item: ExportItem
    settings_version: int | None
    document: Document | None
    missing: tuple[MissingMapping, ...] = ()
    error: LedgerlineError | None = None


_Linked = list[tuple[uuid.UUID, datetime | None]]
"""An item's source records, each with when its link was released."""
_Read = Mapping[uuid.UUID, tuple[Expense | None, str | None]]


async def _linked_records(
    repository: TenantRepository, item_ids: Sequence[uuid.UUID]
) -> tuple[dict[uuid.UUID, _Linked], _Read]:
    """Every item's source records and their expenses (`read_expenses`), in two queries at most."""
    query = (
        select(
            ExportItemRecord.export_item_id,
            ExportItemRecord.source_record_id,
            SourceRecord.fingerprint,
            ExportItemRecord.released_at,
        )
        .join(
            ExportItemRecord,
            (ExportItemRecord.tenant_id == SourceRecord.tenant_id)
            & (ExportItemRecord.source_record_id == SourceRecord.id),
        )
        .where(ExportItemRecord.tenant_id == repository.tenant_id, among(ExportItemRecord.export_item_id, item_ids))
    )
    linked: dict[uuid.UUID, _Linked] = defaultdict(list)
    fingerprints: dict[uuid.UUID, str] = {}
    for item_id, record_id, fingerprint, released_at in (await repository.session.execute(query)).all():
        linked[item_id].append((record_id, released_at))
        fingerprints[record_id] = fingerprint
    return linked, await read_expenses(repository, fingerprints)


def _expenses(item: ExportItem, rows: _Linked, read: _Read) -> list[Expense]:
    """The item's live expenses, or for an item whose links were released, the ones it had."""
    live = [record_id for record_id, released_at in rows if released_at is None]
    expenses = []
    for record_id in live or [record_id for record_id, _ in rows]:
        expense, problem = read[record_id]
        if expense is None:
            raise ValidationError(
                f"export item {item.id}: {problem}.",
                code="unreadable_source_record",
                hint="Pull the expense from the source again.",
            )
        expenses.append(expense)
    return expenses


def _preview(
    item: ExportItem,
    stored: StoredSettings | None,
    mappings: MappingTable,
    rows: _Linked,
    read: _Read,
    export_day: date,
    vocabulary: DestinationVocabulary,
) -> Preview:
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
            expenses=_expenses(item, rows, read),
            settings=stored.settings,
            mappings=mappings,
            reference=item.idempotency_key,
            export_day=export_day,
            vocabulary=vocabulary,
        )
    except MissingMappingsError as exc:
        return Preview(item, version, None, missing=exc.details, error=exc)
    except (MappingError, ValidationError) as exc:
        return Preview(item, version, None, error=exc)
    return Preview(item, version, document)


async def preview_items(
    repository: TenantRepository, items: Sequence[ExportItem], *, export_day: date, vocabulary: DestinationVocabulary
) -> list[Preview]:
    """One preview per item, in order; settings and mappings are read once per destination connection. Every item
    goes to a destination of the system `vocabulary` describes (the export engine's connector's)."""
    linked, read = await _linked_records(repository, [item.id for item in items])
    shared: dict[uuid.UUID, tuple[StoredSettings | None, MappingTable]] = {}
    previews = []
    for item in items:
        destination = item.destination_connection_id
        if destination not in shared:
            shared[destination] = (
                await current_settings(repository, destination),
                await load_mapping_table(repository, destination),
            )
        stored, mappings = shared[destination]
        previews.append(_preview(item, stored, mappings, linked.get(item.id, []), read, export_day, vocabulary))
    return previews


async def preview_item(
    repository: TenantRepository,
    *,
    export_item_id: uuid.UUID,
    export_day: date,
    vocabulary_for: Callable[[str], DestinationVocabulary],
) -> Preview:
    """`vocabulary_for` gives the vocabulary of a destination system (its connection's `provider`)."""
    item = await repository.get(ExportItem, export_item_id)
    if item is None:
        raise NotFound(f"No export item {export_item_id} exists for this tenant.")
    destination = await repository.get(Connection, item.destination_connection_id)
    if destination is None:
        raise NotFound(f"Export item {export_item_id} has no destination connection.")
    (preview,) = await preview_items(
        repository, [item], export_day=export_day, vocabulary=vocabulary_for(destination.provider)
    )
    return preview
