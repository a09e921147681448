"""Credentials are ciphertext at rest, and key rotation re-encrypts every row without a window of unreadability."""

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select, text

from core import migrate
from core.crypto import CredentialVault, VaultError
from core.db import Database
from core.models import Connection
from core.settings import Settings
from ledgerline.cli import rotate_credentials
from tests.conftest import TenantFixture, create_database, drop_database, make_tenant

SECRET = "s3cr3t-refresh-token-value"


async def _store(database: Database, tenant: TenantFixture, vault: CredentialVault, count: int) -> None:
    async with database.tenant_session(tenant.id) as session:
        for index in range(count):
            session.add(
                Connection(
                    tenant_id=tenant.id,
                    name=f"fyle-{index}",
                    provider="fyle",
                    role="source",
                    webhook_key=f"wk-{tenant.id}-{index}",
                    credentials=vault.encrypt({"refresh_token": f"{SECRET}-{index}"}),
                )
            )


def test_round_trip_and_wrong_key() -> None:
    vault = CredentialVault([CredentialVault.new_key()])
    token = vault.encrypt({"password": SECRET})
    assert SECRET.encode() not in token
    assert vault.decrypt(token) == {"password": SECRET}
    with pytest.raises(VaultError) as raised:
        CredentialVault([CredentialVault.new_key()]).decrypt(token)
    assert SECRET not in str(raised.value)


def test_a_malformed_key_is_a_clear_error() -> None:
    with pytest.raises(VaultError, match="Fernet"):
        CredentialVault(["not-a-key"])


async def test_no_credential_is_readable_as_plaintext_in_the_database(
    database: Database, tenant: TenantFixture
) -> None:
    vault = CredentialVault([CredentialVault.new_key()])
    await _store(database, tenant, vault, 3)
    async with database.owner_session() as session:
        dumped = (await session.execute(text("SELECT t::text, encode(credentials, 'escape') FROM connections t"))).all()
    assert dumped
    assert all(SECRET not in row[0] and SECRET not in (row[1] or "") for row in dumped)


@pytest.fixture
async def own_database(settings: Settings) -> AsyncIterator[Database]:
    """Rotation spans every tenant, so it gets a database where every row uses this test's keys."""
    url = create_database("ledgerline_rotate")
    migrate.upgrade(url)
    database = Database(settings.model_copy(update={"database_url": url}))
    yield database
    await database.dispose()
    drop_database(url)


async def test_rotation_re_encrypts_every_row_and_old_ciphertexts_decrypt_meanwhile(own_database: Database) -> None:
    database = own_database
    tenant = await make_tenant(database)
    old_key, new_key = CredentialVault.new_key(), CredentialVault.new_key()
    await _store(database, tenant, CredentialVault([old_key]), 450)  # more than one rotation batch
    during = CredentialVault([new_key, old_key])

    async def read_all(vault: CredentialVault) -> list[dict[str, object]]:
        async with database.tenant_session(tenant.id) as session:
            rows = (await session.scalars(select(Connection.credentials).order_by(Connection.name))).all()
        return [vault.decrypt(row) for row in rows if row is not None]

    before = await read_all(during)  # old ciphertexts still open with the new keyring
    rotated = await rotate_credentials(database, during)
    assert rotated >= 450
    after_new_only = await read_all(CredentialVault([new_key]))
    assert after_new_only == before
    with pytest.raises(VaultError):
        await read_all(CredentialVault([old_key]))


async def test_rotation_names_a_row_no_key_opens(own_database: Database) -> None:
    tenant = await make_tenant(own_database)
    await _store(own_database, tenant, CredentialVault([CredentialVault.new_key()]), 1)
    with pytest.raises(VaultError, match="connections row") as raised:
        await rotate_credentials(own_database, CredentialVault([CredentialVault.new_key()]))
    assert SECRET not in str(raised.value)
