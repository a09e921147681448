"""Paginators stream every record once, stop where each style says, and refuse to loop."""

import pytest

from connectors.pagination import Page, PageRequest, PaginationLoop, Paginator, next_link
from connectors.spec import PaginationSpec, PaginationStyle

RECORDS = [f"r{index:03d}" for index in range(25)]


def paginator(style: PaginationStyle, size: int = 10) -> Paginator[str]:
    return Paginator(PaginationSpec(style=style, page_size=size, max_page_size=100), key=lambda record: record)


async def collect(pages: Paginator[str], fetch) -> list[str]:  # type: ignore[no-untyped-def]
    return [record async for record in pages.records(fetch)]


async def test_offset_style_reads_every_record_and_stops_on_a_short_page() -> None:
    asked: list[tuple[int, int]] = []

    async def fetch(request: PageRequest) -> Page[str]:
        asked.append((request.offset, request.limit))
        return Page(RECORDS[request.offset : request.offset + request.limit], total=len(RECORDS))

    assert await collect(paginator(PaginationStyle.OFFSET), fetch) == RECORDS
    assert asked == [(0, 10), (10, 10), (20, 10)]


async def test_page_style_counts_pages_from_one() -> None:
    async def fetch(request: PageRequest) -> Page[str]:
        start = (request.page_number - 1) * request.limit
        return Page(RECORDS[start : start + request.limit])

    assert await collect(paginator(PaginationStyle.PAGE), fetch) == RECORDS


@pytest.mark.parametrize("style", [PaginationStyle.CURSOR, PaginationStyle.LINK, PaginationStyle.RESULT_ID])
async def test_token_styles_follow_the_continuation_until_there_is_none(style: PaginationStyle) -> None:
    async def fetch(request: PageRequest) -> Page[str]:
        start = int(request.token or 0)
        end = start + 10
        return Page(RECORDS[start:end], next_token=str(end) if end < len(RECORDS) else None)

    assert await collect(paginator(style), fetch) == RECORDS


async def test_a_repeated_continuation_is_a_loop() -> None:
    async def fetch(request: PageRequest) -> Page[str]:
        start = 0 if request.token is None else 10
        return Page(RECORDS[start : start + 10], next_token="same")

    with pytest.raises(PaginationLoop, match="already followed"):
        await collect(paginator(PaginationStyle.CURSOR), fetch)


async def test_the_same_page_served_twice_is_a_loop() -> None:
    async def fetch(request: PageRequest) -> Page[str]:
        return Page(RECORDS[:10], total=1000)  # ignores the offset

    with pytest.raises(PaginationLoop, match="repeats"):
        await collect(paginator(PaginationStyle.OFFSET), fetch)


async def test_the_page_size_is_capped_by_the_spec() -> None:
    spec = PaginationSpec(style=PaginationStyle.OFFSET, page_size=10, max_page_size=50)
    assert Paginator(spec, key=str, page_size=500).page_size == 50


def test_link_headers_give_the_next_target() -> None:
    header = '<https://api.x.test/items?page=2>; rel="next", <https://api.x.test/items?page=9>; rel="last"'
    assert next_link(header) == "https://api.x.test/items?page=2"
    assert next_link('<https://api.x.test/items?page=9>; rel="last"') is None
    assert next_link(None) is None


async def test_a_result_id_may_stay_the_same_while_pages_progress() -> None:
    async def fetch(request: PageRequest) -> Page[str]:
        return Page(
            RECORDS[request.offset : request.offset + 10], next_token="result-set-1" if request.offset < 20 else None
        )

    assert await collect(paginator(PaginationStyle.RESULT_ID), fetch) == RECORDS
