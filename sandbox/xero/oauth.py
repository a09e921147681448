"""Xero's identity server: codes bound to the organisations a person ticked, rotating refresh tokens, revocation.

- A grant is one app's consent covering one or more organisations (its connections). Codes, refresh and access
  tokens point at it; revoking a refresh token ends the grant, as disconnecting the app does.
- Every refresh issues a new refresh token; the used one is refused from then on (400 `invalid_grant`), exactly
  as Xero behaves. A refresh token exists only when `offline_access` was granted.
- Access tokens live 30 minutes. Client authentication is HTTP Basic, or `client_id`/`client_secret` in the form.
- PKCE (`code_challenge`, S256 or plain) is checked when the authorize request carried one.
"""

import base64
import binascii
import hashlib
import hmac
import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sandbox.clock import SandboxClock
from sandbox.xero.constants import (
    ACCESS_TOKEN_TTL_SECONDS,
    AUTH_EVENT_ID,
    AUTHORIZATION_CODE_TTL_SECONDS,
    CLIENT_ID,
    CLIENT_SECRET,
    REFRESH_TOKEN_TTL_SECONDS,
    SCOPE_OFFLINE,
    SEEDED_REFRESH_TOKEN,
    TOKEN_BYTES,
)
from sandbox.xero.errors import OAuthError


@dataclass(slots=True)
class Connection:
    id: str
    tenant_id: str
    created: datetime


@dataclass(slots=True)
class Grant:
    id: str
    client_id: str
    scopes: tuple[str, ...]
    auth_event_id: str
    connections: list[Connection] = field(default_factory=list)
    revoked: bool = False

    @property
    def tenant_ids(self) -> list[str]:
        return [connection.tenant_id for connection in self.connections]


@dataclass(slots=True)
class RefreshToken:
    grant_id: str
    expires_at: datetime
    used: bool = False


@dataclass(slots=True)
class AccessToken:
    grant_id: str
    expires_at: datetime


@dataclass(slots=True)
class AuthorizationCode:
    client_id: str
    redirect_uri: str
    tenant_ids: tuple[str, ...]
    scopes: tuple[str, ...]
    expires_at: datetime
    challenge: str | None = None
    challenge_method: str = "plain"
    used: bool = False


