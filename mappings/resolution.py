"""Resolve a group's expenses to destination ids, gathering every missing mapping before giving up.

A group is resolved whole: one missing category does not stop the search for a missing employee on the next
expense, so the `MappingError` names everything a person has to map in one go.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field

from core.destination_vocabulary import DestinationVocabulary
from core.domain import DocumentKind, Expense
from core.errors import MappingError
from mappings.errors import MissingMapping, MissingMappingsError
from mappings.mapping_table import MappingTable
from mappings.requirements import Role, entity_routing_value, needs
from mappings.settings import ExportSettings


@dataclass(frozen=True, slots=True)
class ResolvedExpense:
    """An expense with the destination ids its line needs (None where a default or nothing applies)."""

    expense: Expense
    category: str | None = None
    counterparty: str | None = None
    card_account: str | None = None
    tax_code: str | None = None
    entity: str | None = None
    dimensions: dict[str, str] = field(default_factory=dict)


def resolve_group(
    expenses: Sequence[Expense],
    *,
    settings: ExportSettings,
    kind: DocumentKind,
    mappings: MappingTable,
    vocabulary: DestinationVocabulary,
) -> list[ResolvedExpense]:
    """Every expense resolved, or `MissingMappingsError` naming every required mapping the group lacks."""
    missing: dict[tuple[str, str, str], list[str]] = {}
    resolved: list[ResolvedExpense] = []
    _refuse_unrouted(expenses, settings)
    for expense in expenses:
        found: dict[Role, str] = {}
        dimensions: dict[str, str] = {}
        for need in needs(expense, settings, kind, vocabulary):
            remote_id = mappings.lookup(need.source_type, need.source_value, need.destination_type)
            if remote_id is None:
                if need.required:
                    key = (need.source_type, need.source_value, need.destination_type)
                    missing.setdefault(key, []).append(expense.id)
            elif need.role is Role.DIMENSION:
                dimensions[need.destination_type] = remote_id
            else:
                found[need.role] = remote_id
        resolved.append(
            ResolvedExpense(
                expense=expense,
                category=found.get(Role.CATEGORY),
                counterparty=found.get(Role.COUNTERPARTY),
                card_account=found.get(Role.CARD_ACCOUNT),
                tax_code=found.get(Role.TAX),
                entity=found.get(Role.ENTITY),
                dimensions={**settings.defaults.dimensions, **dimensions},
            )
        )
    if missing:
        raise MissingMappingsError([MissingMapping(*key, expense_ids=tuple(ids)) for key, ids in missing.items()])
    return resolved


def _refuse_unrouted(expenses: Sequence[Expense], settings: ExportSettings) -> None:
    """Entity routing is on and some expenses leave its field empty: no mapping can place them, so say which."""
    if settings.entity is None:
        return
    field = settings.entity.source
    unrouted = [expense.id for expense in expenses if entity_routing_value(expense, settings) == (field, "")]
    if unrouted:
        raise MappingError(
            f"{len(unrouted)} expense{'s have' if len(unrouted) != 1 else ' has'} no {field}, which decides the "
            f"entity a document is posted in: {', '.join(unrouted)}",
            code="no_entity",
            hint=f"Fill in the {field} of these expenses in the source (they are exported once it syncs), or route "
            "entities by another field in the export settings.",
        )
