"""The OAuth2 client and auth flow, against respx for the token endpoint's edge cases."""

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
import respx
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from connectors.auth import OAuth2Auth, OAuth2Client, OAuth2Tokens, Refresher
from connectors.spec import OAuth2Spec
from core.errors import AuthError, Transient

TOKEN_URL = "https://auth.x.test/oauth/token"


@pytest.fixture
async def client() -> AsyncIterator[OAuth2Client]:
    oauth = OAuth2Client(
        OAuth2Spec(scopes=("read",)),
        client_id="cid",
        client_secret="csecret",
        token_url=TOKEN_URL,
        authorize_url="https://auth.x.test/authorize",
        http=httpx.AsyncClient(),
    )
    yield oauth
    await oauth.aclose()


def test_the_consent_url_carries_state_and_an_s256_challenge(client: OAuth2Client) -> None:
    pending = client.authorization_request(redirect_uri="https://ll.test/cb")
    query = parse_qs(urlparse(pending.url).query)
    assert query["state"] == [pending.state]
    assert query["code_challenge"] == [create_s256_code_challenge(pending.code_verifier)]
    assert query["code_challenge_method"] == ["S256"]
    assert query["scope"] == ["read"]
    assert pending.code_verifier not in pending.url


@respx.mock
async def test_refresh_keeps_the_old_refresh_token_unless_rotated(client: OAuth2Client) -> None:
    route = respx.post(TOKEN_URL).mock(
        side_effect=[
            httpx.Response(200, json={"access_token": "a1", "expires_in": 120}),
            httpx.Response(200, json={"access_token": "a2", "refresh_token": "r2", "expires_in": 120}),
        ]
    )
    kept = await client.refresh("r1")
    rotated = await client.refresh("r1")
    assert (kept.access_token, kept.refresh_token) == ("a1", "r1")
    assert (rotated.access_token, rotated.refresh_token) == ("a2", "r2")
    sent = parse_qs(route.calls[0].request.content.decode())
    assert sent["grant_type"] == ["refresh_token"] and sent["client_id"] == ["cid"]


@respx.mock
async def test_a_revoked_refresh_token_is_an_auth_error_without_secrets(client: OAuth2Client) -> None:
    respx.post(TOKEN_URL).mock(return_value=httpx.Response(400, json={"error": "invalid_grant"}))
    with pytest.raises(AuthError) as raised:
        await client.refresh("r-secret")
    assert raised.value.code == "refresh_revoked"
    assert raised.value.provider_code == "invalid_grant"
    assert "r-secret" not in repr(raised.value.request) and "csecret" not in repr(raised.value.request)


@respx.mock
async def test_a_failing_token_endpoint_is_transient(client: OAuth2Client) -> None:
    respx.post(TOKEN_URL).mock(return_value=httpx.Response(503))
    with pytest.raises(Transient):
        await client.refresh("r1")


class MemoryStore:
    def __init__(self, tokens: OAuth2Tokens) -> None:
        self.tokens = tokens
        self.refreshes = 0

    async def current(self) -> OAuth2Tokens:
        return self.tokens

    async def refreshed(self, stale_access_token: str, refresh: Refresher) -> OAuth2Tokens:
        if self.tokens.access_token == stale_access_token or self.tokens.expired():
            self.refreshes += 1
            self.tokens = await refresh(self.tokens.refresh_token)
        return self.tokens


@respx.mock
async def test_the_auth_flow_refreshes_before_expiry_and_once_on_a_401(client: OAuth2Client) -> None:
    respx.post(TOKEN_URL).mock(return_value=httpx.Response(200, json={"access_token": "fresh", "expires_in": 3600}))
    api = respx.get("https://api.x.test/me").mock(
        side_effect=[httpx.Response(401), httpx.Response(200, json={"ok": True}), httpx.Response(200, json={})]
    )
    store = MemoryStore(OAuth2Tokens("stale", "r1", datetime.now(UTC) + timedelta(hours=1)))
    async with httpx.AsyncClient(auth=OAuth2Auth(store, client)) as http:
        assert (await http.get("https://api.x.test/me")).status_code == 200
        assert store.refreshes == 1
        assert api.calls[1].request.headers["Authorization"] == "Bearer fresh"
        store.tokens = OAuth2Tokens("old", "r1", datetime.now(UTC) - timedelta(seconds=1))
        await http.get("https://api.x.test/me")
    assert store.refreshes == 2
    assert api.calls[2].request.headers["Authorization"] == "Bearer fresh"


@respx.mock
async def test_a_json_request_encoding_when_the_system_documents_one() -> None:
    oauth = OAuth2Client(
        OAuth2Spec(request_encoding="json"),
        client_id="cid",
        client_secret="csecret",
        token_url=TOKEN_URL,
        authorize_url="https://auth.x.test/authorize",
        http=httpx.AsyncClient(),
    )
    route = respx.post(TOKEN_URL).mock(return_value=httpx.Response(200, json={"access_token": "a", "expires_in": 60}))
    await oauth.refresh("r1")
    await oauth.aclose()
    sent = json.loads(route.calls[0].request.content)
    assert sent == {
        "grant_type": "refresh_token",
        "refresh_token": "r1",
        "client_id": "cid",
        "client_secret": "csecret",
    }
