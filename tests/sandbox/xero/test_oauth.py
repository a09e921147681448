"""Xero's identity server and connections: consent with a choice of organisations, code exchange (with PKCE),
refresh rotation with the used token refused, offline_access, revocation, expiry, and the tenant header."""

import base64
import hashlib
from urllib.parse import parse_qs, urlsplit

import httpx

from sandbox.xero.constants import CLIENT_ID, MAIN_TENANT, SEEDED_REFRESH_TOKEN, UK_TENANT
from tests.sandbox.xero.conftest import Xero

REDIRECT = "https://app.ledgerline.example/oauth/xero/callback"
SCOPES = "offline_access accounting.invoices accounting.settings accounting.contacts"


def consent(xero: Xero, tenants: list[str], scope: str = SCOPES, **extra: str) -> dict[str, list[str]]:
    form = {
        "client_id": CLIENT_ID,
        "response_type": "code",
        "scope": scope,
        "redirect_uri": REDIRECT,
        "state": "st-1",
        "decision": "allow",
        **extra,
    }
    response = xero.wire.post("/identity/connect/authorize", data={**form, "tenant": tenants})
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert location.startswith(REDIRECT)
    return parse_qs(urlsplit(location).query)


def test_consent_page_lists_every_organisation_checked(xero: Xero) -> None:
    page = xero.wire.get(
        "/identity/connect/authorize",
        params={"client_id": CLIENT_ID, "response_type": "code", "scope": SCOPES, "redirect_uri": REDIRECT},
    )
    assert page.status_code == 200
    assert page.text.count('type="checkbox"') == 2
    assert "Ledgerline Demo Co (US)" in page.text and "Ledgerline Demo Ltd (UK)" in page.text
    assert page.text.count("checked") == 2


def test_unknown_client_gets_an_error_page_not_a_redirect(xero: Xero) -> None:
    page = xero.wire.get(
        "/identity/connect/authorize",
        params={"client_id": "nope", "response_type": "code", "scope": SCOPES, "redirect_uri": REDIRECT},
    )
    assert page.status_code == 400 and "unauthorized_client" in page.text


