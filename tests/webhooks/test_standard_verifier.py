"""The Standard Webhooks verifier against signatures made by the reference `standardwebhooks` package."""

import time
from datetime import UTC, datetime

import pytest
from standardwebhooks.webhooks import Webhook

from sync.webhook_secrets import new_secret
from webhooks.verifiers import VERIFIERS, Accepted, SignatureRejected, SignedRequest

VERIFIER = VERIFIERS["standard-webhooks"]
BODY = b'{"type":"invoice.paid","data":{"id":"in_1"}}'


def _request(
    secret: str, *, body: bytes = BODY, at: float | None = None, signature: str | None = None
) -> SignedRequest:
    now = time.time()
    moment = datetime.fromtimestamp(now if at is None else at, UTC)
    headers = {
        "webhook-id": "msg_1",
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": signature or Webhook(secret).sign("msg_1", moment, BODY.decode()),
    }
    return SignedRequest(headers=headers, body=body, now=now)


def _secret() -> str:
    return new_secret(now=datetime.now(UTC)).secret


def test_a_reference_signature_is_accepted_with_its_id() -> None:
    secret = _secret()
    assert VERIFIER.verify(_request(secret), [secret]) == Accepted(event_id="msg_1")


def test_any_of_several_secrets_and_any_of_several_signatures_passes() -> None:
    old, new = _secret(), _secret()
    moment = datetime.now(UTC)
    stranger, ours = (Webhook(secret).sign("msg_1", moment, BODY.decode()) for secret in (_secret(), old))
    both = f"{stranger} v1,bm9pc2U= {ours}"
    assert isinstance(VERIFIER.verify(_request(old, signature=both), [new, old]), Accepted)


@pytest.mark.parametrize(
    "signature",
    ["", "v1", "v1,", "v2,abc", "v1,!!notbase64!!", "v1,bm9pc2U=", "garbage " * 40],
)
def test_malformed_or_foreign_signatures_are_rejected(signature: str) -> None:
    secret = _secret()
    request = _request(secret)
    headers = {**request.headers, "webhook-signature": signature}
    with pytest.raises(SignatureRejected):
        VERIFIER.verify(SignedRequest(headers=headers, body=BODY, now=request.now), [secret])


def test_a_tampered_body_or_another_secret_is_rejected() -> None:
    secret = _secret()
    with pytest.raises(SignatureRejected):
        VERIFIER.verify(_request(secret, body=BODY + b" "), [secret])
    with pytest.raises(SignatureRejected):
        VERIFIER.verify(_request(secret), [_secret()])


@pytest.mark.parametrize(("offset", "problem"), [(-301, "stale-timestamp"), (301, "future-timestamp")])
def test_timestamps_beyond_five_minutes_either_way_are_rejected(offset: int, problem: str) -> None:
    secret = _secret()
    with pytest.raises(SignatureRejected) as caught:
        VERIFIER.verify(_request(secret, at=time.time() + offset), [secret])
    assert caught.value.problem == problem


@pytest.mark.parametrize("offset", [-290, 290])
def test_timestamps_within_five_minutes_pass(offset: int) -> None:
    secret = _secret()
    assert isinstance(VERIFIER.verify(_request(secret, at=time.time() + offset), [secret]), Accepted)


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_each_missing_header_is_named(missing: str) -> None:
    secret = _secret()
    request = _request(secret)
    headers = {key: value for key, value in request.headers.items() if key != missing}
    with pytest.raises(SignatureRejected, match=missing):
        VERIFIER.verify(SignedRequest(headers=headers, body=BODY, now=request.now), [secret])
