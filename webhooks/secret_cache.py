"""Decrypted webhook secrets, kept briefly in process memory so the hot path does not open the vault each time.

Keyed by the ciphertext itself: a rotation writes a new ciphertext (Fernet tokens are never equal), so the next
delivery misses and sees the new secrets at once; no version column and no cross-process invalidation are needed.
The TTL only bounds how long plaintext secrets linger in memory.
"""

import time
from collections.abc import Callable

from core.crypto import CredentialVault
from sync.webhook_secrets import WebhookSecret, unseal
from webhooks.constants import SECRET_CACHE_MAX_ENTRIES, SECRET_CACHE_TTL_SECONDS


class SecretCache:
    def __init__(
        self,
        vault: CredentialVault,
        *,
        ttl_seconds: float = SECRET_CACHE_TTL_SECONDS,
        max_entries: int = SECRET_CACHE_MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._vault = vault
        self._ttl = ttl_seconds
        self._max = max_entries
        self._clock = clock
        self._entries: dict[bytes, tuple[float, list[WebhookSecret]]] = {}

    def secrets(self, token: bytes) -> list[WebhookSecret]:
        now = self._clock()
        cached = self._entries.get(token)
        if cached is not None and cached[0] > now:
            return cached[1]
        opened = unseal(self._vault, token)
        self._entries.pop(token, None)
        if len(self._entries) >= self._max:
            # Oldest first (insertion order); expired entries go with them.
            for stale in list(self._entries)[: max(1, self._max // 8)]:
                del self._entries[stale]
        self._entries[token] = (now + self._ttl, opened)
        return opened

    def clear(self) -> None:
        self._entries.clear()
