"""Fyle's authorization server (authorization.yaml): clients, consent codes with PKCE, refresh and access tokens.

- Refresh tokens never expire and are not rotated (Fyle returns a refresh token only for the code grant); the
  seeded `FYLE_SANDBOX_REFRESH_TOKEN` works from the start, and the control API can revoke any of them.
- Access tokens are opaque and live `access_token_ttl_seconds` on the sandbox clock.
- Codes are single-use and expire; a code presented twice is refused and the refresh token it produced is revoked
  (RFC 6749 §4.1.2). With a `code_challenge` the token request must carry the matching `code_verifier` (RFC 7636).
- Errors: 400 `{"message", "data", "error": "invalid_request"|"unsupported_grant_type"}` for malformed requests;
  401 `{"message": "invalid token", "error": "invalid_client"|"invalid_grant"}` for bad credentials, unknown or
  revoked refresh tokens and bad codes (the spec's 401 body, plus the RFC 6749 code OAuth2 clients act on).
"""

import base64
import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sandbox.clock import SandboxClock
from sandbox.fyle.constants import (
    FYLE_SANDBOX_CLIENT_ID,
    FYLE_SANDBOX_CLIENT_SECRET,
    FYLE_SANDBOX_REFRESH_TOKEN,
    GRANT_TYPES,
    PKCE_METHODS,
    TOKEN_BYTES,
    TOKEN_TYPE,
)
from sandbox.fyle.errors import BadRequest, InvalidToken
from sandbox.fyle.settings import FyleSettings


@dataclass(slots=True)
class RefreshGrant:
    client_id: str
    revoked: bool = False


@dataclass(slots=True)
class AuthorizationCode:
    client_id: str
    redirect_uri: str
    expires_at: datetime
    code_challenge: str | None
    code_challenge_method: str
    used: bool = False
    refresh_token: str | None = None


@dataclass(frozen=True, slots=True)
class AccessGrant:
    """Who holds an access token: the client (Fyle's `tpa_id`) and the refresh token it came from."""

    client_id: str
    refresh_token: str
    expires_at: datetime


