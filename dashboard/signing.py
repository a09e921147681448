"""Signed, timestamped cookie values: `base64url(json).timestamp.hmac`. HMAC-SHA256 over the settings' session
secret, with a salt per purpose so a value signed for one cookie is refused by every other."""

import base64
import binascii
import hashlib
import hmac
import json
import time
from typing import Any


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: bytes, salt: bytes, message: str) -> str:
    key = hmac.new(secret, salt, hashlib.sha256).digest()
    return _b64(hmac.new(key, message.encode(), hashlib.sha256).digest())


def sign(secret: bytes, salt: bytes, payload: dict[str, Any], *, now: float | None = None) -> str:
    body = _b64(json.dumps(payload, separators=(",", ":"), sort_keys=True).encode())
    message = f"{body}.{int(now if now is not None else time.time())}"
    return f"{message}.{_mac(secret, salt, message)}"


def unsign(secret: bytes, salt: bytes, value: str, *, max_age: int, now: float | None = None) -> dict[str, Any] | None:
    """The payload, or None when the value is forged, malformed or older than `max_age` seconds."""
    body, _, rest = value.partition(".")
    stamp, _, mac = rest.partition(".")
    if not body or not stamp.isdigit() or not mac:
        return None
    if not hmac.compare_digest(mac, _mac(secret, salt, f"{body}.{stamp}")):
        return None
    age = (now if now is not None else time.time()) - int(stamp)
    if age < 0 or age > max_age:
        return None
    try:
        payload = json.loads(_unb64(body))
    except (ValueError, binascii.Error):
        return None
    return payload if isinstance(payload, dict) else None
