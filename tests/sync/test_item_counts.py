"""The dashboard's counts come from `export_item_counts`, kept by the writing transactions: exact after inserts,
state changes, deletes and rollbacks, scoped like the items, folded without changing a sum, and never making two
writers of the same connection wait for each other."""

import asyncio
import uuid

import pytest
from sqlalchemy import delete, event, func, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import Database
from core.models import ExportItem, ExportItemCount, ExportState
from sync import item_queries
from sync.item_counts import summed_items
from sync.item_queries import ItemFacet, ItemFilter, count_items, total_items
from tests.conftest import TenantFixture
from tests.dashboard.conftest import make_failed_items


async def items_by_state(database: Database, tenant_id: uuid.UUID) -> dict[str, int]:
    """Counted on the items themselves, as the owner: what the summary must agree with."""
    async with database.owner_session() as session:
        rows = await session.execute(
            select(ExportItem.state, func.count()).where(ExportItem.tenant_id == tenant_id).group_by(ExportItem.state)
        )
        return {state: n for state, n in rows.all()}


async def summary_by_state(database: Database, tenant_id: uuid.UUID) -> dict[str, int]:
    async with database.tenant_session(tenant_id) as session:
        return {facet.key or "": facet.count for facet in await count_items(session, ItemFilter(state=None))}


async def test_counts_follow_inserts_state_changes_and_deletes(database: Database, tenant: TenantFixture) -> None:
    ids = await make_failed_items(database, tenant.id, count=5, error_class="mapping")
    assert await summary_by_state(database, tenant.id) == {"needs_action": 5}
    async with database.tenant_session(tenant.id) as session:
        await session.execute(
            update(ExportItem).where(ExportItem.id.in_(ids[:2])).values(state="pending", error_class=None)
        )
        await session.execute(update(ExportItem).where(ExportItem.id == ids[2]).values(state="succeeded"))
    assert await summary_by_state(database, tenant.id) == {"needs_action": 2, "pending": 2, "succeeded": 1}
    assert await summary_by_state(database, tenant.id) == await items_by_state(database, tenant.id)
    async with database.tenant_session(tenant.id) as session:
        await session.execute(delete(ExportItem).where(ExportItem.id == ids[3]))
        by_class = await count_items(session, ItemFilter(tenant_id=tenant.id), group_by=ItemFacet.ERROR_CLASS)
        assert [(facet.key, facet.count) for facet in by_class] == [("mapping", 1)]
        assert (await total_items(session, ItemFilter(tenant_id=tenant.id))).count == 1
    assert await summary_by_state(database, tenant.id) == await items_by_state(database, tenant.id)


async def test_a_rolled_back_change_counts_nothing(database: Database, tenant: TenantFixture) -> None:
    ids = await make_failed_items(database, tenant.id, count=2)
    with pytest.raises(RuntimeError):
        async with database.tenant_session(tenant.id) as session:
            await session.execute(update(ExportItem).where(ExportItem.id.in_(ids)).values(state="pending"))
            assert (await summary_by_state_in(session))["pending"] == 2  # seen inside the writing transaction
            raise RuntimeError("abandon the change")
    assert await summary_by_state(database, tenant.id) == {"needs_action": 2}


async def summary_by_state_in(session: AsyncSession) -> dict[str, int]:
    return dict(await summed_items(session, by="state"))


async def test_each_tenant_sees_its_own_counts_and_support_sees_every_tenant(
    database: Database, tenant: TenantFixture, other_tenant: TenantFixture
) -> None:
    await make_failed_items(database, tenant.id, count=3)
    await make_failed_items(database, other_tenant.id, count=4)
    async with database.tenant_session(tenant.id) as session:
        assert (await total_items(session, ItemFilter())).count == 3  # another tenant's filter or not: row security
    async with database.cross_tenant_session(actor="test", reason="counts") as session:
        by_tenant = await count_items(session, ItemFilter(), group_by=ItemFacet.TENANT)
    mine = {facet.key: (facet.label, facet.count) for facet in by_tenant}
    assert mine[str(tenant.id)] == ("Acme", 3) and mine[str(other_tenant.id)] == ("Globex", 4)


