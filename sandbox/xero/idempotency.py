"""Xero's `Idempotency-Key` on PUT and POST: the first answer to a key is kept per organisation (for the life of
the simulator's state, longer than Xero's own hours, so tests never see a key forgotten). A repeat with the same
method, path, query and body gets that answer again and runs nothing; the same key with anything different is
refused with a 400. The control API counts, per key, how often a request ran and how often it was replayed."""

import hashlib
from dataclasses import dataclass

from starlette.responses import JSONResponse

from sandbox.xero.errors import XeroError

MISMATCH_MESSAGE = "The idempotency key has already been used for a different request."


@dataclass(slots=True)
class Remembered:
    fingerprint: str
    status: int
    body: bytes
    media_type: str
    runs: int = 1
    replays: int = 0


def fingerprint(method: str, path: str, query: str, body: bytes) -> str:
    digest = hashlib.sha256()
    for part in (method.upper(), path.lower(), query, ""):
        digest.update(part.encode() + b"\x00")
    digest.update(body)
    return digest.hexdigest()


def mismatch() -> XeroError:
    body = {"ErrorNumber": 10, "Type": "ValidationException", "Message": MISMATCH_MESSAGE}
    return XeroError(JSONResponse(body, 400))


class IdempotencyBook:
    def __init__(self) -> None:
        self.entries: dict[tuple[str, str], Remembered] = {}

    def find(self, tenant_id: str, key: str, print_: str) -> Remembered | None:
        """The remembered answer for a repeat; a different request under the key raises Xero's refusal."""
        entry = self.entries.get((tenant_id, key))
        if entry is None:
            return None
        if entry.fingerprint != print_:
            raise mismatch()
        entry.replays += 1
        return entry

    def remember(self, tenant_id: str, key: str, print_: str, status: int, body: bytes, media_type: str) -> None:
        self.entries[(tenant_id, key)] = Remembered(print_, status, body, media_type)

    def counts(self, tenant_id: str) -> dict[str, dict[str, int]]:
        return {
            key: {"runs": entry.runs, "replays": entry.replays, "status": entry.status}
            for (tenant, key), entry in self.entries.items()
            if tenant == tenant_id
        }
