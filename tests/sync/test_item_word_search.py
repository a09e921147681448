"""Word search of error messages against the real database: exact in order, pages, totals and bulk replays, whether
the words match a few items (narrowed through the words' index) or more than the index narrows (checked row by row)."""

import hashlib
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert

from core.db import Database
from core.models import Connection, ExportItem, ExportState
from sync.constants import ITEM_WORD_SEARCH_MAX_MATCHES
from sync.item_queries import ItemFilter, ItemRow, list_items, total_items
from sync.replay import request_replay
from tests.conftest import TenantFixture

BROAD = ITEM_WORD_SEARCH_MAX_MATCHES + 60
"""More matches than a search narrows through the index: the case whose page 1 was once an arbitrary few."""


async def _items(database: Database, tenant: TenantFixture, messages: list[tuple[str, datetime]]) -> list[uuid.UUID]:
    """needs_action items with these messages and last changes, inserted in this order (so stored in it)."""
    connection_id = uuid.uuid4()
    rows: list[dict[str, Any]] = []
    for n, (message, updated_at) in enumerate(messages):
        rows.append(
            {
                "id": uuid.uuid4(),
                "tenant_id": tenant.id,
                "destination_connection_id": connection_id,
                "destination_provider": "intacct",
                "document_type": "bill",
                "group_key": f"report:rp-{n}",
                "idempotency_key": hashlib.sha256(f"{tenant.id}:{n}".encode()).hexdigest()[:40],
                "state": ExportState.NEEDS_ACTION.value,
                "error_class": "destination_rejected",
                "error_message": message,
                "created_at": updated_at,
                "updated_at": updated_at,
            }
        )
    async with database.tenant_session(tenant.id) as session:
        session.add(
            Connection(
                id=connection_id,
                tenant_id=tenant.id,
                name=f"intacct-{connection_id.hex[:6]}",
                provider="intacct",
                role="destination",
                webhook_key=secrets.token_urlsafe(12),
            )
        )
        await session.flush()
        for start in range(0, len(rows), 1000):
            await session.execute(insert(ExportItem), rows[start : start + 1000])
    return [row["id"] for row in rows]


async def _every_page(database: Database, tenant: TenantFixture, item_filter: ItemFilter) -> list[list[ItemRow]]:
    pages: list[list[ItemRow]] = []
    cursor = None
    async with database.tenant_session(tenant.id) as session:
        while True:
            rows, cursor = await list_items(session, item_filter, cursor=cursor, limit=50)
            pages.append(rows)
            if cursor is None:
                return pages


async def test_a_broad_word_search_shows_the_newest_matches_first_and_pages_through_all_of_them(
    database: Database, tenant: TenantFixture, other_tenant: TenantFixture
) -> None:
    now = datetime.now(UTC)
    # Oldest first, so the newest matches are stored last: an unordered capped search never reaches them.
    matches = [
        (f"The period 2026-{n % 12 + 1:02d} is closed.", now - timedelta(minutes=BROAD - n)) for n in range(BROAD)
    ]
    others = [("Vendor V1 is inactive.", now - timedelta(seconds=30 - n)) for n in range(20)]
    ids = await _items(database, tenant, matches + others)
    await _items(database, other_tenant, [("The period 2026-01 is closed.", now)])
    matching_ids = ids[:BROAD]
    newest_first = list(reversed(matching_ids))
    search = ItemFilter(tenant_id=tenant.id, search="closed period")

    pages = await _every_page(database, tenant, search)
    async with database.tenant_session(tenant.id) as session:
        total = await total_items(session, search)
        replay = await request_replay(session, item_filter=search, actor="test")

    assert [row.id for row in pages[0]] == newest_first[:50]
    assert [row.id for page in pages for row in page] == newest_first
    assert (total.count, total.exact) == (ITEM_WORD_SEARCH_MAX_MATCHES, False)
    assert replay.total == BROAD


async def test_a_narrow_word_search_is_exact_in_order_and_counted_exactly(
    database: Database, tenant: TenantFixture, other_tenant: TenantFixture
) -> None:
    now = datetime.now(UTC)
    messages = [(f"Vendor V{n:05d} is inactive.", now - timedelta(minutes=n)) for n in range(120)]
    messages += [("The period 2026-03 is closed.", now - timedelta(hours=5)), ("Closed for good.", now)]
    ids = await _items(database, tenant, messages)
    await _items(database, other_tenant, [("The period 2026-03 is closed.", now)])
    search = ItemFilter(tenant_id=tenant.id, search="clos peri")

    pages = await _every_page(database, tenant, search)
    async with database.tenant_session(tenant.id) as session:
        total = await total_items(session, search)
        one, _ = await list_items(session, ItemFilter(search="V00007"))
        none, _ = await list_items(session, ItemFilter(search="nothing-like-this"))

    assert [[row.id for row in page] for page in pages] == [[ids[120]]]
    assert (total.count, total.exact) == (1, True)
    assert [row.id for row in one] == [ids[7]]
    assert none == []
