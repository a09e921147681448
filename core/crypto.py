"""Credential vault: Fernet encryption at rest with a keyring, so keys can rotate without downtime.

The first key encrypts; every key decrypts. Rotation: put a new key first, run `ledgerline vault rotate` (re-encrypts
each row with the new key), then remove the old key.
"""

import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class VaultError(ValueError):
    """A ciphertext no configured key opens, or a key that is not a Fernet key. Never carries plaintext."""


class CredentialVault:
    def __init__(self, keys: list[str]) -> None:
        if not keys:
            raise VaultError("no vault key configured (LEDGERLINE_VAULT_KEYS)")
        try:
            self._fernet = MultiFernet([Fernet(key.encode()) for key in keys])
        except ValueError as exc:
            raise VaultError(
                "LEDGERLINE_VAULT_KEYS must hold url-safe base64 32-byte Fernet keys; make one with "
                "`ledgerline vault new-key`"
            ) from exc

    @staticmethod
    def new_key() -> str:
        return Fernet.generate_key().decode()

    def encrypt(self, secret: dict[str, Any]) -> bytes:
        return self._fernet.encrypt(json.dumps(secret, separators=(",", ":")).encode())

    def decrypt(self, token: bytes) -> dict[str, Any]:
        try:
            plaintext = self._fernet.decrypt(token)
        except InvalidToken as exc:
            raise VaultError("credentials cannot be decrypted with any configured vault key") from exc
        value: dict[str, Any] = json.loads(plaintext)
        return value

    def rotate(self, token: bytes) -> bytes:
        """The same secret, encrypted under the first key."""
        try:
            return self._fernet.rotate(token)
        except InvalidToken as exc:
            raise VaultError("credentials cannot be decrypted with any configured vault key") from exc
