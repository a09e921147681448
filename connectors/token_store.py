"""OAuth2 tokens kept encrypted on the connection row, refreshed single-flight across processes.

A refresh takes the connection row's lock (`SELECT … FOR UPDATE`), re-reads the tokens, and calls the token
endpoint only if nobody refreshed while it waited; the new access token and the (possibly rotated) refresh token
are written in that same transaction. A refusal marks the connection `needs_reauth` with the reason.

Connections authorized by one consent (`Connection.oauth_grant`: several Xero organisations) hold copies of one token
set whose refresh token is single-use, so they refresh as one: the refresh locks every row of the grant (in id order,
so two refreshes never wait on each other crosswise), writes the new tokens to each, and a refusal marks each.
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
                self._cached = self._tokens_of(await self._row(session))
        return self._cached

    async def refreshed(self, stale_access_token: str, refresh: Refresher) -> OAuth2Tokens:
        async with self._local:
            if self._cached and self._cached.access_token != stale_access_token and not self._cached.expired():
                return self._cached
            refused: AuthError | None = None
            async with self._database.tenant_session(self.tenant_id) as session:
                row = await self._row(session)
                holders = await self._grant_rows(session, row)
                row = next(holder for holder in holders if holder.id == self.connection_id)
                self._refuse_needing_reauth(row)
                stored = self._tokens_of(row)
                if stored.access_token != stale_access_token and not stored.expired():
                    self._cached = stored  # another process refreshed while we waited for the lock
                    return stored
                try:
                    fresh = await refresh(stored.refresh_token)
                except AuthError as exc:
                    refused = exc
                else:
                    for holder in holders:
                        credentials = self._vault.decrypt(holder.credentials or b"")
                        holder.credentials = self._vault.encrypt({**credentials, **fresh.as_credentials()})
                    self._cached = fresh
            if refused is not None:
                await self.mark_needs_reauth(refused.message)
                raise refused
            assert self._cached is not None
            return self._cached

    async def mark_needs_reauth(self, reason: str) -> None:
        """This connection, and every other holding the same consent's tokens, needs a new consent."""
        async with self._database.tenant_session(self.tenant_id) as session:
            row = await self._row(session)
            holders = [row] if row.oauth_grant is None else await self._grant_rows(session, row)
            for holder in holders:
                await mark_needs_reauth(
                    session, tenant_id=self.tenant_id, connection_id=holder.id, reason=reason, actor=REFRESH_ACTOR
                )
        self._cached = None

    async def _grant_rows(self, session: AsyncSession, row: Connection) -> list[Connection]:
        """Every connection holding `row`'s tokens, `row` included, locked in id order."""
        query = select(Connection).where(Connection.tenant_id == self.tenant_id)
        if row.oauth_grant is None:
            query = query.where(Connection.id == row.id)
        else:
            query = query.where(Connection.oauth_grant == row.oauth_grant)
        locked = query.order_by(Connection.id).with_for_update().execution_options(populate_existing=True)
        holders = list(await session.scalars(locked))  # re-read under the lock: another may have refreshed
        if all(holder.id != row.id for holder in holders):  # deleted, or re-authorized apart, since it was read
            raise AuthError(f"Connection {self.connection_id} no longer holds these tokens.", code="connection_gone")
        return holders

    async def _row(self, session: AsyncSession) -> Connection:
        query = select(Connection).where(Connection.id == self.connection_id, Connection.tenant_id == self.tenant_id)
        row = (await session.scalars(query)).first()
        if row is None:
            raise AuthError(f"Connection {self.connection_id} no longer exists.", code="connection_gone")
        self._refuse_needing_reauth(row)
        return row

    def _refuse_needing_reauth(self, row: Connection) -> None:
        if row.status == ConnectionStatus.NEEDS_REAUTH.value:
            raise AuthError(
                f"The connection needs to be re-authorized: {row.status_reason or 'authorization revoked'}.",
                code="needs_reauth",
                hint="Re-connect the system from the connections page.",
            )

    def _tokens_of(self, row: Connection) -> OAuth2Tokens:
        if row.credentials is None:
            raise AuthError("The connection has no stored tokens.", code="no_tokens")
        return OAuth2Tokens.from_credentials(self._vault.decrypt(row.credentials))
