"""Engines and sessions, with the tenant context that feeds PostgreSQL row-level security.

Two engines: the service's own, connecting as the non-owner `ledgerline_app` role so every query passes through the
row-level security policies; and the owner's, for migrations and the operator's admin commands. Each transaction of a
tenant session starts with `set_config('app.tenant_id', …, true)`, so the setting dies with the transaction and
can never leak to the next user of a pooled connection.
"""

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import URL, event, make_url, text
from sqlalchemy.engine import Connection as SyncConnection
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session, SessionTransaction

from core.audit import append_event
from core.constants import APP_DB_ROLE, CROSS_TENANT_GUC, TENANT_GUC
from core.settings import Settings

SESSION_TENANT = "tenant_id"
SESSION_CROSS_TENANT = "cross_tenant"


class DatabaseNotConfiguredError(RuntimeError):
    """No database URL is set and nothing embedded was started."""


def sqlalchemy_url(url: str) -> URL:
    """Accept plain `postgresql://` URLs (as operators and pgserver write them) and pick the psycopg 3 driver."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def app_role_url(owner_url: str, password: str | None) -> URL:
    """The same server and database as the owner's URL, logging in as the non-owner service role."""
    return sqlalchemy_url(owner_url).set(username=APP_DB_ROLE, password=password)


class TenantScopedSession(Session):
    """A session that stamps its tenant (or the audited cross-tenant flag) on every transaction it begins."""


@event.listens_for(TenantScopedSession, "after_begin")
def _stamp_tenant(session: Session, transaction: SessionTransaction, connection: SyncConnection) -> None:
    tenant = session.info.get(SESSION_TENANT)
    cross = "on" if session.info.get(SESSION_CROSS_TENANT) else "off"
    connection.execute(
        text("SELECT set_config(:tenant_guc, :tenant, true), set_config(:cross_guc, :cross, true)"),
        {"tenant_guc": TENANT_GUC, "tenant": str(tenant or ""), "cross_guc": CROSS_TENANT_GUC, "cross": cross},
    )


class Database:
    """Owns the engines of one process. Create one at start-up, dispose it at shut-down."""

    def __init__(self, settings: Settings) -> None:
        if not settings.database_url:
            raise DatabaseNotConfiguredError(
                "LEDGERLINE_DATABASE_URL is not set. Set it, or run `ledgerline demo` for embedded services."
            )
        password = settings.database_app_password.get_secret_value() if settings.database_app_password else None
        # hide_parameters: a failed statement's message would otherwise quote its values (a new connection's webhook
        # key, a session's CSRF token), and unhandled errors are logged with their message.
        engine_options: dict[str, Any] = {
            "pool_size": settings.database_pool_size,
            "pool_pre_ping": True,
            "hide_parameters": True,
        }
        self.app_engine: AsyncEngine = create_async_engine(
            app_role_url(settings.database_url, password), **engine_options
        )
        self.owner_engine: AsyncEngine = create_async_engine(
            sqlalchemy_url(settings.database_url), pool_size=2, pool_pre_ping=True, hide_parameters=True
        )
        self._sessions = async_sessionmaker(
            self.app_engine, expire_on_commit=False, sync_session_class=TenantScopedSession
        )
        self._owner_sessions = async_sessionmaker(self.owner_engine, expire_on_commit=False)

    @asynccontextmanager
    async def tenant_session(self, tenant_id: uuid.UUID) -> AsyncIterator[AsyncSession]:
        """A session (inside one transaction) that sees and writes only `tenant_id`'s rows."""
        async with self._sessions(info={SESSION_TENANT: tenant_id}) as session, session.begin():
            yield session

    @asynccontextmanager
    async def unscoped_session(self) -> AsyncIterator[AsyncSession]:
        """A service session with no tenant: row-level security shows it no tenant row at all."""
        async with self._sessions() as session, session.begin():
            yield session

    @asynccontextmanager
    async def cross_tenant_session(self, *, actor: str, reason: str) -> AsyncIterator[AsyncSession]:
        """The one path across tenants (support staff, schedulers). Every opening is written to the audit log."""
        async with self._sessions(info={SESSION_CROSS_TENANT: True}) as session, session.begin():
            await append_event(
                session,
                tenant_id=None,
                actor=actor,
                action="cross_tenant.open",
                entity_type="session",
                entity_id=None,
                data={"reason": reason},
            )
            yield session

    @asynccontextmanager
    async def owner_session(self) -> AsyncIterator[AsyncSession]:
        """The table owner's session, for operator commands run from the CLI; never used to serve a request."""
        async with self._owner_sessions() as session, session.begin():
            yield session

    async def dispose(self) -> None:
        await self.app_engine.dispose()
        await self.owner_engine.dispose()
