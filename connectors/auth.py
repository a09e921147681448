"""OAuth2 for connectors: the authorization-code flow with PKCE, token refresh, and an httpx auth flow.

`OAuth2Auth` is the one extension point (httpx's `Auth.auth_flow` shape): it puts a live access token on each
request, refreshes before expiry and once more on a 401. Refreshing goes through a `TokenStore`, which makes it
single-flight per connection across processes and saves a rotated refresh token with its access token.
"""

import secrets
from collections.abc import AsyncGenerator, Awaitable, Callable, Generator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from urllib.parse import urlencode

import httpx
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from connectors.constants import OAUTH_STATE_BYTES, PKCE_VERIFIER_BYTES, TOKEN_EXPIRY_LEEWAY_SECONDS
from connectors.http import request_excerpt, response_excerpt, transport_failure
from connectors.spec import OAuth2Spec
from core.errors import AuthError, Transient

DEFAULT_ACCESS_TOKEN_SECONDS = 3600


@dataclass(frozen=True, slots=True)
class OAuth2Tokens:
    access_token: str
    refresh_token: str
    expires_at: datetime

    def expired(self, *, now: datetime | None = None) -> bool:
        moment = now or datetime.now(UTC)
        return moment >= self.expires_at - timedelta(seconds=TOKEN_EXPIRY_LEEWAY_SECONDS)

    def as_credentials(self) -> dict[str, str]:
        return {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "expires_at": self.expires_at.isoformat(),
        }

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any]) -> "OAuth2Tokens":
        try:
            return cls(
                access_token=str(credentials.get("access_token", "")),
                refresh_token=str(credentials["refresh_token"]),
                expires_at=datetime.fromisoformat(credentials.get("expires_at") or "1970-01-01T00:00:00+00:00"),
            )
        except KeyError as exc:
            raise AuthError("The connection holds no refresh token.", code="no_refresh_token") from exc


Refresher = Callable[[str], Awaitable[OAuth2Tokens]]


class TokenStore(Protocol):
    """Where one connection's tokens live. `refreshed` must be single-flight across processes."""

    async def current(self) -> OAuth2Tokens: ...

    async def refreshed(self, stale_access_token: str, refresh: Refresher) -> OAuth2Tokens: ...


@dataclass(frozen=True, slots=True)
class AuthorizationRequest:
    """What to remember between sending the user to consent and receiving the callback."""

    url: str
    state: str
    code_verifier: str


class OAuth2Client:
    """Ledgerline as an OAuth2 client of one system: builds consent URLs, exchanges codes, refreshes tokens."""

    def __init__(
        self,
        spec: OAuth2Spec,
        *,
        client_id: str,
        client_secret: str,
        token_url: str,
        authorize_url: str,
        http: httpx.AsyncClient,
    ) -> None:
        self.spec = spec
        self.client_id = client_id
        self._client_secret = client_secret
        self.token_url = token_url
        self.authorize_url = authorize_url
        self._http = http

    def authorization_request(self, *, redirect_uri: str) -> AuthorizationRequest:
        state = secrets.token_urlsafe(OAUTH_STATE_BYTES)
        verifier = secrets.token_urlsafe(PKCE_VERIFIER_BYTES)
        params = {"response_type": "code", "client_id": self.client_id, "redirect_uri": redirect_uri, "state": state}
        if self.spec.scopes:
            params["scope"] = " ".join(self.spec.scopes)
        if self.spec.pkce:
            params.update(code_challenge=create_s256_code_challenge(verifier), code_challenge_method="S256")
        return AuthorizationRequest(
            url=f"{self.authorize_url}?{urlencode(params)}", state=state, code_verifier=verifier
        )

    async def exchange_code(self, *, code: str, redirect_uri: str, code_verifier: str) -> OAuth2Tokens:
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
        if self.spec.pkce:
            form["code_verifier"] = code_verifier
        return await self._token_request(form, previous_refresh_token=None)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def refresh(self, refresh_token: str) -> OAuth2Tokens:
        return await self._token_request(
            {"grant_type": "refresh_token", "refresh_token": refresh_token}, previous_refresh_token=refresh_token
        )

    async def _token_request(self, form: dict[str, str], *, previous_refresh_token: str | None) -> OAuth2Tokens:
        auth: tuple[str, str] | None = None
        if self.spec.client_auth == "client_secret_basic":
            auth = (self.client_id, self._client_secret)
        else:
            form = {**form, "client_id": self.client_id, "client_secret": self._client_secret}
        body: dict[str, Any] = {"json": form} if self.spec.request_encoding == "json" else {"data": form}
        try:
            response = await self._http.post(self.token_url, auth=auth or httpx.USE_CLIENT_DEFAULT, **body)
        except httpx.TransportError as exc:
            raise transport_failure(exc, idempotent=True) from exc
        if response.status_code in (400, 401):
            raise AuthError(
                f"The authorization server refused the {form['grant_type']} grant ({_oauth_error(response)}).",
                code="refresh_revoked" if form["grant_type"] == "refresh_token" else "code_refused",
                provider_code=_oauth_error(response),
                hint="Re-connect the system: its authorization was revoked or has expired.",
                request=request_excerpt(response.request),
                response=response_excerpt(response),
            )
        if not response.is_success:
            raise Transient(
                f"The token endpoint answered {response.status_code}.",
                code="token_endpoint",
                provider_code=str(response.status_code),
                response=response_excerpt(response),
            )
        body = response.json()
        refresh_token = body.get("refresh_token") or previous_refresh_token
        if not refresh_token:
            raise AuthError("The token endpoint issued no refresh token.", code="no_refresh_token")
        lifetime = int(body.get("expires_in") or DEFAULT_ACCESS_TOKEN_SECONDS)
        return OAuth2Tokens(
            access_token=body["access_token"],
            refresh_token=refresh_token,
            expires_at=datetime.now(UTC) + timedelta(seconds=lifetime),
        )


def _oauth_error(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return str(response.status_code)
    return str(body.get("error") or body.get("message") or response.status_code)


class BearerAuth(httpx.Auth):
    """A token already in hand, for the calls right after an authorization (before anything is stored)."""

    def __init__(self, access_token: str) -> None:
        self._header = f"Bearer {access_token}"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = self._header
        yield request


class OAuth2Auth(httpx.Auth):
    """Bearer tokens that stay alive: refresh before expiry, and once on a 401, through the token store."""

    def __init__(self, store: TokenStore, client: OAuth2Client) -> None:
        self._store = store
        self._client = client

    async def aclose(self) -> None:
        await self._client.aclose()

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        tokens = await self._store.current()
        if tokens.expired():
            tokens = await self._store.refreshed(tokens.access_token, self._client.refresh)
        request.headers["Authorization"] = f"Bearer {tokens.access_token}"
        response = yield request
        if response.status_code == 401:
            tokens = await self._store.refreshed(tokens.access_token, self._client.refresh)
            request.headers["Authorization"] = f"Bearer {tokens.access_token}"
            yield request
