"""Paginators: small strategies that turn "fetch one page" into an async stream of pages.

Each holds at most one page at a time, so a 100,000-record stream costs one page of memory. Each detects
loops — a continuation token seen twice (cursors, links), or the same page served twice in a row — and raises
`PaginationLoop` instead of paging forever.
"""

from collections.abc import AsyncIterator, Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from connectors.constants import MAX_PAGES
from connectors.spec import PaginationSpec, PaginationStyle
from core.errors import Transient

Record = TypeVar("Record")


class PaginationLoop(Transient):
    """The system served the same page or continuation again: stop rather than loop forever."""

    def __init__(self, message: str) -> None:
        super().__init__(message, code="pagination_loop", hint="The system's paging went round in a circle.")


@dataclass(frozen=True, slots=True)
class Page(Generic[Record]):
    records: Sequence[Record]
    next_token: str | None = None
    """Cursor, next-page URL or resultId: what to send for the following page (None: no more)."""
    total: int | None = None


@dataclass(frozen=True, slots=True)
class PageRequest:
    """What a fetcher is asked for. Offset/page styles use the numbers; token styles use `token`."""

    offset: int
    limit: int
    page_number: int
    token: str | None


PageFetcher = Callable[[PageRequest], Awaitable[Page[Record]]]
RecordKey = Callable[[Record], Hashable]


class Paginator(Generic[Record]):
    """Walks pages in the spec's style. `key` identifies a record, for detecting a page served twice."""

    def __init__(self, spec: PaginationSpec, *, key: RecordKey[Record], page_size: int | None = None) -> None:
        self.style = spec.style
        self.page_size = min(page_size or spec.page_size, spec.max_page_size)
        self._key = key

    async def pages(self, fetch: PageFetcher[Record]) -> AsyncIterator[Page[Record]]:
        offset, page_number, token = 0, 1, None
        seen_tokens: set[str] = set()
        previous: tuple[Hashable, ...] | None = None
        for _ in range(MAX_PAGES):
            page = await fetch(PageRequest(offset=offset, limit=self.page_size, page_number=page_number, token=token))
            if not page.records:
                return
            fingerprint = (len(page.records), self._key(page.records[0]), self._key(page.records[-1]))
            if fingerprint == previous:
                raise PaginationLoop(f"page {page_number} repeats the page before it")
            previous = fingerprint
            yield page
            offset += len(page.records)
            page_number += 1
            if self.style in (PaginationStyle.OFFSET, PaginationStyle.PAGE):
                if len(page.records) < self.page_size or (page.total is not None and offset >= page.total):
                    return
                continue
            if page.next_token is None:
                return
            if page.next_token in seen_tokens and self.style is not PaginationStyle.RESULT_ID:
                # A resultId names the whole result set and stays the same on every readMore.
                raise PaginationLoop(f"continuation {page.next_token[:40]!r} was already followed")
            seen_tokens.add(page.next_token)
            token = page.next_token
        raise PaginationLoop(f"more than {MAX_PAGES} pages")

    async def records(self, fetch: PageFetcher[Record]) -> AsyncIterator[Record]:
        async for page in self.pages(fetch):
            for record in page.records:
                yield record


def next_link(link_header: str | None) -> str | None:
    """The `rel="next"` target of an RFC 8288 Link header."""
    if not link_header:
        return None
    for part in link_header.split(","):
        target, _, params = part.partition(";")
        if 'rel="next"' in params.replace(" ", "") or "rel=next" in params.replace(" ", ""):
            return target.strip().strip("<>")
    return None
