"""Credentials no configured vault key opens (a key retired too early) put the connection in front of a person once,
instead of failing every export job of every reconcile period."""

import uuid

from sqlalchemy import select, update

from core.crypto import CredentialVault
from core.db import Database
from core.models import AuditEvent, Connection
from core.settings import Settings
from sync.jobs import export_connection
from sync.queue import Queue
from tests.sync.conftest import Books


async def test_an_export_job_marks_unreadable_credentials_needs_reauth(
    database: Database, books: Books, settings: Settings
) -> None:
    foreign = CredentialVault([CredentialVault.new_key()]).encrypt({"user_password": "secret"})
    async with database.tenant_session(books.tenant.id) as session:
        await session.execute(
            update(Connection).where(Connection.id == books.destination_id).values(credentials=foreign)
        )
    queue = await Queue.connect(settings.redis_url, f"test-{uuid.uuid4().hex[:8]}")
    ctx = {
        "database": database,
        "queue": queue,
        "settings": settings,
        "vault": CredentialVault(settings.vault_key_list()),
        "worker_id": "test",
    }
    try:
        assert await export_connection(ctx, str(books.tenant.id), str(books.destination_id)) == {"needs_reauth": 1}
        assert await export_connection(ctx, str(books.tenant.id), str(books.destination_id)) == {"needs_reauth": 1}
    finally:
        await queue.close()
    async with database.tenant_session(books.tenant.id) as session:
        connection = await session.get(Connection, books.destination_id)
        assert connection is not None
        assert connection.status == "needs_reauth"
        assert "cannot be decrypted" in (connection.status_reason or "")
        marks = (
            await session.scalars(select(AuditEvent.id).where(AuditEvent.action == "connection.needs_reauth"))
        ).all()
    assert len(marks) == 1, "marked once, audited once"
