"""Connections authorized by one consent share its tokens (`Connection.oauth_grant`), and refresh as one: a refresh
token is single-use where the system rotates it, so a copy refreshed apart would strand the others."""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from connectors.auth import OAuth2Tokens
from core.errors import AuthError
from core.models import Connection, ConnectionStatus
from tests.connectors.quickbooks.conftest import QboWorld


async def _share_the_grant(world: QboWorld, *, expired: bool) -> uuid.UUID:
    """A second connection of the world's tenant holding the world's tokens under one grant; returns its id."""
    grant, sibling = uuid.uuid4(), uuid.uuid4()
    async with world.database.tenant_session(world.tenant_id) as session:
        row = await session.get(Connection, world.connection_id)
        assert row is not None
        tokens = world.vault.decrypt(row.credentials or b"")
        if expired:
            tokens["expires_at"] = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
        row.credentials = world.vault.encrypt(tokens)
        row.oauth_grant = grant
        session.add(
            Connection(
                id=sibling,
                tenant_id=world.tenant_id,
                name="quickbooks-second",
                provider="quickbooks",
                role=row.role,
                credentials=world.vault.encrypt(tokens),
                settings=dict(row.settings),
                webhook_key=uuid.uuid4().hex,
                oauth_grant=grant,
            )
        )
    return sibling


async def _tokens_of(world: QboWorld, connection_id: uuid.UUID) -> dict[str, str]:
    async with world.database.tenant_session(world.tenant_id) as session:
        row = await session.get(Connection, connection_id)
        assert row is not None and row.credentials is not None
        return world.vault.decrypt(row.credentials)


async def test_connections_of_one_grant_refreshing_at_once_make_one_token_request_and_both_keep_the_new_tokens(
    world: QboWorld,
) -> None:
    sibling = await _share_the_grant(world, expired=True)
    before = world.token_requests()
    first = await world.open()
    second = await world.open()
    object.__setattr__(world, "connection_id", sibling)  # the sibling's connector, opened as the engine opens one
    third = await world.open()
    try:
        await asyncio.gather(first.check(), second.check(), third.check())
    finally:
        for connector in (first, second, third):
            await connector.aclose()

    assert world.token_requests() == before + 1
    mine, theirs = await _tokens_of(world, world.connection_id), await _tokens_of(world, sibling)
    assert mine["refresh_token"] == theirs["refresh_token"] != world.refresh_token
    assert mine["access_token"] == theirs["access_token"]
    assert not OAuth2Tokens.from_credentials(mine).expired()


async def test_a_refused_refresh_marks_every_connection_of_the_grant_for_re_authorization(world: QboWorld) -> None:
    sibling = await _share_the_grant(world, expired=True)
    async with world.database.tenant_session(world.tenant_id) as session:
        for connection_id in (world.connection_id, sibling):
            row = await session.get(Connection, connection_id)
            assert row is not None
            tokens = world.vault.decrypt(row.credentials or b"")
            row.credentials = world.vault.encrypt({**tokens, "refresh_token": "revoked-long-ago"})
    async with await world.open() as connector:
        with pytest.raises(AuthError):
            await connector.check()

    async with world.database.tenant_session(world.tenant_id) as session:
        statuses = {
            (await session.get(Connection, connection_id)).status  # type: ignore[union-attr]
            for connection_id in (world.connection_id, sibling)
        }
    assert statuses == {ConnectionStatus.NEEDS_REAUTH.value}


async def test_a_connection_outside_the_grant_keeps_its_own_tokens(world: QboWorld) -> None:
    sibling = await _share_the_grant(world, expired=True)
    async with world.database.tenant_session(world.tenant_id) as session:
        row = await session.get(Connection, sibling)
        assert row is not None
        row.oauth_grant = None  # re-authorized apart: its own consent now
        untouched = world.vault.decrypt(row.credentials or b"")
    async with await world.open() as connector:
        await connector.check()

    assert await _tokens_of(world, sibling) == untouched
