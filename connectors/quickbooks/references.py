"""Where a document keeps Ledgerline's reference, and how a lookup finds it again.

QuickBooks' DocNumber (the only reference field a query can filter on) holds at most 21 characters, fewer than a
reference; so DocNumber holds `LL` and 19 hex characters of the reference's digest (76 bits: no two references of
one company meet), and PrivateNote starts with the reference itself, for people and for a second check. The digest
also serves a batch item's `bId`, so an answer is matched to its document by name, never by position.
"""

import hashlib
import re

from connectors.quickbooks.constants import DOC_NUMBER_PREFIX, MAX_DOC_NUMBER_LENGTH, PRIVATE_NOTE_PREFIX

NAMED_REFERENCE = re.compile(r"[\w-]+")
"""What a reference is made of (`ll-` and hex digits; payments add `-paid`)."""


def doc_number(reference: str) -> str:
    digest = hashlib.sha256(reference.encode()).hexdigest().upper()
    return DOC_NUMBER_PREFIX + digest[: MAX_DOC_NUMBER_LENGTH - len(DOC_NUMBER_PREFIX)]


def private_note(reference: str, memo: str | None, *, max_length: int) -> str:
    """`Ledgerline <reference>`, then the memo, cut to QuickBooks' limit (the reference always stays whole)."""
    note = f"{PRIVATE_NOTE_PREFIX}{reference}"
    if memo:
        note = f"{note}\n{memo}"
    return note[:max_length]


def holds_reference(found: dict[str, object], reference: str) -> bool:
    """Whether a document found by DocNumber is the one with this reference: its PrivateNote names it (a person may
    have edited the note, or written after the reference; DocNumber still decides when the note no longer names any
    reference). The note names this reference when it follows the prefix up to a character no reference continues
    with (a space, a comma, the end of the line); another one when a different word does."""
    note = str(found.get("PrivateNote") or "")
    if not note.startswith(PRIVATE_NOTE_PREFIX):
        return True
    named = note[len(PRIVATE_NOTE_PREFIX) :]
    if named.startswith(reference) and not NAMED_REFERENCE.match(named, len(reference)):
        return True
    return NAMED_REFERENCE.match(named) is None
