"""Who opens the demo: the tenant's admin and a support engineer, each through a one-time sign-in link
(`dashboard.sign_in_links`) for a key the demo keeps from one start to the next — so a restart issues no new keys,
only new links, and no key is ever printed."""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from redis.asyncio import Redis
from sqlalchemy import or_, select

from core.api_keys import Principal, issue_key
from core.audit import append_event
from core.db import Database
from core.models import ApiKey, ApiKeyRole
from dashboard.sign_in_links import create_sign_in_link
from ledgerline.constants import DEMO_ACTOR, DEMO_ADMIN_KEY_NAME, DEMO_SUPPORT_KEY_NAME


@dataclass(frozen=True)
class DemoLinks:
    admin: str
    support: str


async def demo_key(database: Database, *, role: ApiKeyRole, tenant_id: uuid.UUID | None, name: str) -> Principal:
    """The live demo key of this role (and tenant), issued the first time; its secret is never needed again."""
    async with database.owner_session() as session:
        row = await session.scalar(
            select(ApiKey)
            .where(
                ApiKey.name == name,
                ApiKey.role == role.value,
                ApiKey.tenant_id == tenant_id if tenant_id is not None else ApiKey.tenant_id.is_(None),
                ApiKey.revoked_at.is_(None),
                or_(ApiKey.expires_at.is_(None), ApiKey.expires_at > datetime.now(UTC)),
            )
            .order_by(ApiKey.created_at)
            .limit(1)
        )
        if row is None:
            row = issue_key(name=name, role=role, tenant_id=tenant_id).row
            session.add(row)
            await session.flush()
            await append_event(
                session,
                tenant_id=tenant_id,
                actor=DEMO_ACTOR,
                action="api_key.create",
                entity_type="api_keys",
                entity_id=str(row.id),
                data={"role": role.value, "name": name, "prefix": row.prefix},
            )
        return Principal(key_id=row.id, role=role, tenant_id=tenant_id, prefix=row.prefix)


async def demo_sign_in_links(database: Database, redis: Redis, *, public_url: str, tenant_id: uuid.UUID) -> DemoLinks:
    admin = await demo_key(database, role=ApiKeyRole.ADMIN, tenant_id=tenant_id, name=DEMO_ADMIN_KEY_NAME)
    support = await demo_key(database, role=ApiKeyRole.SUPPORT, tenant_id=None, name=DEMO_SUPPORT_KEY_NAME)
    return DemoLinks(
        admin=await create_sign_in_link(redis, public_url=public_url, principal=admin),
        support=await create_sign_in_link(redis, public_url=public_url, principal=support),
    )
