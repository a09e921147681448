"""Where a document keeps Ledgerline's reference, and the keys requests are sent under.

A reference fits whole in a bill's InvoiceNumber, a spend money transaction's or a payment's Reference (255
characters) and a manual journal's Narration, so each holds it exactly and a lookup filters on equality (Xero does
not enforce InvoiceNumber's uniqueness on bills, so Ledgerline's lookup before a resend is what keeps it unique).
A reference longer than the field (none Ledgerline makes today) is stored as `LL` and a digest of it, the same on
every write and lookup.

The Idempotency-Key of a PUT of many documents derives from their references and generations, in any order: a
resend of an unsettled batch repeats it, a settled document's next generation gets a new one.
"""

import hashlib
from collections.abc import Sequence

from connectors.xero.constants import (
    IDEMPOTENCY_HEX,
    IDEMPOTENCY_PREFIX,
    MAX_REFERENCE_LENGTH,
    REFERENCE_DIGEST_PREFIX,
)


def stored_reference(reference: str) -> str:
    """What the document's reference field holds for `reference`."""
    if len(reference) <= MAX_REFERENCE_LENGTH:
        return reference
    return REFERENCE_DIGEST_PREFIX + hashlib.sha256(reference.encode()).hexdigest().upper()


def idempotency_key(members: Sequence[tuple[str, int]]) -> str:
    """The key of a request writing these (reference, generation) pairs."""
    digest = hashlib.sha256(
        "\n".join(sorted(f"{reference}:{generation}" for reference, generation in members)).encode()
    )
    return IDEMPOTENCY_PREFIX + digest.hexdigest()[:IDEMPOTENCY_HEX]


def for_collection(key: str, collection: str) -> str:
    """The header sent for the part of a request key's documents that goes to one collection (a batch of bills and
    spend money goes as two PUTs): derived, so a resend sends each part under the same header again."""
    return f"{key}:{collection}"
