"""Inbound webhooks over HTTP: verified over their raw bytes, stored once before the answer, rung to the queue
(DESIGN.md, "Webhooks in"). What an event then starts, and its signing secrets, live below in `sync`.

The HTTP router is `webhooks.router.router`, imported by the app factory.
"""

from webhooks.constants import PROCESS_JOB, PROCESS_JOB_ID
from webhooks.providers import PROVIDERS, WebhookProvider
from webhooks.verifiers import VERIFIERS, Accepted, Handshake, SignatureRejected, SignedRequest, Verifier

__all__ = [
    "PROCESS_JOB",
    "PROCESS_JOB_ID",
    "PROVIDERS",
    "VERIFIERS",
    "Accepted",
    "Handshake",
    "SignatureRejected",
    "SignedRequest",
    "Verifier",
    "WebhookProvider",
]
