"""Intuit's authorization server: consent codes bound to a realm, rotating refresh tokens, access tokens, revoke.

- A grant is one app's connection to one company (realm). Codes, refresh tokens and access tokens all point at it;
  revoking any token of a grant revokes the whole grant, as disconnecting the app does.
- A refresh returns a new access token and (with `rotate_refresh_tokens`) a new refresh token. The superseded one
  keeps working for `refresh_grace_seconds` and, within that grace, answers with the newest refresh token rather
  than minting another, so two workers refreshing at once both end up holding the same newest token.
- Refresh tokens expire `refresh_token_ttl_seconds` after they were issued (100 days rolling); access tokens after
  `access_token_ttl_seconds`. Codes are single-use; a code presented twice revokes the grant it produced.
- Errors are RFC 6749's: 401 `invalid_client` for bad Basic credentials, 400 `invalid_grant` for an unknown,
  used, expired, revoked or superseded-too-long-ago code or token, 400 `unsupported_grant_type`, `invalid_request`.
"""

import base64
import binascii
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sandbox.clock import SandboxClock
from sandbox.quickbooks.constants import (
    CLIENT_ID,
    CLIENT_SECRET,
    SCOPE_ACCOUNTING,
    SEEDED_REFRESH_TOKEN_PREFIX,
    TOKEN_BYTES,
)
from sandbox.quickbooks.errors import OAuthError, authentication_fault, authorization_fault
from sandbox.quickbooks.settings import QboSettings


@dataclass(slots=True)
class Grant:
    id: str
    client_id: str
    realm_id: str
    scopes: tuple[str, ...]
    revoked: bool = False
    newest_refresh_token: str = ""


@dataclass(slots=True)
class RefreshToken:
    grant_id: str
    expires_at: datetime
    superseded_at: datetime | None = None


@dataclass(slots=True)
class AccessToken:
    grant_id: str
    expires_at: datetime


@dataclass(slots=True)
class AuthorizationCode:
    client_id: str
    redirect_uri: str
    realm_id: str
    scopes: tuple[str, ...]
    expires_at: datetime
    used: bool = False
    grant_id: str | None = None


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


