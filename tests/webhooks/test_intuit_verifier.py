"""`intuit-signature`: base64(HMAC-SHA256(verifier token, raw body)), checked against every valid token, with an
id derived from the body once the signature holds."""

import hashlib
import time

import pytest

from tests.webhooks.app_support import intuit_signature
from webhooks.verifiers import VERIFIERS, Accepted, BodyHmacVerifier, SignatureRejected, SignedRequest

BODY = b'{"eventNotifications":[{"realmId":"1","dataChangeEvent":{"entities":[]}}]}'


def _request(headers: dict[str, str], body: bytes = BODY) -> SignedRequest:
    return SignedRequest(headers=headers, body=body, now=time.time())


def test_the_scheme_is_registered_by_name() -> None:
    assert isinstance(VERIFIERS["intuit-signature"], BodyHmacVerifier)


def test_a_signature_by_any_valid_token_is_accepted_with_the_body_digest_as_id() -> None:
    verdict = BodyHmacVerifier("intuit-signature").verify(
        _request({"intuit-signature": intuit_signature(BODY, "new")}), ["old", "new"]
    )
    assert verdict == Accepted(event_id="sha256:" + hashlib.sha256(BODY).hexdigest())


@pytest.mark.parametrize(
    ("headers", "problem"),
    [
        ({}, "missing-signature"),
        ({"intuit-signature": intuit_signature(BODY, "another")}, "invalid-signature"),
        ({"intuit-signature": intuit_signature(BODY + b" ", "s3cret-value")}, "invalid-signature"),
        ({"intuit-signature": "%%%"}, "invalid-signature"),
        ({"intuit-signature": "QQ==" * 100}, "invalid-signature"),
    ],
)
def test_missing_wrong_or_garbled_signatures_are_rejected(headers: dict[str, str], problem: str) -> None:
    with pytest.raises(SignatureRejected) as rejected:
        BodyHmacVerifier("intuit-signature").verify(_request(headers), ["s3cret-value"])
    assert rejected.value.problem == problem
    assert "s3cret-value" not in rejected.value.reason  # the secret never travels back


def test_no_valid_token_accepts_nothing() -> None:
    with pytest.raises(SignatureRejected):
        BodyHmacVerifier("intuit-signature").verify(_request({"intuit-signature": intuit_signature(BODY, "")}), [])