def test_code_exchange_covers_only_the_chosen_organisations(xero: Xero) -> None:
    query = consent(xero, [UK_TENANT])
    tokens = xero.token_response(grant_type="authorization_code", code=query["code"][0], redirect_uri=REDIRECT)
    assert tokens.status_code == 200, tokens.text
    body = tokens.json()
    assert body["expires_in"] == 1800 and body["token_type"] == "Bearer" and body["refresh_token"]
    connections = xero.wire.get("/connections", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert [row["tenantId"] for row in connections.json()] == [UK_TENANT]
    assert connections.json()[0]["tenantType"] == "ORGANISATION"
    with xero.api(MAIN_TENANT, body["access_token"]) as other:
        refused = other.get("/Organisation")
    assert refused.status_code == 403 and refused.json()["Detail"] == "AuthorizationUnsuccessful"


def test_deny_or_nothing_ticked_redirects_with_access_denied(xero: Xero) -> None:
    assert consent(xero, [])["error"] == ["access_denied"]
    assert consent(xero, [MAIN_TENANT], decision="deny")["error"] == ["access_denied"]


def test_code_is_single_use(xero: Xero) -> None:
    code = consent(xero, [MAIN_TENANT])["code"][0]
    assert xero.token_response(grant_type="authorization_code", code=code, redirect_uri=REDIRECT).status_code == 200
    again = xero.token_response(grant_type="authorization_code", code=code, redirect_uri=REDIRECT)
    assert again.status_code == 400 and again.json() == {"error": "invalid_grant"}


def test_pkce_verifier_is_checked(xero: Xero) -> None:
    verifier = "v" * 50
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    query = consent(xero, [MAIN_TENANT], code_challenge=challenge, code_challenge_method="S256")
    wrong = xero.token_response(
        grant_type="authorization_code", code=query["code"][0], redirect_uri=REDIRECT, code_verifier="x" * 50
    )
    assert wrong.status_code == 400
    query = consent(xero, [MAIN_TENANT], code_challenge=challenge, code_challenge_method="S256")
    public = xero.wire.post(
        "/identity/connect/token",
        data={
            "grant_type": "authorization_code",
            "code": query["code"][0],
            "redirect_uri": REDIRECT,
            "code_verifier": verifier,
            "client_id": CLIENT_ID,
        },
    )
    assert public.status_code == 200, public.text


def test_without_offline_access_no_refresh_token(xero: Xero) -> None:
    query = consent(xero, [MAIN_TENANT], scope="accounting.settings")
    body = xero.token_response(grant_type="authorization_code", code=query["code"][0], redirect_uri=REDIRECT).json()
    assert "refresh_token" not in body


def test_refresh_rotates_and_the_used_token_is_refused(xero: Xero) -> None:
    first = xero.seeded_tokens()
    assert first["refresh_token"] != SEEDED_REFRESH_TOKEN
    reused = xero.token_response(grant_type="refresh_token", refresh_token=SEEDED_REFRESH_TOKEN)
    assert reused.status_code == 400 and reused.json() == {"error": "invalid_grant"}
    second = xero.token_response(grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert second.status_code == 200 and second.json()["refresh_token"] != first["refresh_token"]


def test_client_secret_in_the_form_is_accepted_and_a_wrong_one_refused(xero: Xero) -> None:
    from sandbox.xero.constants import CLIENT_SECRET

    form = {"grant_type": "refresh_token", "refresh_token": SEEDED_REFRESH_TOKEN, "client_id": CLIENT_ID}
    wrong = xero.wire.post("/identity/connect/token", data=form | {"client_secret": "bad"})
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_client"
    right = xero.wire.post("/identity/connect/token", data=form | {"client_secret": CLIENT_SECRET})
    assert right.status_code == 200


def test_revocation_ends_the_grant(xero: Xero) -> None:
    tokens = xero.seeded_tokens()
    from tests.sandbox.xero.conftest import basic

    revoked = xero.wire.post(
        "/identity/connect/revocation", data={"token": tokens["refresh_token"]}, headers={"Authorization": basic()}
    )
    assert revoked.status_code == 200 and revoked.content == b""
    again = xero.token_response(grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    assert again.status_code == 400
    with xero.api(token=tokens["access_token"]) as api:
        assert api.get("/Organisation").status_code == 401


def test_access_token_expires_after_thirty_minutes(xero: Xero) -> None:
    tokens = xero.seeded_tokens()
    with xero.api(token=tokens["access_token"]) as api:
        assert api.get("/Organisation").status_code == 200
        xero.sandbox.control().put("/clock", json={"advance_seconds": 1801})
        expired = api.get("/Organisation")
    assert expired.status_code == 401
    assert expired.json()["Title"] == "Unauthorized" and expired.json()["Detail"] == "AuthenticationUnsuccessful"


def test_missing_or_foreign_tenant_header_is_forbidden(xero: Xero) -> None:
    token = xero.grant(tenant_ids=[MAIN_TENANT])["access_token"]
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    no_tenant = httpx.get(f"{xero.base}/api.xro/2.0/Organisation", headers=headers)
    assert no_tenant.status_code == 403
    foreign = httpx.get(f"{xero.base}/api.xro/2.0/Organisation", headers=headers | {"xero-tenant-id": UK_TENANT})
    assert foreign.status_code == 403 and foreign.json()["Title"] == "Forbidden"


def test_connections_list_and_disconnect(xero: Xero) -> None:
    tokens = xero.seeded_tokens()
    auth = {"Authorization": f"Bearer {tokens['access_token']}"}
    rows = xero.wire.get("/connections", headers=auth).json()
    assert {row["tenantId"] for row in rows} == {MAIN_TENANT, UK_TENANT}
    assert {row["tenantName"] for row in rows} == {"Ledgerline Demo Co (US)", "Ledgerline Demo Ltd (UK)"}
    assert xero.wire.delete(f"/connections/{rows[1]['id']}", headers=auth).status_code == 204
    assert len(xero.wire.get("/connections", headers=auth).json()) == 1
    assert xero.wire.get("/connections").status_code == 401
    assert xero.tally.responses >= 2
