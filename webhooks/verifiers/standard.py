"""Standard Webhooks: `webhook-id`, `webhook-timestamp`, `webhook-signature` (`v1,<base64 HMAC-SHA256>` entries,
space-separated), secrets `whsec_<base64>`. Used by Fyle and by generic senders.

Several secrets may be valid at once (rotation) and a sender may send several signatures; the delivery passes if
any signature matches any secret. Every pair is compared with `hmac.compare_digest`, without stopping early.
"""

import base64
import binascii
import hashlib
import hmac
from collections.abc import Sequence

from sync.constants import SECRET_PREFIX
from webhooks.constants import (
    MAX_SIGNATURES_PER_HEADER,
    STANDARD_ID_HEADER,
    STANDARD_SIGNATURE_HEADER,
    STANDARD_SIGNATURE_VERSION,
    STANDARD_TIMESTAMP_HEADER,
    STANDARD_WEBHOOKS_SCHEME,
    TIMESTAMP_TOLERANCE_SECONDS,
)
from webhooks.verifiers.base import Accepted, SignatureRejected, SignedRequest, Verdict


def secret_key(secret: str) -> bytes:
    """The HMAC key of a `whsec_…` secret (base64, padding optional, as the reference library accepts)."""
    encoded = secret.removeprefix(SECRET_PREFIX)
    try:
        return base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except (binascii.Error, ValueError):
        return secret.encode()


def _signatures(header: str) -> list[bytes]:
    found: list[bytes] = []
    for entry in header.split(" ")[:MAX_SIGNATURES_PER_HEADER]:
        version, _, encoded = entry.partition(",")
        if version != STANDARD_SIGNATURE_VERSION or not encoded:
            continue
        try:
            found.append(base64.b64decode(encoded, validate=True))
        except (binascii.Error, ValueError):
            continue
    return found


def _check_timestamp(raw: str, now: float) -> None:
    if not raw.isascii() or not raw.isdigit() or len(raw) > 12:
        raise SignatureRejected(
            f"The {STANDARD_TIMESTAMP_HEADER} header must be whole seconds since the epoch.",
            problem="invalid-timestamp",
        )
    stamp = int(raw)
    if stamp < now - TIMESTAMP_TOLERANCE_SECONDS:
        raise SignatureRejected(
            f"The delivery was signed more than {TIMESTAMP_TOLERANCE_SECONDS // 60} minutes ago; it may be a replay. "
            "Check the sender's clock, or send it again with a fresh signature.",
            problem="stale-timestamp",
        )
    if stamp > now + TIMESTAMP_TOLERANCE_SECONDS:
        raise SignatureRejected(
            f"The delivery is signed more than {TIMESTAMP_TOLERANCE_SECONDS // 60} minutes in the future; check the "
            "sender's clock.",
            problem="future-timestamp",
        )


class StandardWebhooksVerifier:
    scheme = STANDARD_WEBHOOKS_SCHEME

    def verify(self, request: SignedRequest, secrets: Sequence[str]) -> Verdict:
        event_id = request.headers.get(STANDARD_ID_HEADER, "")
        raw_timestamp = request.headers.get(STANDARD_TIMESTAMP_HEADER, "")
        header = request.headers.get(STANDARD_SIGNATURE_HEADER, "")
        missing = [
            name
            for name, value in (
                (STANDARD_ID_HEADER, event_id),
                (STANDARD_TIMESTAMP_HEADER, raw_timestamp),
                (STANDARD_SIGNATURE_HEADER, header),
            )
            if not value
        ]
        if missing:
            raise SignatureRejected(
                f"Missing Standard Webhooks header(s): {', '.join(missing)}.", problem="missing-signature"
            )
        _check_timestamp(raw_timestamp, request.now)
        offered = _signatures(header)
        signed = f"{event_id}.{raw_timestamp}.".encode() + request.body
        matched = False
        for secret in secrets:
            expected = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
            for signature in offered:
                matched |= hmac.compare_digest(expected, signature)
        if not matched:
            raise SignatureRejected(
                "The webhook-signature does not match the body signed with any of this connection's secrets."
            )
        return Accepted(event_id=event_id)
