"""After a pull: bring every destination's export items in line with the expenses and its latest settings.

One transaction per destination (`mappings.regroup` locks that destination and its movable items), so a slow or
failing destination does not hold the others. Destinations without saved export settings export nothing yet and
are left alone. Only movable items change: what was sent, or may have been, is never regrouped, which is why an
expense that changed after its export is flagged by the pull engine instead.
"""

import uuid

from sqlalchemy import select

from core.db import Database
from core.models import Connection, ConnectionRole
from core.repository import TenantRepository
from mappings.regrouping import RegroupResult, regroup
from mappings.settings_store import current_settings


async def destination_ids(database: Database, *, tenant_id: uuid.UUID) -> list[uuid.UUID]:
    async with database.tenant_session(tenant_id) as session:
        query = (
            select(Connection.id)
            .where(Connection.tenant_id == tenant_id, Connection.role == ConnectionRole.DESTINATION.value)
            .order_by(Connection.created_at, Connection.id)
        )
        return list((await session.scalars(query)).all())


async def regroup_tenant(database: Database, *, tenant_id: uuid.UUID, actor: str) -> dict[uuid.UUID, RegroupResult]:
    """Regroup each destination of the tenant that has export settings; destination id → what changed."""
    results: dict[uuid.UUID, RegroupResult] = {}
    for destination_id in await destination_ids(database, tenant_id=tenant_id):
        async with database.tenant_session(tenant_id) as session:
            repository = TenantRepository(session, tenant_id, actor)
            destination = await repository.get(Connection, destination_id)
            stored = await current_settings(repository, destination_id)
            if destination is None or stored is None:
                continue
            results[destination_id] = await regroup(repository, destination=destination, settings=stored.settings)
    return results
