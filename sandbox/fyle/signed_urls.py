"""Short-lived signed URLs for file contents, the simulator's stand-in for S3 pre-signed URLs.

`{base}/storage/{file_id}?action=upload|download&expires=<unix>&signature=<hex>`; the signature is an HMAC over the
file id, action and expiry with a key that lives as long as the process, so a download URL cannot upload.
"""

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from typing import Literal
from urllib.parse import urlencode

from sandbox.fyle.constants import SIGNED_URL_TTL_SECONDS, STORAGE_PREFIX

Action = Literal["upload", "download"]


class UrlSigner:
    def __init__(self) -> None:
        self._key = secrets.token_bytes(32)

    def _signature(self, file_id: str, action: str, expires: int) -> str:
        return hmac.new(self._key, f"{file_id}:{action}:{expires}".encode(), hashlib.sha256).hexdigest()

    def url(self, base: str, file_id: str, action: Action, now: datetime) -> str:
        expires = int((now + timedelta(seconds=SIGNED_URL_TTL_SECONDS)).timestamp())
        query = urlencode(
            {"action": action, "expires": expires, "signature": self._signature(file_id, action, expires)}
        )
        return f"{base}{STORAGE_PREFIX}/{file_id}?{query}"

    def verify(self, file_id: str, action: Action, expires: str, signature: str, now: datetime) -> str | None:
        """None when the URL is good, else why it is refused (S3 answers 403 AccessDenied either way)."""
        if not expires.isdigit():
            return "Invalid expiry"
        if not hmac.compare_digest(self._signature(file_id, action, int(expires)), signature):
            return "The request signature we calculated does not match the signature you provided"
        if now.timestamp() > int(expires):
            return "Request has expired"
        return None
