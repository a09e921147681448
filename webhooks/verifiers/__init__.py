"""Signature schemes of inbound webhooks, one module each, found by name.

Adding a system's scheme (QuickBooks' `intuit-signature`, Xero's `x-xero-signature` with intent-to-receive) is one
module implementing `Verifier.verify` plus one line here; `webhooks.providers` says which provider uses which.
"""

from collections.abc import Mapping
from types import MappingProxyType

from webhooks.verifiers.base import Accepted, Handshake, SignatureRejected, SignedRequest, Verdict, Verifier
from webhooks.verifiers.intuit import IntuitSignatureVerifier
from webhooks.verifiers.standard import StandardWebhooksVerifier
from webhooks.verifiers.xero import XeroSignatureVerifier

VERIFIERS: Mapping[str, Verifier] = MappingProxyType(
    {
        verifier.scheme: verifier
        for verifier in (StandardWebhooksVerifier(), IntuitSignatureVerifier(), XeroSignatureVerifier())
    }
)

__all__ = [
    "VERIFIERS",
    "Accepted",
    "Handshake",
    "IntuitSignatureVerifier",
    "SignatureRejected",
    "SignedRequest",
    "StandardWebhooksVerifier",
    "Verdict",
    "Verifier",
    "XeroSignatureVerifier",
]
