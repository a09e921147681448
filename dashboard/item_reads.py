"""What the item page adds to `sync.item_queries`: for each missing mapping, the destination values to choose from."""

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from connectors.registry import UnknownSystemError, destination_vocabulary
from core.destination_vocabulary import DestinationVocabulary
from core.models import Connection, DestinationAttribute, ExportItem
from dashboard.constants import MAPPING_CHOICES_LIMIT


@dataclass(frozen=True)
class MissingMappingFix:
    source_type: str
    source_value: str
    destination_type: str
    destination_label: str
    """What the destination's spec calls the type (QuickBooks' "Location (department)")."""
    choices: list[tuple[uuid.UUID, str]]


async def _vocabulary(session: AsyncSession, item: ExportItem) -> DestinationVocabulary | None:
    provider = await session.scalar(select(Connection.provider).where(Connection.id == item.destination_connection_id))
    try:
        return destination_vocabulary(provider) if provider else None
    except UnknownSystemError:
        return None


async def mapping_fixes(session: AsyncSession, item: ExportItem, missing: list[Any]) -> list[MissingMappingFix]:
    vocabulary = await _vocabulary(session, item)
    fixes = []
    for entry in missing:
        destination_type = str(entry.get("destination_type", ""))
        rows = (
            await session.execute(
                select(DestinationAttribute.id, DestinationAttribute.name, DestinationAttribute.code)
                .where(
                    DestinationAttribute.tenant_id == item.tenant_id,
                    DestinationAttribute.connection_id == item.destination_connection_id,
                    DestinationAttribute.attribute_type == destination_type,
                    DestinationAttribute.active.is_(True),
                )
                .order_by(DestinationAttribute.name)
                .limit(MAPPING_CHOICES_LIMIT)
            )
        ).all()
        fixes.append(
            MissingMappingFix(
                source_type=str(entry.get("source_type", "")),
                source_value=str(entry.get("source_value", "")),
                destination_type=destination_type,
                destination_label=vocabulary.label(destination_type) if vocabulary else destination_type,
                choices=[(row.id, f"{row.name} ({row.code})" if row.code else row.name) for row in rows],
            )
        )
    return fixes
