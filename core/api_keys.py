"""API keys: `ll_<prefix>_<secret>`. Only a SHA-256 of the whole key is stored; the prefix finds the row.

The keys are 192-bit random strings, so a fast hash is enough (no password stretching needed) and comparing
digests in constant time leaks nothing useful. A key may carry an expiry: past it, it is refused like a revoked one.
"""

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from core.constants import API_KEY_PREFIX_BYTES, API_KEY_SCHEME, API_KEY_SECRET_BYTES
from core.models import ApiKey, ApiKeyRole


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: a tenant admin (one tenant) or support staff (every tenant)."""

    key_id: uuid.UUID
    role: ApiKeyRole
    tenant_id: uuid.UUID | None
    prefix: str
    """Finds the key row again (`ledgerline_find_api_key`) when a later step must re-check the key."""

    @property
    def actor(self) -> str:
        return f"api_key:{self.key_id}"


@dataclass(frozen=True, slots=True)
class IssuedKey:
    row: ApiKey
    plaintext: str


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _split(key: str) -> tuple[str, str] | None:
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != API_KEY_SCHEME or not parts[1] or not parts[2]:
        return None
    return parts[1], parts[2]


def issue_key(
    *, name: str, role: ApiKeyRole, tenant_id: uuid.UUID | None, expires_at: datetime | None = None
) -> IssuedKey:
    """A new key and the row to store. The plaintext exists only in the return value."""
    prefix = secrets.token_hex(API_KEY_PREFIX_BYTES)
    plaintext = f"{API_KEY_SCHEME}_{prefix}_{secrets.token_urlsafe(API_KEY_SECRET_BYTES)}"
    row = ApiKey(
        id=uuid.uuid4(),
        name=name,
        role=role.value,
        tenant_id=tenant_id,
        prefix=prefix,
        key_hash=_hash(plaintext),
        expires_at=expires_at,
    )
    return IssuedKey(row=row, plaintext=plaintext)


async def authenticate(session: AsyncSession, presented: str) -> Principal | None:
    """The principal a presented key belongs to, or None for unknown, malformed, revoked or expired keys."""
    parts = _split(presented)
    if parts is None:
        return None
    found = (
        await session.execute(
            text("SELECT id, tenant_id, role, key_hash, revoked, expired FROM ledgerline_find_api_key(:prefix)"),
            {"prefix": parts[0]},
        )
    ).first()
    if found is None or found.revoked or found.expired or not hmac.compare_digest(found.key_hash, _hash(presented)):
        return None
    return Principal(key_id=found.id, role=ApiKeyRole(found.role), tenant_id=found.tenant_id, prefix=parts[0])
