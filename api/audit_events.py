"""`GET /v1/audit-events`: the tenant's audit trail, oldest first."""

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict

from api.deps import RepositoryDep
from core.models import AuditEvent
from web.pagination import PageParams, decode_cursor, encode_cursor, page_params

router = APIRouter(prefix="/audit-events", tags=["audit"])


class AuditEventPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    seq: int
    actor: str
    action: str
    entity_type: str
    entity_id: str | None
    data: dict[str, Any]
    created_at: datetime
    hash: str


class AuditEventsPublic(BaseModel):
    items: list[AuditEventPublic]
    next_cursor: str | None


@router.get("", response_model=AuditEventsPublic, summary="List audit events")
async def list_audit_events(
    repository: RepositoryDep, page: Annotated[PageParams, Depends(page_params)]
) -> AuditEventsPublic:
    rows, position = await repository.page(AuditEvent, after=decode_cursor(page.cursor), limit=page.limit)
    return AuditEventsPublic(
        items=[AuditEventPublic.model_validate(row) for row in rows], next_cursor=encode_cursor(position)
    )
