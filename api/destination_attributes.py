"""`/v1/connections/{connection_id}/destination-attributes`: what a destination's documents may reference.

Searchable by name or code, and filterable by type and by whether the destination still has the value active.
"""

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict
from sqlalchemy import or_

from api.constants import LIKE_ESCAPE, SEARCH_MAX_LENGTH
from api.deps import RepositoryDep
from api.destinations import DestinationDep
from api.keyset import keyset_page
from core.models import DestinationAttribute
from web.pagination import PageParams, decode_cursor, encode_cursor, page_params

router = APIRouter(prefix="/connections/{connection_id}/destination-attributes", tags=["destination attributes"])


class DestinationAttributePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    attribute_type: str
    remote_id: str
    name: str
    code: str | None
    active: bool
    detail: dict[str, Any]
    remote_updated_at: datetime | None
    updated_at: datetime


class DestinationAttributesPublic(BaseModel):
    items: list[DestinationAttributePublic]
    next_cursor: str | None


def _contains(text: str) -> str:
    """A LIKE pattern matching `text` anywhere, with the user's own `%` and `_` taken literally."""
    escaped = text.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2).replace("%", f"{LIKE_ESCAPE}%").replace("_", f"{LIKE_ESCAPE}_")
    return f"%{escaped}%"


@router.get("", response_model=DestinationAttributesPublic, summary="Search destination attributes")
async def list_destination_attributes(
    destination: DestinationDep,
    repository: RepositoryDep,
    page: Annotated[PageParams, Depends(page_params)],
    attribute_type: Annotated[
        str | None, Query(max_length=64, description="One of the destination's attribute types.")
    ] = None,
    q: Annotated[str | None, Query(min_length=1, max_length=SEARCH_MAX_LENGTH, description="In name or code.")] = None,
    active: Annotated[bool | None, Query(description="Only active (true) or inactive (false) values.")] = None,
) -> DestinationAttributesPublic:
    query = repository.scoped(DestinationAttribute).where(DestinationAttribute.connection_id == destination.id)
    if attribute_type is not None:
        query = query.where(DestinationAttribute.attribute_type == attribute_type)
    if active is not None:
        query = query.where(DestinationAttribute.active.is_(active))
    if q is not None:
        pattern = _contains(q)
        query = query.where(
            or_(
                DestinationAttribute.name.ilike(pattern, escape=LIKE_ESCAPE),
                DestinationAttribute.code.ilike(pattern, escape=LIKE_ESCAPE),
            )
        )
    rows, position = await keyset_page(
        repository,
        query,
        order=(DestinationAttribute.created_at, DestinationAttribute.id),
        position=lambda row: (row[0].created_at, row[0].id),
        after=decode_cursor(page.cursor),
        limit=page.limit,
    )
    return DestinationAttributesPublic(
        items=[DestinationAttributePublic.model_validate(row[0]) for row in rows], next_cursor=encode_cursor(position)
    )
