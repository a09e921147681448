"""Saving and clearing mappings, audited, and releasing the export items that were waiting on them.

A change is checked whole before anything is written: every type pair, every attribute (exists in this
destination, has the mapped type, is active). Saving a mapping takes it off the `missing_mappings` of the items
waiting on it; an item with nothing left missing goes back to `pending`.
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import or_, tuple_

from core.destination_vocabulary import DestinationVocabulary
from core.models import DestinationAttribute, ExportItem, ExportState, Mapping
from core.repository import TenantRepository
from core.state_machine import record_transition
from mappings.constants import (
    AUDIT_MAPPING_CREATE,
    AUDIT_MAPPING_DELETE,
    AUDIT_MAPPING_UPDATE,
    RELEASE_REASON,
)
from mappings.errors import NotFound, RejectedChange
from mappings.mapping_table import MappingKey
from mappings.vocabulary import mapping_problem, normalize_source_value

MAPPING_ERROR_CLASS = "mapping"


@dataclass(frozen=True, slots=True)
class MappingChange:
    source_type: str
    source_value: str
    destination_type: str
    destination_attribute_id: uuid.UUID

    @property
    def key(self) -> MappingKey:
        return (self.source_type, normalize_source_value(self.source_type, self.source_value), self.destination_type)


@dataclass(frozen=True, slots=True)
class SavedMappings:
    mappings: tuple[Mapping, ...]
    created: int
    released_item_ids: tuple[uuid.UUID, ...]


async def _attributes(
    repository: TenantRepository, destination_connection_id: uuid.UUID, ids: set[uuid.UUID]
) -> dict[uuid.UUID, DestinationAttribute]:
    query = repository.scoped(DestinationAttribute).where(
        DestinationAttribute.connection_id == destination_connection_id, DestinationAttribute.id.in_(ids)
    )
    return {row.id: row for row in (await repository.session.scalars(query)).all()}


def _problems(
    changes: Sequence[MappingChange],
    attributes: dict[uuid.UUID, DestinationAttribute],
    vocabulary: DestinationVocabulary,
) -> list[str]:
    problems: list[str] = []
    seen: set[MappingKey] = set()
    for index, change in enumerate(changes):
        where = f"mappings[{index}]" if len(changes) > 1 else "mapping"
        problem = mapping_problem(change.source_type, change.destination_type, vocabulary)
        attribute = attributes.get(change.destination_attribute_id)
        if problem is not None:
            problems.append(f"{where}: {problem}")
        elif not change.key[1]:
            problems.append(f"{where}: the source value is empty")
        elif change.key in seen:
            problems.append(f"{where}: maps {change.source_type} {change.source_value!r} a second time")
        elif attribute is None:
            problems.append(
                f"{where}: destination attribute {change.destination_attribute_id} is not in this connection"
            )
        elif attribute.attribute_type != change.destination_type:
            problems.append(
                f"{where}: {attribute.name!r} is of type {attribute.attribute_type}, not {change.destination_type}"
            )
        elif not attribute.active:
            problems.append(f"{where}: {attribute.name!r} is inactive in the destination")
        seen.add(change.key)
    return problems


async def set_mappings(
    repository: TenantRepository,
    *,
    destination_connection_id: uuid.UUID,
    changes: Sequence[MappingChange],
    vocabulary: DestinationVocabulary,
    origin: str = "manual",
) -> SavedMappings:
    """Create or repoint each mapping (all or none), audit each change, and release the items waiting on them.
    `vocabulary` is the destination's: which of its types each source type may map to."""
    attributes = await _attributes(
        repository, destination_connection_id, {change.destination_attribute_id for change in changes}
    )
    problems = _problems(changes, attributes, vocabulary)
    if problems:
        raise RejectedChange(problems)
    keys = [change.key for change in changes]
    query = repository.scoped(Mapping).where(
        Mapping.destination_connection_id == destination_connection_id,
        tuple_(Mapping.source_type, Mapping.source_value, Mapping.destination_type).in_(keys),
    )
    existing = {
        (row.source_type, row.source_value, row.destination_type): row
        for row in (await repository.session.scalars(query)).all()
    }
    saved: list[Mapping] = []
    for change in changes:
        attribute = attributes[change.destination_attribute_id]
        audit = {
            "source_type": change.source_type,
            "source_value": change.key[1],
            "destination_type": change.destination_type,
            "destination_attribute_id": str(attribute.id),
            "remote_id": attribute.remote_id,
            "origin": origin,
        }
        row = existing.get(change.key)
        if row is None:
            row = Mapping(
                id=uuid.uuid4(),
                destination_connection_id=destination_connection_id,
                source_type=change.source_type,
                source_value=change.key[1],
                destination_type=change.destination_type,
                destination_attribute_id=attribute.id,
                updated_by=repository.actor,
            )
            await repository.add(row, audit_action=AUDIT_MAPPING_CREATE, audit_data=audit)
        elif row.destination_attribute_id != attribute.id:
            previous = row.destination_attribute_id
            row.destination_attribute_id = attribute.id
            row.updated_by = repository.actor
            await repository.session.flush()
            await repository.audit(
                AUDIT_MAPPING_UPDATE, entity=row, data={**audit, "previous_attribute_id": str(previous)}
            )
        saved.append(row)
    released = await release_waiting_items(repository, destination_connection_id=destination_connection_id, keys=keys)
    created = sum(1 for key in keys if key not in existing)
    return SavedMappings(mappings=tuple(saved), created=created, released_item_ids=tuple(released))


