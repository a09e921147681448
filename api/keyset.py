"""Keyset pages over filtered queries, and opaque cursors for lists ordered by a text key rather than a row."""

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Row, Select, tuple_
from sqlalchemy.orm import InstrumentedAttribute

from core.repository import TenantRepository
from web.problems import Problem


async def keyset_page(
    repository: TenantRepository,
    query: Select[*tuple[Any, ...]],
    *,
    order: tuple[InstrumentedAttribute[Any], InstrumentedAttribute[Any]],
    position: Callable[[Row[*tuple[Any, ...]]], tuple[Any, ...]],
    after: tuple[Any, ...] | None,
    limit: int,
) -> tuple[Sequence[Row[*tuple[Any, ...]]], tuple[Any, ...] | None]:
    """Rows of `query` in `order` (created_at, id) after a position, and the position to continue from."""
    query = query.order_by(*order).limit(limit + 1)
    if after is not None:
        query = query.where(tuple_(*order) > tuple_(*after))
    rows = (await repository.session.execute(query)).all()
    if len(rows) <= limit:
        return rows, None
    return rows[:limit], position(rows[limit - 1])


def _invalid_cursor() -> Problem:
    return Problem(400, "The cursor is not one this API issued; start again without it.", problem="invalid-cursor")


def encode_key_cursor(key: Sequence[str] | None) -> str | None:
    if key is None:
        return None
    return base64.urlsafe_b64encode(json.dumps(list(key)).encode()).decode().rstrip("=")


def decode_key_cursor(cursor: str | None) -> tuple[str, ...] | None:
    if cursor is None:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, binascii.Error) as exc:
        raise Problem(
            400, "The cursor is not one this API issued; start again without it.", problem="invalid-cursor"
        ) from exc
    if not isinstance(key, list) or not all(isinstance(part, str) for part in key):
        raise Problem(400, "The cursor is not one this API issued; start again without it.", problem="invalid-cursor")
    return tuple(key)
