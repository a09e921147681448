"""End to end against the Intacct simulator: a failed export, a fix, a replay — one document in the books."""

from sqlalchemy import select, update

from core.db import Database
from core.models import ExportItem, Mapping
from core.repository import TenantRepository
from mappings.mapping_store import MappingChange, set_mappings
from sync.export_engine import ExportEngine
from sync.item_queries import ItemFilter, list_items
from sync.replay import ReplayRefusedError, replay_item
from tests.sandbox_fixtures import RunningSandbox
from tests.sync.conftest import Books
from tests.sync.test_export_engine import sandbox_bills
from tests.vocabularies import INTACCT


async def _run(database: Database, books: Books) -> None:
    await ExportEngine(database, owner="w1").run_batch(
        books.connector, tenant_id=books.tenant.id, connection_id=books.destination_id
    )


async def test_a_missing_mapping_is_fixed_the_item_replayed_and_the_bill_appears_exactly_once(
    database: Database, books: Books, sandbox: RunningSandbox
) -> None:
    async with database.tenant_session(books.tenant.id) as session:
        travel = await session.scalar(select(Mapping).where(Mapping.source_type == "category"))
        assert travel is not None
        account_id = travel.destination_attribute_id
        await session.delete(travel)
    await _run(database, books)
    async with database.tenant_session(books.tenant.id) as session:
        failed, _ = await list_items(session, ItemFilter(tenant_id=books.tenant.id, expense_id="rp-a"))
    assert [(row.state, row.error_class) for row in failed] == [("needs_action", "mapping")]
    assert sandbox_bills(sandbox) == 0
    item_id = failed[0].id

    # A replay before the fix fails again the same way, before any call: nothing reaches the books.
    async with database.tenant_session(books.tenant.id) as session:
        await replay_item(session, tenant_id=books.tenant.id, item_id=item_id, actor="support:erin")
    await _run(database, books)
    assert sandbox_bills(sandbox) == 0

    # The fix: saving the mapping releases every item that waited only on it (DESIGN.md: auto-resolves).
    async with database.tenant_session(books.tenant.id) as session:
        repository = TenantRepository(session, books.tenant.id, "support:erin")
        saved = await set_mappings(
            repository,
            destination_connection_id=books.destination_id,
            changes=[MappingChange("category", "Travel", "account", account_id)],
            vocabulary=INTACCT,
        )
    assert item_id in saved.released_item_ids
    async with database.tenant_session(books.tenant.id) as session:  # so replaying it is refused, not repeated
        try:
            await replay_item(session, tenant_id=books.tenant.id, item_id=item_id, actor="support:erin")
        except ReplayRefusedError as refused:
            assert "already pending" in str(refused)
        else:
            raise AssertionError("a released item was replayed a second time")
    await _run(database, books)
    async with database.tenant_session(books.tenant.id) as session:
        item = await session.get(ExportItem, item_id)
    assert item is not None and item.state == "succeeded"
    assert sandbox_bills(sandbox, item.idempotency_key) == 1
    assert sandbox_bills(sandbox) == 3


async def test_a_replayed_item_whose_outcome_was_unknown_is_adopted_not_sent_twice(
    database: Database, books: Books, sandbox: RunningSandbox
) -> None:
    """The bill was created but the answer lost, and the item was given up on (needs action): a person replays
    it, and the engine finds the bill by its reference instead of creating a second one."""
    with sandbox.control() as control:
        control.post(
            "/faults",
            json={"system": "intacct", "operation": "create:APBILL", "mode": "commit_then_fail", "status": 502},
        ).raise_for_status()
    await _run(database, books)
    assert sandbox_bills(sandbox) == 3  # created, though we do not know it
    with sandbox.control() as control:
        control.delete("/faults").raise_for_status()
    async with database.tenant_session(books.tenant.id) as session:  # the retry window ran out
        await session.execute(update(ExportItem).values(state="needs_action", outcome_unknown=True))
        items = (await session.scalars(select(ExportItem))).all()
        for item in items:
            await replay_item(session, tenant_id=books.tenant.id, item_id=item.id, actor="support:erin")
    await _run(database, books)
    async with database.tenant_session(books.tenant.id) as session:
        states = {item.state for item in (await session.scalars(select(ExportItem))).all()}
    assert states == {"succeeded"}
    assert sandbox_bills(sandbox) == 3
    assert all(sandbox_bills(sandbox, item.idempotency_key) == 1 for item in items)
