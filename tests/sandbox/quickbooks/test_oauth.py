"""Intuit's OAuth2 wire as the simulator serves it: discovery, consent, code and refresh grants, rotation with a
grace period, revoke, and what the API answers to expired, revoked and foreign tokens."""

from urllib.parse import parse_qs, urlsplit

import httpx

from sandbox.quickbooks.constants import MAIN_REALM, SCOPE_ACCOUNTING, SEEDED_REFRESH_TOKEN_PREFIX, UK_REALM
from tests.sandbox.quickbooks.conftest import Qbo, basic, fault_of

REDIRECT = "https://app.ledgerline.test/callback"
SEEDED = SEEDED_REFRESH_TOKEN_PREFIX + MAIN_REALM


def authorize(qbo: Qbo, decision: str = "allow", realm: str = MAIN_REALM, **extra: str) -> httpx.Response:
    form = {
        "client_id": qbo.control.get("/credentials").json()["client_id"],
        "response_type": "code",
        "scope": SCOPE_ACCOUNTING,
        "redirect_uri": REDIRECT,
        "state": "st-1",
        "decision": decision,
        "realmId": realm,
    } | extra
    return qbo.wire.post("/connect/oauth2", data=form)


def callback(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 302, response.text
    return {key: values[0] for key, values in parse_qs(urlsplit(response.headers["location"]).query).items()}


def test_discovery_document_points_every_endpoint_at_the_simulator(qbo: Qbo) -> None:
    for path in ("/.well-known/openid_configuration/", "/.well-known/openid_sandbox_configuration"):
        document = qbo.wire.get(path).json()
        assert document["authorization_endpoint"] == f"{qbo.base}/connect/oauth2"
        assert document["token_endpoint"] == f"{qbo.base}/oauth2/v1/tokens/bearer"
        assert document["revocation_endpoint"] == f"{qbo.base}/v2/oauth2/tokens/revoke"
        assert {"issuer", "userinfo_endpoint", "jwks_uri"} <= set(document)


def test_consent_page_lists_the_companies_and_redirects_with_code_state_and_realm(qbo: Qbo) -> None:
    page = qbo.wire.get(
        "/connect/oauth2",
        params={
            "client_id": qbo.control.get("/credentials").json()["client_id"],
            "response_type": "code",
            "scope": SCOPE_ACCOUNTING,
            "redirect_uri": REDIRECT,
            "state": "st-1",
        },
    )
    assert page.status_code == 200 and MAIN_REALM in page.text and UK_REALM in page.text

    answer = callback(authorize(qbo, realm=UK_REALM))
    assert answer["state"] == "st-1" and answer["realmId"] == UK_REALM and answer["code"]
    assert callback(authorize(qbo, decision="deny")) == {"error": "access_denied", "state": "st-1"}


def test_consent_refuses_an_unknown_client_without_redirecting(qbo: Qbo) -> None:
    response = authorize(qbo, client_id="nobody")
    assert response.status_code == 400 and "invalid_client" in response.text


def test_code_exchange_needs_basic_client_auth_and_the_same_redirect_uri(qbo: Qbo) -> None:
    code = callback(authorize(qbo))["code"]
    no_auth = qbo.wire.post("/oauth2/v1/tokens/bearer", data={"grant_type": "authorization_code", "code": code})
    assert no_auth.status_code == 401 and no_auth.json() == {
        "error": "invalid_client",
        "error_description": "client authentication is required",
    }
    wrong = qbo.token_response(grant_type="authorization_code", code=code, redirect_uri="https://elsewhere.test/cb")
    assert wrong.status_code == 400 and wrong.json() == {"error": "invalid_grant"}


def test_code_exchange_returns_intuit_token_fields_and_the_token_reaches_only_its_realm(qbo: Qbo) -> None:
    code = callback(authorize(qbo))["code"]
    tokens = qbo.token_response(grant_type="authorization_code", code=code, redirect_uri=REDIRECT).json()
    assert tokens["token_type"] == "bearer" and tokens["expires_in"] == 3600
    assert tokens["x_refresh_token_expires_in"] == 8640000 and tokens["refresh_token"]
    with qbo.api(MAIN_REALM, tokens["access_token"]) as api:
        assert api.get(f"/companyinfo/{MAIN_REALM}").status_code == 200
    with qbo.api(UK_REALM, tokens["access_token"]) as other:
        refused = other.get(f"/companyinfo/{UK_REALM}")
    assert refused.status_code == 403 and fault_of(refused)["code"] == "3100"


def test_refresh_rotates_and_the_old_token_answers_with_the_newest_until_its_grace_ends(qbo: Qbo) -> None:
    first = qbo.token_response(grant_type="refresh_token", refresh_token=SEEDED).json()
    assert first["refresh_token"] != SEEDED
    again = qbo.token_response(grant_type="refresh_token", refresh_token=SEEDED).json()
    assert again["refresh_token"] == first["refresh_token"]  # a second worker with the old token converges

    qbo.sandbox.box.clock.advance(24 * 3600 + 1)
    late = qbo.token_response(grant_type="refresh_token", refresh_token=SEEDED)
    assert late.status_code == 400 and late.json() == {"error": "invalid_grant"}
    newest = qbo.token_response(grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert newest.status_code == 200


def test_refresh_without_rotation_returns_the_same_refresh_token(qbo: Qbo) -> None:
    qbo.control.put("/settings", json={"rotate_refresh_tokens": False})
    assert qbo.tokens()["refresh_token"] == SEEDED


def test_revoke_takes_json_and_basic_auth_and_ends_the_grant(qbo: Qbo) -> None:
    tokens = qbo.tokens()
    response = qbo.wire.post(
        "/v2/oauth2/tokens/revoke", json={"token": tokens["refresh_token"]}, headers={"Authorization": basic()}
    )
    assert response.status_code == 200
    refused = qbo.token_response(grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"
    with qbo.api(token=tokens["access_token"]) as api:
        assert fault_of(api.get("/preferences"))["code"] == "3200"


def test_expired_access_token_is_401_with_code_3200(qbo: Qbo) -> None:
    with qbo.api() as api:
        assert api.get("/preferences").status_code == 200
        qbo.sandbox.box.clock.advance(3601)
        expired = api.get("/preferences")
    assert expired.status_code == 401
    assert fault_of(expired)["code"] == "3200" and "Token expired" in fault_of(expired)["Detail"]
    assert "invalid_token" in expired.headers["www-authenticate"]


def test_control_api_expires_tokens_and_revokes_grants(qbo: Qbo) -> None:
    with qbo.api() as api:
        qbo.control.post("/tokens/expire")
        assert api.get("/preferences").status_code == 401
    assert qbo.control.post("/grants/revoke", json={"refresh_token": SEEDED}).json() == {"revoked": True}
    assert qbo.token_response(grant_type="refresh_token", refresh_token=SEEDED).status_code == 400


def test_unknown_grant_type_and_missing_token_are_rfc6749_errors(qbo: Qbo) -> None:
    assert qbo.token_response(grant_type="password").json() == {"error": "unsupported_grant_type"}
    assert qbo.token_response(grant_type="refresh_token", refresh_token="nope").json() == {"error": "invalid_grant"}
