"""Is a session secret strong enough to sign cookies that open every tenant's data?

Anyone who knows or guesses the secret can sign cookies offline, at leisure, so it must be as strong as a random
256-bit key. A secret's randomness cannot be measured, only bounded: its length times the bits per character of the
smallest usual alphabet it is written in (hex, base64, …) is the most it can hold. A value below that bound, a
known placeholder, or a value made of a handful of distinct characters is refused.
"""

import math
import string

from core.constants import (
    SECRET_PLACEHOLDER_MARKERS,
    SECRET_PLACEHOLDERS,
    SESSION_SECRET_MIN_BITS,
    SESSION_SECRET_MIN_DISTINCT_CHARACTERS,
)

_ALPHABETS: tuple[frozenset[str], ...] = tuple(
    frozenset(alphabet)
    for alphabet in (
        string.digits,
        string.hexdigits.lower(),
        string.hexdigits.upper(),
        string.ascii_lowercase,
        string.ascii_uppercase,
        string.ascii_lowercase + string.digits,
        string.ascii_uppercase + string.digits,
        string.ascii_letters + string.digits,
        string.ascii_letters + string.digits + "+/-_",
        string.printable.strip(),
    )
)
_PADDING = "="


def _bits_per_character(text: str) -> float:
    used = set(text)
    for alphabet in _ALPHABETS:
        if used <= alphabet:
            return math.log2(len(alphabet))
    return math.log2(len(set(string.printable.strip()) | used))


def weak_session_secret(value: str) -> str | None:
    """Why `value` must not sign sessions (never quoting it), or None when it may."""
    normalized = value.strip().lower()
    if normalized in SECRET_PLACEHOLDERS or any(marker in normalized for marker in SECRET_PLACEHOLDER_MARKERS):
        return "it is a published placeholder or development value"
    body = value.strip().rstrip(_PADDING)
    if len(set(body)) < SESSION_SECRET_MIN_DISTINCT_CHARACTERS:
        return "it repeats too few distinct characters to be random"
    if len(body) * _bits_per_character(body) < SESSION_SECRET_MIN_BITS:
        return f"it is shorter than {SESSION_SECRET_MIN_BITS // 8} random bytes"
    return None
