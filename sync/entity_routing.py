"""Work about a document goes to the entity it was posted in.

A multi-entity destination keeps each entity's documents apart (Intacct shows an entity's documents only in a
session of that entity), so a payment, a status read or a lookup of a routed document goes through the
connector's view of its entity (`DestinationConnector.in_entity`), and the entity is read from the document as
it was sent (`Document.entity`, kept in `export_items.document`).
"""

from collections.abc import Callable, Sequence
from typing import TypeVar

from sqlalchemy import ColumnElement

from connectors.base import DestinationConnector
from core.models import ExportItem

T = TypeVar("T")

SENT_ENTITY: ColumnElement[str | None] = ExportItem.document["entity"].astext
"""The entity of the document an item sent; NULL for the connection's own."""


def grouped_by_entity(rows: Sequence[T], entity_of: Callable[[T], str | None]) -> list[tuple[str | None, list[T]]]:
    """`rows` per entity, in order of first appearance, each group in its original order."""
    groups: dict[str | None, list[T]] = {}
    for row in rows:
        groups.setdefault(entity_of(row), []).append(row)
    return list(groups.items())


def connector_in(destination: DestinationConnector, entity: str | None) -> DestinationConnector:
    """The connector that reaches `entity` (the connection's own for None); raises the connector's refusal."""
    return destination if entity is None else destination.in_entity(entity)
