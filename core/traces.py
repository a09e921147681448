"""How a document line names the source expenses behind it: as whole words of a text field the destination keeps.

Connectors write a line's expense ids into such a field (Intacct: the line memo) and the books check finds them
there again; both read words the same way, here.
"""

import re

_WORD = re.compile(r"[\w-]+")


def trace_words(text: str) -> frozenset[str]:
    """The words of `text` that could be ids: runs of letters, digits, `_` and `-` (so `tx-1` stays whole)."""
    return frozenset(_WORD.findall(text))


def traced(text: str | None, source_ids: tuple[str, ...]) -> str:
    """`text` led by every id of `source_ids` it does not already name as a word (a tenant's template may leave
    the id out); ids first, so cutting the text to a field's length never cuts them."""
    named = trace_words(text or "")
    missing = [source for source in source_ids if source not in named]
    return " ".join([*missing, *([text] if text else [])])
