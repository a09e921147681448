"""Inbound webhooks: verified, stored once, then dispatched through the queue (DESIGN.md, "Webhooks in").

The HTTP router is `webhooks.router.router` (imported by the app factory directly: it depends on `api`, which in
turn uses the secret helpers here, so this package's top level stays free of `api` imports).
"""

from webhooks.constants import PROCESS_JOB, PROCESS_JOB_ID
from webhooks.providers import PROVIDERS, WebhookProvider
from webhooks.secrets import WebhookSecret, drop_previous, new_secret, rotate, seal, unseal, valid_secrets
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
    "WebhookSecret",
    "drop_previous",
    "new_secret",
    "rotate",
    "seal",
    "unseal",
    "valid_secrets",
]
