"""Text of QuickBooks' query language (`SELECT * FROM Bill WHERE … ORDERBY Id STARTPOSITION 1 MAXRESULTS 1000`).

Every value goes in through `quoted`; object and field names come only from this package's own constants."""

from collections.abc import Sequence


def quoted(value: str) -> str:
    """A string literal: quotes and backslashes escaped, so no value can end the literal."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def select(
    object_name: str,
    conditions: Sequence[str] = (),
    *,
    order_by: str | None = None,
    start: int | None = None,
    limit: int | None = None,
) -> str:
    parts = [f"SELECT * FROM {object_name}"]  # noqa: S608 - a name of ours; values are `quoted`
    if conditions:
        parts.append("WHERE " + " AND ".join(conditions))
    if order_by is not None:
        parts.append(f"ORDERBY {order_by}")
    if start is not None:
        parts.append(f"STARTPOSITION {start}")
    if limit is not None:
        parts.append(f"MAXRESULTS {limit}")
    return " ".join(parts)