async def test_a_fold_keeps_every_sum_and_leaves_one_row_per_key(database: Database, tenant: TenantFixture) -> None:
    ids = await make_failed_items(database, tenant.id, count=4)
    for state in ("pending", "running", "needs_action", "pending"):  # each statement appends its own deltas
        async with database.tenant_session(tenant.id) as session:
            await session.execute(update(ExportItem).where(ExportItem.id.in_(ids)).values(state=state))
    async with database.owner_session() as session:
        before = await session.scalar(
            select(func.count()).select_from(ExportItemCount).where(ExportItemCount.tenant_id == tenant.id)
        )
        await session.execute(text("SELECT ledgerline_fold_export_item_counts()"))
        rows = (
            await session.execute(
                select(ExportItemCount.state, ExportItemCount.items).where(ExportItemCount.tenant_id == tenant.id)
            )
        ).all()
    assert before is not None and before > 1
    assert [(row.state, row.items) for row in rows] == [("pending", 4)]
    assert await summary_by_state(database, tenant.id) == await items_by_state(database, tenant.id)


async def test_the_writer_crossing_a_fold_boundary_folds(database: Database, tenant: TenantFixture) -> None:
    ids = await make_failed_items(database, tenant.id, count=3)
    async with database.tenant_session(tenant.id) as session:
        await session.execute(update(ExportItem).where(ExportItem.id.in_(ids)).values(state="pending"))
    async with database.owner_session() as session:
        # The next delta's id is the last before a multiple of the fold's period: the writer appending it folds.
        await session.execute(
            text(
                "SELECT setval(pg_get_serial_sequence('export_item_counts', 'id'), "
                "((SELECT last_value FROM export_item_counts_id_seq) / 2048 + 1) * 2048 - 1)"
            )
        )
    async with database.tenant_session(tenant.id) as session:
        await session.execute(update(ExportItem).where(ExportItem.id == ids[0]).values(state="succeeded"))
    async with database.owner_session() as session:
        keys = (
            await session.execute(
                select(ExportItemCount.state, func.count(), func.sum(ExportItemCount.items))
                .where(ExportItemCount.tenant_id == tenant.id)
                .group_by(ExportItemCount.state)
                .order_by(ExportItemCount.state)
            )
        ).all()
    assert [tuple(row) for row in keys] == [("pending", 1, 2), ("succeeded", 1, 1)]


async def test_two_writers_of_one_connection_never_wait_for_each_other(
    database: Database, tenant: TenantFixture
) -> None:
    first, second = await make_failed_items(database, tenant.id, count=2)
    async with database.tenant_session(tenant.id) as holding:
        await holding.execute(update(ExportItem).where(ExportItem.id == first).values(state="pending"))
        # While the first change is uncommitted, a second writer moves an item of the same key: with one counter row
        # per key it would wait for the first transaction; appended deltas let it commit at once.
        try:
            async with asyncio.timeout(5), database.tenant_session(tenant.id) as other:
                await other.execute(text("SET LOCAL lock_timeout = '1s'"))
                await other.execute(update(ExportItem).where(ExportItem.id == second).values(state="pending"))
        except (TimeoutError, DBAPIError) as exc:
            pytest.fail(f"the second writer waited for the first: {exc}")
    assert await summary_by_state(database, tenant.id) == {"pending": 2}


async def test_a_rebuild_agrees_with_the_kept_counts(database: Database, tenant: TenantFixture) -> None:
    ids = await make_failed_items(database, tenant.id, count=3)
    async with database.tenant_session(tenant.id) as session:
        await session.execute(update(ExportItem).where(ExportItem.id == ids[0]).values(state=ExportState.SKIPPED))
    kept = await summary_by_state(database, tenant.id)
    async with database.owner_session() as session:
        await session.execute(text("SELECT ledgerline_rebuild_export_item_counts()"))
    assert await summary_by_state(database, tenant.id) == kept == {"needs_action": 2, "skipped": 1}


async def test_a_broad_word_search_is_counted_by_the_words_check_alone(
    database: Database, tenant: TenantFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(item_queries, "ITEM_WORD_SEARCH_MAX_MATCHES", 2)
    await make_failed_items(database, tenant.id, count=3, message="The period 2024-03 is closed.")
    async with database.tenant_session(tenant.id) as session:
        sent: list[str] = []
        event.listen(session.sync_session, "do_orm_execute", lambda state: sent.append(str(state.statement)))
        own = await total_items(session, ItemFilter(tenant_id=tenant.id, search="closed"))
        assert (own.count, own.exact) == (2, False)
        assert len(sent) == 1, sent  # the words' function said "more than 2": nothing else is walked
        narrower = await total_items(session, ItemFilter(tenant_id=tenant.id, search="closed", error_class="mapping"))
        assert (narrower.count, narrower.exact) == (0, True)  # another filter: counted on the items
