"""`x-xero-signature`: base64(HMAC-SHA256(the app's webhook key, raw body)), checked against every valid key; an
intent-to-receive batch signed wrongly fails here like any forgery."""

import base64
import hashlib
import hmac

import pytest

from webhooks.verifiers import VERIFIERS, Accepted, BodyHmacVerifier, SignatureRejected, SignedRequest

XERO_SIGNATURE_HEADER = "x-xero-signature"

BODY = b'{"events":[],"firstEventSequence":0,"lastEventSequence":0,"entropy":"FMLHZNKCVK"}'
KEY = "xero-webhook-key-" + "k" * 40


def _signature(body: bytes, key: str = KEY) -> str:
    return base64.b64encode(hmac.new(key.encode(), body, hashlib.sha256).digest()).decode()


def _request(headers: dict[str, str], body: bytes = BODY) -> SignedRequest:
    return SignedRequest(headers=headers, body=body, now=0.0)


def test_the_scheme_is_registered_under_the_name_specs_use() -> None:
    assert isinstance(VERIFIERS["x-xero-signature"], BodyHmacVerifier)


def test_a_body_signed_with_any_valid_key_is_accepted_under_its_digest() -> None:
    verdict = BodyHmacVerifier(XERO_SIGNATURE_HEADER).verify(
        _request({XERO_SIGNATURE_HEADER: _signature(BODY)}), ["old", KEY]
    )
    assert verdict == Accepted(event_id="sha256:" + hashlib.sha256(BODY).hexdigest())


@pytest.mark.parametrize(
    ("headers", "problem"),
    [
        ({}, "missing-signature"),
        ({XERO_SIGNATURE_HEADER: _signature(BODY, "another key")}, "invalid-signature"),
        ({XERO_SIGNATURE_HEADER: _signature(BODY + b" ")}, "invalid-signature"),
        ({XERO_SIGNATURE_HEADER: "not base64!"}, "invalid-signature"),
        ({XERO_SIGNATURE_HEADER: "QQ==" * 100}, "invalid-signature"),
        ({"intuit-signature": _signature(BODY)}, "missing-signature"),
    ],
)
def test_a_missing_wrong_or_garbled_signature_is_rejected(headers: dict[str, str], problem: str) -> None:
    with pytest.raises(SignatureRejected) as rejected:
        BodyHmacVerifier(XERO_SIGNATURE_HEADER).verify(_request(headers), [KEY])
    assert rejected.value.problem == problem


def test_with_no_key_configured_nothing_verifies() -> None:
    with pytest.raises(SignatureRejected):
        BodyHmacVerifier(XERO_SIGNATURE_HEADER).verify(_request({XERO_SIGNATURE_HEADER: _signature(BODY, "")}), [])
