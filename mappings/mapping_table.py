"""A destination's mappings as one in-memory lookup, loaded once per build so builders stay pure and fast."""

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import select

from core.models import DestinationAttribute
from core.models import Mapping as MappingRow
from core.repository import TenantRepository
from mappings.vocabulary import normalize_source_value

MappingKey = tuple[str, str, str]
"""(source type, normalised source value, destination type)."""


@dataclass(frozen=True, slots=True)
class MappingTable:
    remote_ids: Mapping[MappingKey, str]

    @classmethod
    def of(cls, rows: Iterable[tuple[str, str, str, str]]) -> "MappingTable":
        """From (source type, source value, destination type, destination remote id) rows."""
        return cls(
            {
                (source_type, normalize_source_value(source_type, value), destination_type): remote_id
                for source_type, value, destination_type, remote_id in rows
            }
        )

    def lookup(self, source_type: str, source_value: str, destination_type: str) -> str | None:
        """The destination id `source_value` maps to; `source_value` must already be normalised."""
        return self.remote_ids.get((source_type, source_value, destination_type))


async def load_mapping_table(repository: TenantRepository, destination_connection_id: uuid.UUID) -> MappingTable:
    """The connection's mappings to attributes that are still active: a mapping to an inactive one counts as
    missing, because the destination would refuse it."""
    query = (
        select(
            MappingRow.source_type,
            MappingRow.source_value,
            MappingRow.destination_type,
            DestinationAttribute.remote_id,
        )
        .join(
            DestinationAttribute,
            (DestinationAttribute.id == MappingRow.destination_attribute_id)
            & (DestinationAttribute.tenant_id == MappingRow.tenant_id),
        )
        .where(
            MappingRow.tenant_id == repository.tenant_id,
            MappingRow.destination_connection_id == destination_connection_id,
            DestinationAttribute.active.is_(True),
        )
    )
    rows = (await repository.session.execute(query)).all()
    return MappingTable.of(rows)
