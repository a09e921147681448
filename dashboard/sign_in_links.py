"""One-time sign-in links: `ledgerline demo` (or any operator command) hands a person a URL that opens a dashboard
session for one API key, once, without the key itself ever being shown.

The link carries a random token; Redis keeps only the token's SHA-256 with the key id, for a limited time, and
taking it (`GETDEL`) spends it, so a link opened twice (or by someone it was forwarded to, afterwards) opens nothing.
The session it opens is an ordinary one (`dashboard.session.start_session`): it checks again that the key is live,
and role and tenant are read from the key row on every request.
"""

import hashlib
import json
import secrets
import uuid

from redis.asyncio import Redis

from core.api_keys import Principal
from core.models import ApiKeyRole
from dashboard.constants import (
    PREFIX,
    SIGN_IN_LINK_KEY,
    SIGN_IN_LINK_PATH,
    SIGN_IN_LINK_TTL_SECONDS,
    SIGN_IN_TOKEN_BYTES,
)


def _storage_key(token: str) -> str:
    return SIGN_IN_LINK_KEY.format(digest=hashlib.sha256(token.encode()).hexdigest())


async def create_sign_in_link(
    redis: Redis, *, public_url: str, principal: Principal, ttl_seconds: int = SIGN_IN_LINK_TTL_SECONDS
) -> str:
    """A URL that signs its first opener in with the key of `principal` (within `ttl_seconds`)."""
    token = secrets.token_urlsafe(SIGN_IN_TOKEN_BYTES)
    remembered = {
        "key_id": str(principal.key_id),
        "role": principal.role.value,
        "tenant_id": str(principal.tenant_id) if principal.tenant_id else None,
        "prefix": principal.prefix,
    }
    await redis.set(_storage_key(token), json.dumps(remembered), ex=ttl_seconds)
    return f"{public_url.rstrip('/')}{PREFIX}{SIGN_IN_LINK_PATH}/{token}"


async def redeem_sign_in_link(redis: Redis, token: str) -> Principal | None:
    """Who the link was made for, spending it; None when unknown, used or expired. Whether that key is still
    live is for the session to check (`start_session`)."""
    if not token or len(token) > 2 * SIGN_IN_TOKEN_BYTES:
        return None
    found = await redis.getdel(_storage_key(token))
    if found is None:
        return None
    remembered = json.loads(found)
    return Principal(
        key_id=uuid.UUID(remembered["key_id"]),
        role=ApiKeyRole(remembered["role"]),
        tenant_id=uuid.UUID(remembered["tenant_id"]) if remembered["tenant_id"] else None,
        prefix=str(remembered["prefix"]),
    )
