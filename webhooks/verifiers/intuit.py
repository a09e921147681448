"""Intuit's `intuit-signature` (QuickBooks Online): base64(HMAC-SHA256(the app's verifier token, raw body)).

The header carries neither an id nor a timestamp, so there is no replay window to check: a replayed delivery is a
redelivery, and the events it holds deduplicate. The event id is the body's digest, derived only once the signature
holds (the app-level ingress derives one per account part instead, `webhooks.app_ingress`). Several tokens may be
valid while one is replaced; each is compared with `hmac.compare_digest`, without stopping early.
"""

import base64
import binascii
import hashlib
import hmac
from collections.abc import Sequence

from webhooks.constants import (
    BODY_DIGEST_PREFIX,
    INTUIT_SIGNATURE_HEADER,
    INTUIT_SIGNATURE_SCHEME,
    MAX_SIGNATURE_HEADER_LENGTH,
)
from webhooks.verifiers.base import Accepted, SignatureRejected, SignedRequest, Verdict


def _offered(header: str) -> bytes:
    if len(header) > MAX_SIGNATURE_HEADER_LENGTH:
        raise SignatureRejected(f"The {INTUIT_SIGNATURE_HEADER} header is too long to be a signature.")
    try:
        return base64.b64decode(header.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise SignatureRejected(f"The {INTUIT_SIGNATURE_HEADER} header is not base64.") from None


class IntuitSignatureVerifier:
    scheme = INTUIT_SIGNATURE_SCHEME

    def verify(self, request: SignedRequest, secrets: Sequence[str]) -> Verdict:
        header = request.headers.get(INTUIT_SIGNATURE_HEADER, "")
        if not header:
            raise SignatureRejected(f"Missing the {INTUIT_SIGNATURE_HEADER} header.", problem="missing-signature")
        offered = _offered(header)
        matched = False
        for secret in secrets:
            expected = hmac.new(secret.encode(), request.body, hashlib.sha256).digest()
            matched |= hmac.compare_digest(expected, offered)
        if not matched:
            raise SignatureRejected(
                f"The {INTUIT_SIGNATURE_HEADER} does not match the body signed with the app's verifier token."
            )
        return Accepted(event_id=BODY_DIGEST_PREFIX + hashlib.sha256(request.body).hexdigest())
