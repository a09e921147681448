"""Fyle's authorization server: refresh grant, token expiry, the consent page and the code flow with PKCE."""

import html
import re
import secrets
from urllib.parse import parse_qs, urlsplit

from sandbox.fyle.constants import (
    ACCESS_TOKEN_TTL_SECONDS,
    FYLE_SANDBOX_CLIENT_ID,
    FYLE_SANDBOX_CLIENT_SECRET,
    FYLE_SANDBOX_REFRESH_TOKEN,
)
from sandbox.fyle.oauth import pkce_challenge
from tests.sandbox.fyle.conftest import ADMIN, Fyle

REDIRECT_URI = "http://127.0.0.1:8765/callback?tenant=acme"
AUTHORIZE = "/app/developers/oauth/authorize"


def _authorize(fyle: Fyle, *, challenge: str | None = None, decision: str = "allow") -> dict[str, list[str]]:
    """Open the consent page, press a button, and return the query of the redirect back to the client."""
    params = {"client_id": FYLE_SANDBOX_CLIENT_ID, "redirect_uri": REDIRECT_URI, "response_type": "code"}
    params["state"] = "xyz-state"
    if challenge is not None:
        params |= {"code_challenge": challenge, "code_challenge_method": "S256"}
    page = fyle.wire.get(AUTHORIZE, params=params)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    hidden = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page.text)
    form = {name: html.unescape(value) for name, value in hidden}
    action = re.search(r'<form method="post" action="([^"]+)"', page.text)
    assert action is not None and 'value="allow"' in page.text
    answer = fyle.wire.post(action.group(1).removeprefix("/fyle"), data=form | {"decision": decision})
    assert answer.status_code == 302
    location = urlsplit(answer.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT_URI.split("?")[0]
    return parse_qs(location.query)


def test_refresh_token_grant_gives_a_bearer_token_that_opens_the_admin_api(fyle: Fyle) -> None:
    issued = fyle.token_response(grant_type="refresh_token", refresh_token=FYLE_SANDBOX_REFRESH_TOKEN)

    assert issued.status_code == 200
    body = issued.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == ACCESS_TOKEN_TTL_SECONDS
    assert "refresh_token" not in body
    listed = fyle.wire.get(f"{ADMIN}/categories", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert listed.status_code == 200


def test_token_endpoint_accepts_a_form_body_as_oauth_libraries_send(fyle: Fyle) -> None:
    form = {
        "grant_type": "refresh_token",
        "refresh_token": FYLE_SANDBOX_REFRESH_TOKEN,
        "client_id": FYLE_SANDBOX_CLIENT_ID,
        "client_secret": FYLE_SANDBOX_CLIENT_SECRET,
    }
    assert fyle.wire.post("/oauth/token", data=form).status_code == 200


def test_bad_client_secret_and_unknown_refresh_token_get_the_spec_401(fyle: Fyle) -> None:
    wrong_secret = fyle.token_response(
        grant_type="refresh_token", refresh_token=FYLE_SANDBOX_REFRESH_TOKEN, client_secret="nope"
    )
    unknown = fyle.token_response(grant_type="refresh_token", refresh_token="not-a-token")

    assert wrong_secret.status_code == 401
    assert wrong_secret.json() == {"message": "invalid token", "error": "invalid_client"}
    assert unknown.status_code == 401
    assert unknown.json() == {"message": "invalid token", "error": "invalid_grant"}


def test_malformed_token_requests_get_400(fyle: Fyle) -> None:
    unsupported = fyle.token_response(grant_type="password")
    missing = fyle.wire.post("/oauth/token", json={"grant_type": "refresh_token"})

    assert unsupported.status_code == 400 and unsupported.json()["error"] == "unsupported_grant_type"
    assert missing.status_code == 400 and missing.json()["error"] == "invalid_request"


def test_revoked_refresh_token_is_refused(fyle: Fyle) -> None:
    fyle.access_token()
    revoked = fyle.control.post("/fyle/refresh_tokens/revoke", json={"refresh_token": FYLE_SANDBOX_REFRESH_TOKEN})

    assert revoked.status_code == 200
    refused = fyle.token_response(grant_type="refresh_token", refresh_token=FYLE_SANDBOX_REFRESH_TOKEN)
    assert refused.status_code == 401 and refused.json()["error"] == "invalid_grant"


def test_access_token_expires_on_the_sandbox_clock_and_a_refresh_brings_access_back(fyle: Fyle) -> None:
    with fyle.admin() as api:
        assert api.get("/expenses").status_code == 200
        fyle.control.put("/clock", json={"advance_seconds": ACCESS_TOKEN_TTL_SECONDS + 1})

        expired = api.get("/expenses")

    assert expired.status_code == 401
    assert expired.json() == {"message": "invalid token"}
    with fyle.admin() as refreshed:
        assert refreshed.get("/expenses").status_code == 200


def test_access_token_ttl_is_set_through_the_control_api(fyle: Fyle) -> None:
    assert fyle.control.put("/fyle/settings", json={"access_token_ttl_seconds": 60}).status_code == 200

    with fyle.admin() as api:
        fyle.control.put("/clock", json={"advance_seconds": 59})
        assert api.get("/reports").status_code == 200
        fyle.control.put("/clock", json={"advance_seconds": 2})
        assert api.get("/reports").status_code == 401


def test_missing_or_malformed_bearer_gets_401(fyle: Fyle) -> None:
    assert fyle.wire.get(f"{ADMIN}/expenses").json() == {"message": "invalid token"}
    assert fyle.wire.get(f"{ADMIN}/expenses", headers={"Authorization": "Basic abc"}).status_code == 401


def test_cluster_points_back_at_the_simulator(fyle: Fyle) -> None:
    headers = {"Authorization": f"Bearer {fyle.access_token()}"}

    cluster = fyle.wire.post("/oauth/cluster/", headers=headers)

    assert cluster.status_code == 200
    assert cluster.json() == {"cluster_domain": fyle.base}
    assert fyle.wire.post("/oauth/cluster").status_code == 401


def test_code_flow_with_pkce_issues_a_working_refresh_token(fyle: Fyle) -> None:
    verifier = secrets.token_urlsafe(48)

    query = _authorize(fyle, challenge=pkce_challenge(verifier))
    exchanged = fyle.token_response(
        grant_type="authorization_code", code=query["code"][0], code_verifier=verifier, redirect_uri=REDIRECT_URI
    )

    assert query["state"] == ["xyz-state"] and query["tenant"] == ["acme"]
    assert exchanged.status_code == 200, exchanged.text
    refresh_token = exchanged.json()["refresh_token"]
    assert fyle.access_token(refresh_token)


def test_code_flow_refuses_a_wrong_verifier(fyle: Fyle) -> None:
    query = _authorize(fyle, challenge=pkce_challenge(secrets.token_urlsafe(48)))

    refused = fyle.token_response(
        grant_type="authorization_code", code=query["code"][0], code_verifier=secrets.token_urlsafe(48)
    )
    missing = fyle.token_response(grant_type="authorization_code", code=query["code"][0])

    assert refused.status_code == 401 and refused.json()["error"] == "invalid_grant"
    assert missing.status_code == 401


def test_a_code_is_single_use_and_its_replay_revokes_what_it_issued(fyle: Fyle) -> None:
    query = _authorize(fyle)
    first = fyle.token_response(grant_type="authorization_code", code=query["code"][0])

    replay = fyle.token_response(grant_type="authorization_code", code=query["code"][0])

    assert first.status_code == 200
    assert replay.status_code == 401 and replay.json()["error"] == "invalid_grant"
    revoked = fyle.token_response(grant_type="refresh_token", refresh_token=first.json()["refresh_token"])
    assert revoked.status_code == 401


def test_codes_expire(fyle: Fyle) -> None:
    query = _authorize(fyle)
    fyle.control.put("/clock", json={"advance_seconds": 3600})

    late = fyle.token_response(grant_type="authorization_code", code=query["code"][0])

    assert late.status_code == 401


def test_deny_redirects_with_access_denied(fyle: Fyle) -> None:
    query = _authorize(fyle, decision="deny")

    assert query == {"tenant": ["acme"], "error": ["access_denied"], "state": ["xyz-state"]}


def test_unknown_client_or_bad_redirect_uri_shows_an_error_page_instead_of_redirecting(fyle: Fyle) -> None:
    base = {"response_type": "code", "state": "s"}
    unknown_client = fyle.wire.get(AUTHORIZE, params=base | {"client_id": "tpaNobody", "redirect_uri": REDIRECT_URI})
    bad_redirect = fyle.wire.get(
        AUTHORIZE, params=base | {"client_id": FYLE_SANDBOX_CLIENT_ID, "redirect_uri": "javascript:alert(1)"}
    )

    assert unknown_client.status_code == 400 and "invalid_client" in unknown_client.text
    assert bad_redirect.status_code == 400 and "location" not in bad_redirect.headers


def test_the_short_authorize_path_serves_the_same_consent_page(fyle: Fyle) -> None:
    params = {"client_id": FYLE_SANDBOX_CLIENT_ID, "redirect_uri": REDIRECT_URI, "response_type": "code"}

    page = fyle.wire.get("/app/oauth/authorize", params=params)

    assert page.status_code == 200 and 'value="allow"' in page.text
