"""Source values that still lack a mapping, with how many open expenses and waiting items need each.

Counted with the same `needs` the builders use, over the expenses the current settings would export, so the list
is exactly what stands between those expenses and their documents.
"""

import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from sqlalchemy import select

from core.destination_vocabulary import DestinationVocabulary
from core.domain import Expense
from core.models import ExportItem, ExportState
from core.repository import TenantRepository
from mappings.grouping import exclusion_reason
from mappings.mapping_table import MappingKey, MappingTable, load_mapping_table
from mappings.requirements import Need, fund_of, needs
from mappings.settings import ExportSettings
from mappings.source_expenses import OpenExpense, load_open_expenses, movable_item_ids


@dataclass(frozen=True, slots=True)
class UnmappedValue:
    source_type: str
    source_value: str
    destination_type: str
    waiting_expenses: int
    """Open expenses the current settings would export that need this mapping."""
    waiting_items: int
    """Export items in `needs_action` whose last build named this mapping as missing."""


def unmapped_needs(
    records: Sequence[OpenExpense], settings: ExportSettings, table: MappingTable, vocabulary: DestinationVocabulary
) -> Iterator[tuple[Need, Expense]]:
    """Each required, unmapped need of each expense that would be exported."""
    for record in records:
        expense = record.expense
        if expense is None or exclusion_reason(expense, settings) is not None:
            continue
        kind = settings.export_type(fund_of(expense))
        assert kind is not None, "exclusion_reason refuses expenses of a fund that is not exported"
        for need in needs(expense, settings, kind, vocabulary):
            if need.required and table.lookup(need.source_type, need.source_value, need.destination_type) is None:
                yield need, expense


async def open_expenses(repository: TenantRepository, destination_connection_id: uuid.UUID) -> list[OpenExpense]:
    return await load_open_expenses(
        repository, await movable_item_ids(repository, destination_connection_id, lock=False)
    )


async def _waiting_items(repository: TenantRepository, destination_connection_id: uuid.UUID) -> Counter[MappingKey]:
    query = select(ExportItem.missing_mappings).where(
        ExportItem.tenant_id == repository.tenant_id,
        ExportItem.destination_connection_id == destination_connection_id,
        ExportItem.state == ExportState.NEEDS_ACTION.value,
        ExportItem.missing_mappings.is_not(None),
    )
    counts: Counter[MappingKey] = Counter()
    for missing in (await repository.session.scalars(query)).all():
        counts.update(
            {(entry["source_type"], entry["source_value"], entry["destination_type"]) for entry in missing or []}
        )
    return counts


async def list_unmapped(
    repository: TenantRepository,
    *,
    destination_connection_id: uuid.UUID,
    settings: ExportSettings,
    vocabulary: DestinationVocabulary,
) -> list[UnmappedValue]:
    """Every unmapped value, ordered by (source type, source value, destination type)."""
    table = await load_mapping_table(repository, destination_connection_id)
    records = await open_expenses(repository, destination_connection_id)
    expenses: Counter[MappingKey] = Counter(
        (need.source_type, need.source_value, need.destination_type)
        for need, _ in unmapped_needs(records, settings, table, vocabulary)
    )
    items = await _waiting_items(repository, destination_connection_id)
    keys = sorted(set(expenses) | {key for key in items if table.lookup(*key) is None})
    return [UnmappedValue(*key, waiting_expenses=expenses[key], waiting_items=items[key]) for key in keys]
