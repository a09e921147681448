"""Signature schemes of inbound webhooks, found by name.

Standard Webhooks is ours; every other scheme an installed connector's spec names (`webhook_scheme`: QuickBooks'
`intuit-signature`, Xero's `x-xero-signature`) is a body signature in the header of that name (`BodyHmacVerifier`).
"""

from collections.abc import Mapping
from types import MappingProxyType

from connectors.registry import available_systems, connector_class
from webhooks.constants import STANDARD_WEBHOOKS_SCHEME
from webhooks.verifiers.base import Accepted, Handshake, SignatureRejected, SignedRequest, Verdict, Verifier
from webhooks.verifiers.body_hmac import BodyHmacVerifier
from webhooks.verifiers.standard import StandardWebhooksVerifier


def _verifiers() -> Mapping[str, Verifier]:
    schemes = {connector_class(system).spec.webhook_scheme for system in available_systems()}
    body_signed = sorted(scheme for scheme in schemes if scheme and scheme != STANDARD_WEBHOOKS_SCHEME)
    verifiers: list[Verifier] = [StandardWebhooksVerifier(), *(BodyHmacVerifier(scheme) for scheme in body_signed)]
    return MappingProxyType({verifier.scheme: verifier for verifier in verifiers})


VERIFIERS = _verifiers()

__all__ = [
    "VERIFIERS",
    "Accepted",
    "BodyHmacVerifier",
    "Handshake",
    "SignatureRejected",
    "SignedRequest",
    "StandardWebhooksVerifier",
    "Verdict",
    "Verifier",
]
