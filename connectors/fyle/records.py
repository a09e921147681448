"""Fyle JSON → `SourceItem`. The raw object is kept whole as `data`; only identity, cursor and state are read out.

Amounts stay as Fyle sent them inside `data` (JSON numbers); whoever turns one into money reads it as
`Decimal(str(value))`, never through float arithmetic.
"""

from datetime import UTC, datetime
from typing import Any

import httpx

from connectors.fyle.constants import CURSOR_FIELD
from connectors.http import response_excerpt
from connectors.pagination import Page
from core.domain import RecordKind, SourceItem
from core.errors import Transient

FyleObject = dict[str, Any]


def page_of(response: httpx.Response) -> Page[FyleObject]:
    """One list answer, `{count, offset, data}`. A body of another shape is a broken answer, worth a retry."""
    try:
        body = response.json()
        return Page(records=body["data"], total=body["count"])
    except (ValueError, KeyError, TypeError) as exc:
        raise Transient(
            "Fyle answered a list request with an unreadable body.",
            code="malformed_page",
            hint="The page is requested again on the next attempt.",
            response=response_excerpt(response),
        ) from exc


def timestamp(value: str) -> datetime:
    """Fyle's ISO 8601 (`2021-09-30T11:00:57.000Z`, `…+00:00`), always timezone-aware (UTC when unmarked)."""
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def source_item(kind: RecordKind, raw: FyleObject) -> SourceItem:
    """An expense belongs to its report (`parent_remote_id`); expenses and reports carry Fyle's `state`."""
    return SourceItem(
        kind=kind,
        remote_id=str(raw["id"]),
        updated_at=timestamp(raw[CURSOR_FIELD]),
        data=raw,
        parent_remote_id=raw.get("report_id") if kind is RecordKind.EXPENSE else None,
        state=raw.get("state"),
    )


def since_filter(since: datetime) -> str:
    """`updated_at=gte.<since>` in UTC, to the microsecond Fyle stores (a coarser bound would still be safe)."""
    if since.tzinfo is None:
        raise ValueError("a stream cursor must be timezone-aware")
    return f"gte.{since.astimezone(UTC).isoformat()}"


def keyset_token(records: list[FyleObject], *, boundary: datetime | None, skipped: int, limit: int) -> str | None:
    """Where the next page starts: the last `updated_at` seen and how many records at exactly that moment were
    already read. Offsets alone would skip a record whenever one ahead of it is updated mid-stream (it moves to the
    end and everything shifts back); restarting from the last timestamp cannot."""
    if len(records) < limit:
        return None
    last = timestamp(records[-1][CURSOR_FIELD])
    ties = sum(1 for record in records if timestamp(record[CURSOR_FIELD]) == last)
    if last == boundary:
        ties += skipped
    return f"{last.isoformat()}|{ties}"


def parse_keyset(token: str) -> tuple[datetime, int]:
    moment, _, ties = token.rpartition("|")
    return datetime.fromisoformat(moment), int(ties)