def basic_credentials(authorization: str | None) -> tuple[str, str] | None:
    scheme, _, encoded = (authorization or "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        client_id, colon, secret = base64.b64decode(encoded.strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return (client_id, secret) if colon else None


def _token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def _pkce_matches(verifier: str, challenge: str, method: str) -> bool:
    if method.upper() == "S256":
        digest = hashlib.sha256(verifier.encode()).digest()
        verifier = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    return hmac.compare_digest(verifier, challenge)


class IdentityServer:
    def __init__(self, *, clock: SandboxClock, tenants: list[str], scopes: tuple[str, ...]) -> None:
        self.clock = clock
        self.clients = {CLIENT_ID: CLIENT_SECRET}
        self.grants: dict[str, Grant] = {}
        self.refresh_tokens: dict[str, RefreshToken] = {}
        self.access_tokens: dict[str, AccessToken] = {}
        self.codes: dict[str, AuthorizationCode] = {}
        seeded = self._new_grant(CLIENT_ID, tuple(tenants), scopes, AUTH_EVENT_ID)
        self._issue_refresh(seeded, SEEDED_REFRESH_TOKEN)

    def issue_code(
        self,
        *,
        client_id: str,
        redirect_uri: str,
        tenant_ids: tuple[str, ...],
        scopes: tuple[str, ...],
        challenge: str | None = None,
        challenge_method: str = "plain",
    ) -> str:
        code = _token()
        expires = self.clock.now() + timedelta(seconds=AUTHORIZATION_CODE_TTL_SECONDS)
        self.codes[code] = AuthorizationCode(
            client_id, redirect_uri, tenant_ids, scopes, expires, challenge, challenge_method
        )
        return code

    def client_of(self, authorization: str | None, params: Mapping[str, Any]) -> str:
        credentials = basic_credentials(authorization)
        if credentials is None and isinstance(params.get("client_id"), str):
            credentials = (params["client_id"], str(params.get("client_secret", "")))
        if credentials is None:
            raise OAuthError("invalid_client")
        client_id, secret = credentials
        expected = self.clients.get(client_id)
        if expected is None:
            raise OAuthError("invalid_client")
        # A public (PKCE) client sends no secret; its verifier is checked when the code is redeemed.
        public_client = not secret and bool(params.get("code_verifier"))
        if not hmac.compare_digest(expected, secret) and not public_client:
            raise OAuthError("invalid_client")
        return client_id

    def token(self, authorization: str | None, params: Mapping[str, Any]) -> dict[str, Any]:
        client_id = self.client_of(authorization, params)
        grant_type = params.get("grant_type")
        if grant_type == "authorization_code":
            return self._redeem(client_id, params)
        if grant_type == "refresh_token":
            return self._refresh(client_id, params)
        if not grant_type:
            raise OAuthError("invalid_request")
        raise OAuthError("unsupported_grant_type")

    def _redeem(self, client_id: str, params: Mapping[str, Any]) -> dict[str, Any]:
        code = self.codes.get(str(params.get("code", "")))
        if code is None or code.client_id != client_id or code.used:
            raise OAuthError("invalid_grant")
        code.used = True
        if self.clock.now() >= code.expires_at or params.get("redirect_uri") != code.redirect_uri:
            raise OAuthError("invalid_grant")
        if code.challenge is not None:
            verifier = str(params.get("code_verifier", ""))
            if not verifier or not _pkce_matches(verifier, code.challenge, code.challenge_method):
                raise OAuthError("invalid_grant")
        grant = self._new_grant(client_id, code.tenant_ids, code.scopes, str(uuid.uuid4()))
        refresh = self._issue_refresh(grant) if SCOPE_OFFLINE in grant.scopes else None
        return self._answer(grant, refresh)

    def _refresh(self, client_id: str, params: Mapping[str, Any]) -> dict[str, Any]:
        record = self.refresh_tokens.get(str(params.get("refresh_token", "")))
        grant = self.grants.get(record.grant_id) if record else None
        if record is None or grant is None or grant.revoked or grant.client_id != client_id:
            raise OAuthError("invalid_grant")
        if record.used or self.clock.now() >= record.expires_at:
            raise OAuthError("invalid_grant")
        record.used = True
        return self._answer(grant, self._issue_refresh(grant))

    def _new_grant(self, client_id: str, tenants: tuple[str, ...], scopes: tuple[str, ...], event: str) -> Grant:
        now = self.clock.now()
        grant = Grant(str(uuid.uuid4()), client_id, scopes, event)
        grant.connections = [Connection(str(uuid.uuid4()), tenant, now) for tenant in tenants]
        self.grants[grant.id] = grant
        return grant

    def _issue_refresh(self, grant: Grant, token: str | None = None) -> str:
        token = token or _token()
        expires = self.clock.now() + timedelta(seconds=REFRESH_TOKEN_TTL_SECONDS)
        self.refresh_tokens[token] = RefreshToken(grant.id, expires)
        return token

    def _answer(self, grant: Grant, refresh_token: str | None) -> dict[str, Any]:
        access = "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9." + _token()
        expires = self.clock.now() + timedelta(seconds=ACCESS_TOKEN_TTL_SECONDS)
        self.access_tokens[access] = AccessToken(grant.id, expires)
        answer: dict[str, Any] = {
            "access_token": access,
            "expires_in": ACCESS_TOKEN_TTL_SECONDS,
            "token_type": "Bearer",
            "scope": " ".join(grant.scopes),
        }
        if refresh_token is not None:
            answer["refresh_token"] = refresh_token
        return answer

    def revoke(self, authorization: str | None, params: Mapping[str, Any]) -> None:
        """Revoking a refresh token ends the grant and its connections; unknown tokens are ignored (RFC 7009)."""
        self.client_of(authorization, params)
        token = str(params.get("token", ""))
        holder = self.refresh_tokens.get(token) or self.access_tokens.get(token)
        if holder is not None and holder.grant_id in self.grants:
            self.grants[holder.grant_id].revoked = True

    def bearer(self, authorization: str | None) -> Grant | None:
        """The live grant behind `Authorization: Bearer …`, or None (a 401)."""
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer":
            return None
        record = self.access_tokens.get(token.strip())
        grant = self.grants.get(record.grant_id) if record else None
        if record is None or grant is None or grant.revoked or self.clock.now() >= record.expires_at:
            return None
        return grant

    def expire_access_tokens(self) -> int:
        now = self.clock.now()
        for record in self.access_tokens.values():
            record.expires_at = min(record.expires_at, now)
        return len(self.access_tokens)
