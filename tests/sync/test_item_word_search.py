"""Word search of error messages against the real database: exact in order, pages, totals and bulk replays, whether
the words match a few items (narrowed through the words' index) or more than the index narrows (checked row by row)."""

import hashlib
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection as Connection_
from sqlalchemy import create_engine, insert, text
from sqlalchemy.pool import NullPool

from core.db import Database, sqlalchemy_url
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


def _scans(connection: Connection_) -> dict[str, int]:
    """How many scans each index of export_items, and the table itself, has had."""
    connection.execute(text("SELECT pg_stat_clear_snapshot()"))
    rows = connection.execute(
        text(
            "SELECT indexrelname, idx_scan FROM pg_stat_user_indexes WHERE relname = 'export_items' "
            "UNION ALL SELECT 'sequential', seq_scan FROM pg_stat_user_tables WHERE relname = 'export_items'"
        )
    )
    return {name: int(scans) for name, scans in rows}


async def test_a_tenants_word_search_walks_only_its_own_tenants_words(
    database: Database, database_url: str, tenant: TenantFixture, other_tenant: TenantFixture
) -> None:
    """A tenant admin's search must not read what every other tenant's messages hold through the shared words' index:
    the tenant filter comes first. The other tenant's 1,500 matches of the same words are never
    scanned, the table is never read whole, and the answer is the searcher's own match among its 1,500 other items."""
    now = datetime.now(UTC)
    closed = "The period 2026-11 is closed."
    await _items(database, other_tenant, [(closed, now)] * 1500)
    own = await _items(database, tenant, [(closed, now)] + [("Vendor V1 is inactive.", now)] * 1500)
    engine = create_engine(sqlalchemy_url(database_url), poolclass=NullPool)
    try:
        with engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT")
            connection.execute(text("ANALYZE export_items"))
            before = _scans(connection)
            connection.execute(text("SELECT set_config('app.tenant_id', :tenant, false)"), {"tenant": str(tenant.id)})
            connection.execute(text("SELECT pg_stat_force_next_flush()"))
            found = connection.execute(
                text("SELECT ledgerline_export_item_ids_with_words('per:* & closed:*', NULL, :most)"),
                {"most": ITEM_WORD_SEARCH_MAX_MATCHES},
            ).scalar_one()
            connection.execute(text("SELECT pg_stat_force_next_flush()"))
            after = _scans(connection)
    finally:
        engine.dispose()
    assert found == [own[0]]
    walked = {name for name, scans in after.items() if scans > before.get(name, 0)}
    # The planner may walk the tenant's own words or the tenant's own rows: either starts from the tenant.
    assert walked and walked <= {"ix_export_items_tenant_error_words", "ix_export_items_tenant_state_updated"}, walked


async def test_a_message_with_a_word_near_the_index_limit_is_stored_and_found_by_its_start(
    database: Database, tenant: TenantFixture
) -> None:
    """Keying words by tenant lengthens them: a 2,000-character word (within PostgreSQL's 2,047) must neither fail the
    item's write nor vanish from its tenant's search."""
    word = "x" * 2000
    [item] = await _items(database, tenant, [(f"Unreadable answer {word}", datetime.now(UTC))])
    async with database.tenant_session(tenant.id) as session:
        rows, _ = await list_items(session, ItemFilter(tenant_id=tenant.id, search="xxxx unreadable"), limit=10)
    assert [row.id for row in rows] == [item]
