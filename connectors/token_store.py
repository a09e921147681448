"""OAuth2 tokens kept encrypted on the connection row, refreshed single-flight across processes.

A refresh takes the connection row's lock (`SELECT … FOR UPDATE`), re-reads the tokens, and calls the token
endpoint only if nobody refreshed while it waited; the new access token and the (possibly rotated) refresh token
are written in that same transaction. A refusal marks the connection `needs_reauth` with the reason.
"""

import asyncio
import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from connectors.auth import OAuth2Tokens, Refresher
from core.connection_status import mark_needs_reauth
from core.crypto import CredentialVault
from core.db import Database
from core.errors import AuthError
from core.models import Connection, ConnectionStatus

REFRESH_ACTOR = "system:token-refresh"


class DatabaseTokenStore:
    def __init__(
        self, database: Database, vault: CredentialVault, *, tenant_id: uuid.UUID, connection_id: uuid.UUID
    ) -> None:
        self._database = database
        self._vault = vault
        self.tenant_id = tenant_id
        self.connection_id = connection_id
        self._cached: OAuth2Tokens | None = None
        self._local = asyncio.Lock()

    async def current(self) -> OAuth2Tokens:
        if self._cached is None:
            async with self._database.tenant_session(self.tenant_id) as session:
                self._cached = self._tokens_of(await self._row(session, lock=False))
        return self._cached

    async def refreshed(self, stale_access_token: str, refresh: Refresher) -> OAuth2Tokens:
        async with self._local:
            if self._cached and self._cached.access_token != stale_access_token and not self._cached.expired():
                return self._cached
            refused: AuthError | None = None
            async with self._database.tenant_session(self.tenant_id) as session:
                row = await self._row(session, lock=True)
                stored = self._tokens_of(row)
                if stored.access_token != stale_access_token and not stored.expired():
                    self._cached = stored  # another process refreshed while we waited for the lock
                    return stored
                try:
                    fresh = await refresh(stored.refresh_token)
                except AuthError as exc:
                    refused = exc
                else:
                    credentials = self._vault.decrypt(row.credentials or b"")
                    row.credentials = self._vault.encrypt({**credentials, **fresh.as_credentials()})
                    self._cached = fresh
            if refused is not None:
                await self.mark_needs_reauth(refused.message)
                raise refused
            assert self._cached is not None
            return self._cached

    async def mark_needs_reauth(self, reason: str) -> None:
        async with self._database.tenant_session(self.tenant_id) as session:
            await mark_needs_reauth(
                session, tenant_id=self.tenant_id, connection_id=self.connection_id, reason=reason, actor=REFRESH_ACTOR
            )
        self._cached = None

    async def _row(self, session: AsyncSession, *, lock: bool) -> Connection:
        query = select(Connection).where(Connection.id == self.connection_id, Connection.tenant_id == self.tenant_id)
        row = (await session.scalars(query.with_for_update() if lock else query)).first()
        if row is None:
            raise AuthError(f"Connection {self.connection_id} no longer exists.", code="connection_gone")
        if row.status == ConnectionStatus.NEEDS_REAUTH.value:
            raise AuthError(
                f"The connection needs to be re-authorized: {row.status_reason or 'authorization revoked'}.",
                code="needs_reauth",
                hint="Re-connect the system from the connections page.",
            )
        return row

    def _tokens_of(self, row: Connection) -> OAuth2Tokens:
        if row.credentials is None:
            raise AuthError("The connection has no stored tokens.", code="no_tokens")
        return OAuth2Tokens.from_credentials(self._vault.decrypt(row.credentials))
