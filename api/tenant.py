"""`GET /v1/tenant`: the tenant the calling key belongs to."""

import uuid
from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict

from api.deps import RepositoryDep
from core.models import Tenant
from web.problems import Problem

router = APIRouter(prefix="/tenant", tags=["tenant"])


class TenantPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    slug: str
    created_at: datetime


@router.get("", response_model=TenantPublic, summary="The caller's tenant")
async def read_tenant(repository: RepositoryDep) -> Tenant:
    tenant = await repository.session.get(Tenant, repository.tenant_id)
    if tenant is None:
        raise Problem(404, "This key's tenant no longer exists.")
    return tenant