def pkce_challenge(verifier: str) -> str:
    """The S256 challenge of a verifier: base64url(sha256(verifier)) without padding."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _required(params: Mapping[str, Any], name: str) -> str:
    value = params.get(name)
    if not isinstance(value, str) or not value:
        raise BadRequest(f"{name} is required", error="invalid_request")
    return value


def is_absolute_http_url(uri: str) -> bool:
    parts = urlsplit(uri)
    return parts.scheme in ("http", "https") and bool(parts.netloc) and not parts.fragment


class OAuthServer:
    def __init__(self, *, clock: SandboxClock, settings: FyleSettings) -> None:
        self.clock = clock
        self.settings = settings
        self.clients = {FYLE_SANDBOX_CLIENT_ID: FYLE_SANDBOX_CLIENT_SECRET}
        self.refresh_tokens = {FYLE_SANDBOX_REFRESH_TOKEN: RefreshGrant(FYLE_SANDBOX_CLIENT_ID)}
        self.codes: dict[str, AuthorizationCode] = {}
        self.access_tokens: dict[str, AccessGrant] = {}

    def check_authorization_request(
        self, *, client_id: str, redirect_uri: str, response_type: str, code_challenge_method: str | None
    ) -> None:
        """Refuse what must not redirect back: an unknown client or a bad redirect URI (RFC 6749 §4.1.2.1)."""
        if client_id not in self.clients:
            raise BadRequest(f"unknown client_id {client_id!r}", error="invalid_client")
        if not is_absolute_http_url(redirect_uri):
            raise BadRequest("redirect_uri must be an absolute http(s) URL", error="invalid_request")
        if response_type != "code":
            raise BadRequest("response_type must be code", error="unsupported_response_type")
        if code_challenge_method is not None and code_challenge_method not in PKCE_METHODS:
            raise BadRequest(f"code_challenge_method must be one of {PKCE_METHODS}", error="invalid_request")

    def issue_code(
        self, *, client_id: str, redirect_uri: str, code_challenge: str | None, code_challenge_method: str | None
    ) -> str:
        code = secrets.token_urlsafe(TOKEN_BYTES)
        self.codes[code] = AuthorizationCode(
            client_id=client_id,
            redirect_uri=redirect_uri,
            expires_at=self.clock.now() + timedelta(seconds=self.settings.authorization_code_ttl_seconds),
            code_challenge=code_challenge or None,
            code_challenge_method=code_challenge_method or "plain",
        )
        return code

    def token(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """`POST /oauth/token` for either grant, from a JSON or form body."""
        grant_type = _required(params, "grant_type")
        if grant_type not in GRANT_TYPES:
            raise BadRequest(f"grant_type must be one of {', '.join(GRANT_TYPES)}", error="unsupported_grant_type")
        client_id = _required(params, "client_id")
        secret = self.clients.get(client_id)
        if secret is None or not hmac.compare_digest(secret, _required(params, "client_secret")):
            raise InvalidToken("invalid_client")
        if grant_type == "refresh_token":
            refresh_token = _required(params, "refresh_token")
            grant = self.refresh_tokens.get(refresh_token)
            if grant is None or grant.revoked or grant.client_id != client_id:
                raise InvalidToken("invalid_grant")
            return self._access(client_id, refresh_token)
        refresh_token = self._redeem(params, client_id)
        return self._access(client_id, refresh_token) | {"refresh_token": refresh_token}

    def _redeem(self, params: Mapping[str, Any], client_id: str) -> str:
        code = self.codes.get(_required(params, "code"))
        if code is None or code.client_id != client_id:
            raise InvalidToken("invalid_grant")
        if code.used:
            if code.refresh_token is not None:
                self.revoke(code.refresh_token)
            raise InvalidToken("invalid_grant")
        code.used = True
        if self.clock.now() >= code.expires_at:
            raise InvalidToken("invalid_grant")
        redirect_uri = params.get("redirect_uri")
        if redirect_uri is not None and redirect_uri != code.redirect_uri:
            raise InvalidToken("invalid_grant")
        if code.code_challenge is not None:
            verifier = params.get("code_verifier")
            if not isinstance(verifier, str) or not self._verifier_matches(code, verifier):
                raise InvalidToken("invalid_grant")
        refresh_token = secrets.token_urlsafe(TOKEN_BYTES)
        self.refresh_tokens[refresh_token] = RefreshGrant(client_id)
        code.refresh_token = refresh_token
        return refresh_token

    @staticmethod
    def _verifier_matches(code: AuthorizationCode, verifier: str) -> bool:
        expected = pkce_challenge(verifier) if code.code_challenge_method == "S256" else verifier
        return hmac.compare_digest(expected, code.code_challenge or "")

    def _access(self, client_id: str, refresh_token: str) -> dict[str, Any]:
        ttl = self.settings.access_token_ttl_seconds
        token = secrets.token_urlsafe(TOKEN_BYTES)
        self.access_tokens[token] = AccessGrant(client_id, refresh_token, self.clock.now() + timedelta(seconds=ttl))
        return {"access_token": token, "token_type": TOKEN_TYPE, "expires_in": ttl}

    def authenticate(self, authorization: str | None) -> AccessGrant:
        """The grant behind `Authorization: Bearer <token>`, or the spec's 401."""
        scheme, _, token = (authorization or "").partition(" ")
        grant = self.access_tokens.get(token.strip()) if scheme.lower() == "bearer" else None
        if grant is None or self.clock.now() >= grant.expires_at:
            raise InvalidToken()
        return grant

    def revoke(self, refresh_token: str) -> bool:
        grant = self.refresh_tokens.get(refresh_token)
        if grant is None:
            return False
        grant.revoked = True
        return True