async def release_waiting_items(
    repository: TenantRepository, *, destination_connection_id: uuid.UUID, keys: Sequence[MappingKey]
) -> list[uuid.UUID]:
    """Strike `keys` off the missing mappings of waiting items; items left with none go back to `pending`."""
    if not keys:
        return []
    wanted = [{"source_type": st, "source_value": sv, "destination_type": dt} for st, sv, dt in keys]
    query = repository.scoped(ExportItem).where(
        ExportItem.destination_connection_id == destination_connection_id,
        ExportItem.state == ExportState.NEEDS_ACTION.value,
        ExportItem.error_class == MAPPING_ERROR_CLASS,
        or_(*(ExportItem.missing_mappings.contains([entry]) for entry in wanted)),
    )
    released: list[uuid.UUID] = []
    for item in (await repository.session.scalars(query.with_for_update())).all():
        remaining = [entry for entry in item.missing_mappings or [] if entry not in wanted]
        item.missing_mappings = remaining or None
        if remaining:
            continue
        await record_transition(
            repository.session,
            tenant_id=repository.tenant_id,
            item_id=item.id,
            source=item.state,
            target=ExportState.PENDING,
            actor=repository.actor,
            details={"reason": RELEASE_REASON},
        )
        item.state = ExportState.PENDING.value
        item.next_attempt_at = datetime.now(UTC)
        item.error_class = item.error_code = item.error_message = item.error_hint = None
        released.append(item.id)
    await repository.session.flush()
    return released


async def get_mapping(
    repository: TenantRepository, destination_connection_id: uuid.UUID, mapping_id: uuid.UUID
) -> Mapping:
    row = await repository.get(Mapping, mapping_id)
    if row is None or row.destination_connection_id != destination_connection_id:
        raise NotFound(f"No mapping {mapping_id} exists for this connection.")
    return row


async def clear_mapping(
    repository: TenantRepository, *, destination_connection_id: uuid.UUID, mapping_id: uuid.UUID
) -> None:
    """Remove a mapping. Items already built keep their documents; the next build will ask for it again."""
    row = await get_mapping(repository, destination_connection_id, mapping_id)
    await repository.audit(
        AUDIT_MAPPING_DELETE,
        entity=row,
        data={
            "source_type": row.source_type,
            "source_value": row.source_value,
            "destination_type": row.destination_type,
            "destination_attribute_id": str(row.destination_attribute_id),
        },
    )
    await repository.session.delete(row)
    await repository.session.flush()
