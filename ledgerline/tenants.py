"""Creating a tenant, the one way the CLI and the demo both do it: in the owner's session, audited."""

import uuid

from core.audit import append_event
from core.db import Database
from core.models import Tenant


async def create_tenant(database: Database, *, name: str, slug: str, actor: str) -> Tenant:
    async with database.owner_session() as session:
        tenant = Tenant(id=uuid.uuid4(), name=name, slug=slug)
        session.add(tenant)
        await session.flush()
        await append_event(
            session,
            tenant_id=tenant.id,
            actor=actor,
            action="tenant.create",
            entity_type="tenants",
            entity_id=str(tenant.id),
            data={"name": name, "slug": slug},
        )
        return tenant