class OAuthServer:
    def __init__(self, *, clock: SandboxClock, settings: QboSettings, realms: list[str]) -> None:
        self.clock = clock
        self.settings = settings
        self.clients = {CLIENT_ID: CLIENT_SECRET}
        self.grants: dict[str, Grant] = {}
        self.refresh_tokens: dict[str, RefreshToken] = {}
        self.access_tokens: dict[str, AccessToken] = {}
        self.codes: dict[str, AuthorizationCode] = {}
        for realm_id in realms:
            grant = self._new_grant(CLIENT_ID, realm_id, (SCOPE_ACCOUNTING,))
            self._issue_refresh(grant, SEEDED_REFRESH_TOKEN_PREFIX + realm_id)

    # -- consent -------------------------------------------------------------------------------------------------

    def issue_code(self, *, client_id: str, redirect_uri: str, realm_id: str, scopes: tuple[str, ...]) -> str:
        code = _token()
        ttl = timedelta(seconds=self.settings.authorization_code_ttl_seconds)
        self.codes[code] = AuthorizationCode(client_id, redirect_uri, realm_id, scopes, self.clock.now() + ttl)
        return code

    # -- token endpoint ------------------------------------------------------------------------------------------

    def client_of(self, authorization: str | None, params: Mapping[str, Any]) -> str:
        """The client authenticated by HTTP Basic (Intuit's way) or, failing that, by form fields."""
        credentials = basic_credentials(authorization)
        if credentials is None and isinstance(params.get("client_id"), str):
            credentials = (params["client_id"], str(params.get("client_secret", "")))
        if credentials is None:
            raise OAuthError("invalid_client", 401, "client authentication is required")
        client_id, secret = credentials
        expected = self.clients.get(client_id)
        if expected is None or not hmac.compare_digest(expected, secret):
            raise OAuthError("invalid_client", 401)
        return client_id

    def token(self, authorization: str | None, params: Mapping[str, Any]) -> dict[str, Any]:
        client_id = self.client_of(authorization, params)
        grant_type = params.get("grant_type")
        if grant_type == "authorization_code":
            return self._redeem(client_id, params)
        if grant_type == "refresh_token":
            return self._refresh(client_id, params)
        if not grant_type:
            raise OAuthError("invalid_request", description="grant_type is required")
        raise OAuthError("unsupported_grant_type")

    def _redeem(self, client_id: str, params: Mapping[str, Any]) -> dict[str, Any]:
        code = self.codes.get(str(params.get("code", "")))
        if code is None or code.client_id != client_id:
            raise OAuthError("invalid_grant")
        if code.used:
            if code.grant_id is not None:
                self.revoke_grant(code.grant_id)
            raise OAuthError("invalid_grant")
        code.used = True
        if self.clock.now() >= code.expires_at or params.get("redirect_uri") != code.redirect_uri:
            raise OAuthError("invalid_grant")
        grant = self._new_grant(client_id, code.realm_id, code.scopes)
        code.grant_id = grant.id
        return self._answer(grant, self._issue_refresh(grant))

    def _refresh(self, client_id: str, params: Mapping[str, Any]) -> dict[str, Any]:
        presented = str(params.get("refresh_token", ""))
        record = self.refresh_tokens.get(presented)
        grant = self.grants.get(record.grant_id) if record else None
        now = self.clock.now()
        if record is None or grant is None or grant.revoked or grant.client_id != client_id:
            raise OAuthError("invalid_grant")
        if now >= record.expires_at:
            raise OAuthError("invalid_grant")
        if record.superseded_at is not None:
            if now >= record.superseded_at + timedelta(seconds=self.settings.refresh_grace_seconds):
                raise OAuthError("invalid_grant")
            return self._answer(grant, grant.newest_refresh_token)
        if not self.settings.rotate_refresh_tokens:
            record.expires_at = now + timedelta(seconds=self.settings.refresh_token_ttl_seconds)
            return self._answer(grant, presented)
        record.superseded_at = now
        return self._answer(grant, self._issue_refresh(grant))

    def _new_grant(self, client_id: str, realm_id: str, scopes: tuple[str, ...]) -> Grant:
        grant = Grant("grant-" + secrets.token_hex(8), client_id, realm_id, scopes)
        self.grants[grant.id] = grant
        return grant

    def _issue_refresh(self, grant: Grant, token: str | None = None) -> str:
        token = token or "AB11" + _token()
        ttl = timedelta(seconds=self.settings.refresh_token_ttl_seconds)
        self.refresh_tokens[token] = RefreshToken(grant.id, self.clock.now() + ttl)
        grant.newest_refresh_token = token
        return token

    def _answer(self, grant: Grant, refresh_token: str) -> dict[str, Any]:
        access = "eyJlbmMiOiJBMTI4Q0JDLUhTMjU2IiwiYWxnIjoiZGlyIn0.." + _token()
        ttl = self.settings.access_token_ttl_seconds
        self.access_tokens[access] = AccessToken(grant.id, self.clock.now() + timedelta(seconds=ttl))
        refresh_left = self.refresh_tokens[refresh_token].expires_at - self.clock.now()
        return {
            "token_type": "bearer",
            "access_token": access,
            "expires_in": ttl,
            "refresh_token": refresh_token,
            "x_refresh_token_expires_in": max(0, round(refresh_left.total_seconds())),
        }

    # -- revoke and API authentication ---------------------------------------------------------------------------

    def revoke(self, authorization: str | None, token: str) -> None:
        """`POST /v2/oauth2/tokens/revoke {"token"}`: a refresh or access token; either ends the whole grant."""
        client_id = self.client_of(authorization, {})
        holder = self.refresh_tokens.get(token) or self.access_tokens.get(token)
        grant = self.grants.get(holder.grant_id) if holder else None
        if grant is None or grant.client_id != client_id:
            raise OAuthError("invalid_request", 400, "unknown token")
        self.revoke_grant(grant.id)

    def revoke_grant(self, grant_id: str) -> bool:
        grant = self.grants.get(grant_id)
        if grant is None:
            return False
        grant.revoked = True
        return True

    def grant_of_refresh_token(self, token: str) -> Grant | None:
        record = self.refresh_tokens.get(token)
        return self.grants.get(record.grant_id) if record else None

    def authenticate(self, authorization: str | None, realm_id: str) -> Grant:
        """The grant behind `Authorization: Bearer …` for a call on `realm_id`: 401 code 3200 or 403 code 3100."""
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise authentication_fault("Authorization header missing or not a bearer token")
        record = self.access_tokens.get(token.strip())
        grant = self.grants.get(record.grant_id) if record else None
        if record is None or grant is None:
            raise authentication_fault("Token invalid")
        if grant.revoked:
            raise authentication_fault("Token revoked")
        if self.clock.now() >= record.expires_at:
            raise authentication_fault(f"Token expired: {token.strip()[-12:]}")
        if grant.realm_id != realm_id or SCOPE_ACCOUNTING not in grant.scopes:
            raise authorization_fault(realm_id)
        return grant

    def expire_access_tokens(self) -> int:
        now = self.clock.now()
        for record in self.access_tokens.values():
            record.expires_at = min(record.expires_at, now)
        return len(self.access_tokens)
