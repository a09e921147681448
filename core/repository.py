"""Tenant-scoped data access. Routes and services reach tenant rows only through this, never by hand.

Every query here filters on the repository's tenant, and row-level security filters again underneath, so a
missing filter in one place cannot expose another tenant's rows.
"""

import uuid
from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import Select, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from core.audit import append_event
from core.models import Base

Row = TypeVar("Row", bound=Base)


class TenantRepository:
    def __init__(self, session: AsyncSession, tenant_id: uuid.UUID, actor: str) -> None:
        self.session = session
        self.tenant_id = tenant_id
        self.actor = actor

    def scoped(self, model: type[Row]) -> Select[Row]:
        tenant_column: InstrumentedAttribute[Any] = model.tenant_id  # type: ignore[attr-defined]
        return select(model).where(tenant_column == self.tenant_id)

    async def get(self, model: type[Row], row_id: uuid.UUID) -> Row | None:
        id_column: InstrumentedAttribute[Any] = model.id  # type: ignore[attr-defined]
        return (await self.session.scalars(self.scoped(model).where(id_column == row_id))).first()

    async def page(
        self, model: type[Row], *, after: tuple[Any, ...] | None, limit: int
    ) -> tuple[Sequence[Row], tuple[Any, ...] | None]:
        """Rows in (created_at, id) order after a keyset position, and the position to continue from."""
        created: InstrumentedAttribute[Any] = model.created_at  # type: ignore[attr-defined]
        ident: InstrumentedAttribute[Any] = model.id  # type: ignore[attr-defined]
        query = self.scoped(model).order_by(created, ident).limit(limit + 1)
        if after is not None:
            query = query.where(tuple_(created, ident) > tuple_(*after))
        rows = (await self.session.scalars(query)).all()
        if len(rows) <= limit:
            return rows, None
        last = rows[limit - 1]
        return rows[:limit], (last.created_at, last.id)  # type: ignore[attr-defined]

    async def add(self, row: Row, *, audit_action: str, audit_data: dict[str, Any] | None = None) -> Row:
        """Insert a row for this tenant and record who did it, in the same transaction."""
        row.tenant_id = self.tenant_id  # type: ignore[attr-defined]
        self.session.add(row)
        await self.session.flush()
        await self.audit(audit_action, entity=row, data=audit_data)
        return row

    async def audit(self, action: str, *, entity: Base, data: dict[str, Any] | None = None) -> uuid.UUID:
        return await append_event(
            self.session,
            tenant_id=self.tenant_id,
            actor=self.actor,
            action=action,
            entity_type=entity.__tablename__,
            entity_id=str(getattr(entity, "id", "")) or None,
            data=data,
        )
