"""Body signatures in one header: base64(HMAC-SHA256(the app's key, raw body)), the scheme named after its header.

QuickBooks' `intuit-signature` and Xero's `x-xero-signature` are this scheme; a connector's spec names it
(`webhook_scheme`), so no system is written here. The header carries neither an id nor a timestamp, so there is no
replay window: a replayed delivery is a redelivery, and its events deduplicate (the app-level ingress derives an id
per account part, `webhooks.app_ingress`). Xero's intent-to-receive batches signed wrongly fail here like any
forgery (401); rightly signed ones are recognised by the connector once parsed (`connectors.base.WebhookHandshake`).
Several keys may be valid while one is replaced; each is compared with `hmac.compare_digest`, without stopping early.
"""

import base64
import binascii
import hashlib
import hmac
from collections.abc import Sequence

from webhooks.constants import BODY_DIGEST_PREFIX, MAX_SIGNATURE_HEADER_LENGTH
from webhooks.verifiers.base import Accepted, SignatureRejected, SignedRequest, Verdict


class BodyHmacVerifier:
    def __init__(self, header: str) -> None:
        self.scheme = header
        self.header = header

    def _offered(self, value: str) -> bytes:
        if len(value) > MAX_SIGNATURE_HEADER_LENGTH:
            raise SignatureRejected(f"The {self.header} header is too long to be a signature.")
        try:
            return base64.b64decode(value.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise SignatureRejected(f"The {self.header} header is not base64.") from None

    def verify(self, request: SignedRequest, secrets: Sequence[str]) -> Verdict:
        value = request.headers.get(self.header, "")
        if not value:
            raise SignatureRejected(f"Missing the {self.header} header.", problem="missing-signature")
        offered = self._offered(value)
        matched = False
        for secret in secrets:
            expected = hmac.new(secret.encode(), request.body, hashlib.sha256).digest()
            matched |= hmac.compare_digest(expected, offered)
        if not matched:
            raise SignatureRejected(f"The {self.header} does not match the body signed with the app's webhook key.")
        return Accepted(event_id=BODY_DIGEST_PREFIX + hashlib.sha256(request.body).hexdigest())
