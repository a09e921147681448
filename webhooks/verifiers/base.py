"""What a signature scheme must provide: one method that turns a signed request into a verdict.

A scheme is told the request and the connection's valid secrets, and answers one of:

- `Accepted(event_id)`: the signature holds; store the event under this id (the sender's, so redeliveries
  deduplicate). Schemes without an id header derive one from the body, after its signature holds.
- `Handshake(status)`: a protocol message that is answered, not stored, recognisable from the signed request alone.
  (A handshake told apart only by its payload, such as an intent-to-receive check sending an empty batch, is the
  connector's to recognise once parsed: `connectors.base.WebhookHandshake`; a mis-signed one is refused here.)

or raises `SignatureRejected` with a human reason. Verification is pure (no I/O) and must compare in constant time.
It sees the raw bytes only: nothing a sender has not proven is parsed (the ingress parses JSON after a verdict).
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class SignedRequest:
    """A delivery as the verifier sees it: lower-cased headers and the raw body bytes, not yet parsed."""

    headers: Mapping[str, str]
    body: bytes
    now: float
    """Seconds since the epoch, passed in so tests and the timestamp check agree on one clock."""


@dataclass(frozen=True, slots=True)
class Accepted:
    event_id: str


@dataclass(frozen=True, slots=True)
class Handshake:
    status: int


Verdict = Accepted | Handshake


class SignatureRejected(Exception):
    """The delivery is not proven to come from the sender. `reason` is safe to return to the caller."""

    def __init__(self, reason: str, *, problem: str = "invalid-signature") -> None:
        super().__init__(reason)
        self.reason = reason
        self.problem = problem


class Verifier(Protocol):
    scheme: str

    def verify(self, request: SignedRequest, secrets: Sequence[str]) -> Verdict:
        """A verdict for `request` signed with any of `secrets`, or `SignatureRejected`."""
        ...
