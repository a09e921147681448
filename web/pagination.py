"""Opaque cursor pagination over a (created_at, id) keyset: stable under inserts, no OFFSET scans."""

import base64
import binascii
import json
import uuid
from datetime import datetime
from typing import Annotated, Any, TypeVar

from fastapi import Query
from pydantic import BaseModel
from sqlalchemy import Select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from web.constants import CURSOR_PARAMETER, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from web.problems import Problem

CursorQuery = Annotated[
    str | None,
    Query(
        alias=CURSOR_PARAMETER,
        description=(
            "Opaque: the `next_cursor` of the previous page, passed back unchanged. What it holds is not part of the "
            "contract; a cursor this API did not issue is answered 400."
        ),
    ),
]
"""Every list's cursor, declared once: an opaque string (`api.openapi_contract` adds its 400)."""


class PageParams(BaseModel):
    cursor: str | None = None
    limit: int = DEFAULT_PAGE_SIZE


def page_params(
    cursor: CursorQuery = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="Items per page.")] = DEFAULT_PAGE_SIZE,
) -> PageParams:
    return PageParams(cursor=cursor, limit=limit)


def encode_cursor(position: tuple[Any, ...] | None) -> str | None:
    if position is None:
        return None
    created_at, row_id = position
    raw = json.dumps([created_at.isoformat(), str(row_id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> tuple[datetime, uuid.UUID] | None:
    if cursor is None:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        created_at, row_id = json.loads(base64.urlsafe_b64decode(padded))
        return datetime.fromisoformat(created_at), uuid.UUID(row_id)
    except (ValueError, TypeError, binascii.Error) as exc:
        raise Problem(
            400, "The cursor is not one this API issued; start again without it.", problem="invalid-cursor"
        ) from exc


Row = TypeVar("Row")


async def newest_first(
    session: AsyncSession,
    query: Select[Row],
    *,
    at: InstrumentedAttribute[datetime],
    ident: InstrumentedAttribute[uuid.UUID],
    page: PageParams,
) -> tuple[list[Row], str | None]:
    """One page of `query`'s rows newest first by `(at, ident)`, and the cursor of the next page."""
    query = query.order_by(at.desc(), ident.desc()).limit(page.limit + 1)
    after = decode_cursor(page.cursor)
    if after is not None:
        query = query.where(tuple_(at, ident) < tuple_(*after))
    rows = list((await session.scalars(query)).all())
    if len(rows) <= page.limit:
        return rows, None
    last = rows[page.limit - 1]
    return rows[: page.limit], encode_cursor((getattr(last, at.key), getattr(last, ident.key)))
