"""Whether the document an item first sent still matches what the settings and mappings build now.

An item whose earlier send may have reached the destination is resent exactly as first sent (DESIGN.md,
"Exactly-once effect"): silently sending a rebuilt document under the same key could leave the books holding either
version. When the two differ, the item says so, for a person to decide (edit the document in the destination, or
"export again" once it is settled).
"""

from typing import Any

from core.document_codec import document_to_json
from core.domain import Document
from core.errors import LedgerlineError

IGNORED_FIELDS = frozenset({"reference"})
"""Fields that cannot differ meaningfully: the reference is the item's key either way."""


def document_drift(sent: dict[str, Any], rebuilt: Document | None, error: LedgerlineError | None) -> str | None:
    """None when the rebuilt document equals the one sent; else a sentence naming what changed."""
    if rebuilt is None:
        reason = error.message if error is not None else "it cannot be built"
        return f"The settings or mappings changed since this document was first sent, and now {reason}. " + _RESENT
    before, now = _comparable(sent), _comparable(document_to_json(rebuilt))
    changed = sorted(
        name for name in before.keys() | now.keys() if name not in IGNORED_FIELDS and before.get(name) != now.get(name)
    )
    if not changed:
        return None
    return (
        f"The settings or mappings changed since this document was first sent ({', '.join(changed)} would now "
        "differ). " + _RESENT
    )


def _comparable(data: dict[str, Any]) -> dict[str, Any]:
    """`data` without empty fields, at the top and in its lines: a field added to documents since one was stored
    (`base_currency`, a line's `base_amount`) is absent from it, which is no difference when it is empty now (or,
    for the base currency, the document's own)."""
    kept = {name: value for name, value in data.items() if value is not None}
    if kept.get("base_currency") == kept.get("currency"):  # booked as it is sent: says nothing more
        kept.pop("base_currency", None)
    if isinstance(kept.get("lines"), list):
        kept["lines"] = [
            {name: value for name, value in line.items() if value is not None} if isinstance(line, dict) else line
            for line in kept["lines"]
        ]
    return kept


_RESENT = "Until its first send is settled, it is sent again exactly as first sent."
