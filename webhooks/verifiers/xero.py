"""Xero's `x-xero-signature`: base64(HMAC-SHA256(the app's webhook key, raw body)).

Like Intuit's scheme, the header carries neither an id nor a timestamp: a replayed delivery is a redelivery, and its
events deduplicate by ids derived from their content (`connectors.xero.webhook_payloads`). Xero's intent-to-receive
check sends empty batches signed rightly and wrongly; the wrong ones fail here like any forgery (401), and the right
ones are recognised by the connector as handshakes once parsed (`connectors.base.WebhookHandshake`). Several keys may
be valid while one is replaced; each is compared with `hmac.compare_digest`, without stopping early.
"""

import base64
import binascii
import hashlib
import hmac
from collections.abc import Sequence
from typing import Final

from webhooks.constants import BODY_DIGEST_PREFIX, MAX_SIGNATURE_HEADER_LENGTH
from webhooks.verifiers.base import Accepted, SignatureRejected, SignedRequest, Verdict

XERO_SIGNATURE_SCHEME: Final = "x-xero-signature"
"""The scheme's name, as Xero's spec names it (`webhook_scheme`)."""
XERO_SIGNATURE_HEADER: Final = "x-xero-signature"


def _offered(header: str) -> bytes:
    if len(header) > MAX_SIGNATURE_HEADER_LENGTH:
        raise SignatureRejected(f"The {XERO_SIGNATURE_HEADER} header is too long to be a signature.")
    try:
        return base64.b64decode(header.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise SignatureRejected(f"The {XERO_SIGNATURE_HEADER} header is not base64.") from None


class XeroSignatureVerifier:
    scheme = XERO_SIGNATURE_SCHEME

    def verify(self, request: SignedRequest, secrets: Sequence[str]) -> Verdict:
        header = request.headers.get(XERO_SIGNATURE_HEADER, "")
        if not header:
            raise SignatureRejected(f"Missing the {XERO_SIGNATURE_HEADER} header.", problem="missing-signature")
        offered = _offered(header)
        matched = False
        for secret in secrets:
            expected = hmac.new(secret.encode(), request.body, hashlib.sha256).digest()
            matched |= hmac.compare_digest(expected, offered)
        if not matched:
            raise SignatureRejected(
                f"The {XERO_SIGNATURE_HEADER} does not match the body signed with the app's webhook key."
            )
        return Accepted(event_id=BODY_DIGEST_PREFIX + hashlib.sha256(request.body).hexdigest())
