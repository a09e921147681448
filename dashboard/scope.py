"""Where a dashboard user may look: one tenant for a tenant admin, every tenant for support.

A tenant admin's pages run in that tenant's session, so row-level security hides every other tenant even if a query
forgot to filter. Support reads through the audited cross-tenant session and acts on one item inside the tenant
session of the item's own tenant.
"""

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import Database
from core.repository import TenantRepository
from dashboard.session import DashboardUser, UserDep
from web.app_state import database_of


class NotFoundPage(Exception):
    """Answered with the dashboard's 404 page. Another tenant's row is reported exactly like a missing one."""

    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


class Scope:
    def __init__(self, database: Database, user: DashboardUser) -> None:
        self.database = database
        self.user = user

    @property
    def tenant_id(self) -> uuid.UUID | None:
        """The one tenant this user is confined to; None for support."""
        return None if self.user.is_support else self.user.tenant_id

    def allows(self, tenant_id: uuid.UUID) -> bool:
        return self.user.is_support or tenant_id == self.user.tenant_id

    @asynccontextmanager
    async def reading(self, reason: str) -> AsyncIterator[AsyncSession]:
        """A session seeing exactly what this user may see."""
        if self.user.is_support:
            async with self.database.cross_tenant_session(actor=self.user.actor, reason=f"dashboard: {reason}") as s:
                yield s
        else:
            assert self.user.tenant_id is not None
            async with self.database.tenant_session(self.user.tenant_id) as session:
                yield session

    @asynccontextmanager
    async def acting_for(self, tenant_id: uuid.UUID) -> AsyncIterator[TenantRepository]:
        """A repository of one tenant, acting as this user; refuses (404) a tenant the user may not see."""
        if not self.allows(tenant_id):
            raise NotFoundPage("tenant")
        async with self.database.tenant_session(tenant_id) as session:
            yield TenantRepository(session, tenant_id, self.user.actor)


def get_scope(request: Request, user: UserDep) -> Scope:
    return Scope(database_of(request), user)


ScopeDep = Annotated[Scope, Depends(get_scope)]
