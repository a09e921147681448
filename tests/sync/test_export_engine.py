"""The export engine against the Intacct simulator: grouped expenses become bills exactly once, whatever fails."""

from datetime import date

from sqlalchemy import func, select, update

from core.db import Database
from core.models import Attempt, ExportItem, Mapping
from core.repository import TenantRepository
from mappings.preview import preview_item
from sync.export_engine import ExportEngine
from sync.leases import claim_due_items
from sync.reconciler import return_expired_leases
from tests.sandbox_fixtures import RunningSandbox
from tests.sync.conftest import Books
from tests.vocabularies import INTACCT


def sandbox_bills(sandbox: RunningSandbox, reference: str | None = None) -> int:
    params = {"object": "APBILL", **({"record_id": reference} if reference else {})}
    with sandbox.control() as control:
        count: int = control.get("/intacct/documents", params=params).json()["count"]
    return count


async def item_states(database: Database, books: Books) -> dict[str, int]:
    async with database.tenant_session(books.tenant.id) as session:
        rows = await session.execute(select(ExportItem.state, func.count()).group_by(ExportItem.state))
        return {state: count for state, count in rows.all()}


async def test_grouped_reports_become_one_bill_each(database: Database, books: Books, sandbox: RunningSandbox) -> None:
    report = await ExportEngine(database, owner="w1").run_batch(
        books.connector, tenant_id=books.tenant.id, connection_id=books.destination_id
    )
    assert (report.claimed, report.succeeded) == (3, 3)
    assert await item_states(database, books) == {"succeeded": 3}
    assert sandbox_bills(sandbox) == 3
    async with database.tenant_session(books.tenant.id) as session:
        items = (await session.scalars(select(ExportItem))).all()
        attempts = await session.scalar(select(func.count()).select_from(Attempt))
    assert all(item.remote_id and item.document and item.document["total"] == "85.00" for item in items)
    assert attempts == 3
    again = await ExportEngine(database, owner="w2").run_batch(
        books.connector, tenant_id=books.tenant.id, connection_id=books.destination_id
    )
    assert again.claimed == 0


async def test_commit_then_fail_is_adopted_on_the_next_attempt_not_sent_twice(
    database: Database, books: Books, sandbox: RunningSandbox
) -> None:
    with sandbox.control() as control:
        control.post(
            "/faults",
            json={
                "system": "intacct",
                "operation": "create:APBILL",
                "mode": "commit_then_fail",
                "status": 502,
                "times": 1,
            },
        ).raise_for_status()
    engine = ExportEngine(database, owner="w1")
    await engine.run_batch(books.connector, tenant_id=books.tenant.id, connection_id=books.destination_id)
    async with database.tenant_session(books.tenant.id) as session:  # make the retries due now
        await session.execute(
            update(ExportItem).where(ExportItem.state == "pending").values(next_attempt_at=func.now())
        )
    await engine.run_batch(books.connector, tenant_id=books.tenant.id, connection_id=books.destination_id)
    assert await item_states(database, books) == {"succeeded": 3}
    assert sandbox_bills(sandbox) == 3
    async with database.tenant_session(books.tenant.id) as session:
        references = (await session.scalars(select(ExportItem.idempotency_key))).all()
    assert all(sandbox_bills(sandbox, reference) == 1 for reference in references)


async def test_a_missing_mapping_needs_action_before_any_call(
    database: Database, books: Books, sandbox: RunningSandbox
) -> None:
    async with database.tenant_session(books.tenant.id) as session:
        await session.execute(update(Mapping).where(Mapping.source_type == "category").values(source_value="Lodging"))
    with sandbox.control() as control:
        before = control.get("/requests", params={"system": "intacct"}).json()["count"]
    report = await ExportEngine(database, owner="w1").run_batch(
        books.connector, tenant_id=books.tenant.id, connection_id=books.destination_id
    )
    assert report.needs_action == 3
    async with database.tenant_session(books.tenant.id) as session:
        item = (await session.scalars(select(ExportItem))).first()
    assert item is not None and item.error_class == "mapping"
    assert item.missing_mappings == [
        {"source_type": "category", "source_value": "Travel", "destination_type": "account"}
    ]
    with sandbox.control() as control:
        after = control.get("/requests", params={"system": "intacct"}).json()["count"]
    assert after == before  # nothing was sent


async def test_an_outage_backs_off_with_its_outcome_unknown(
    database: Database, books: Books, sandbox: RunningSandbox
) -> None:
    with sandbox.control() as control:
        control.post(
            "/faults", json={"system": "intacct", "operation": "create:*", "mode": "error", "status": 503}
        ).raise_for_status()
    report = await ExportEngine(database, owner="w1").run_batch(
        books.connector, tenant_id=books.tenant.id, connection_id=books.destination_id
    )
    assert report.retrying == 3
    async with database.tenant_session(books.tenant.id) as session:
        items = (await session.scalars(select(ExportItem))).all()
    # A 503 to a write proves nothing: the items wait, and look their references up before sending again.
    assert all(item.state == "pending" and item.error_class == "outcome_unknown" for item in items)
    assert all(item.outcome_unknown for item in items)
    assert all(item.next_attempt_at >= item.updated_at for item in items)
    assert sandbox_bills(sandbox) == 0


async def test_a_lost_lease_is_returned_and_adopted_by_the_reconciler_path(
    database: Database, books: Books, sandbox: RunningSandbox
) -> None:
    """A worker that dies after sending: the reconciler returns its items as outcome-unknown; the next worker
    looks them up by reference and adopts them instead of sending again."""

    async with database.tenant_session(books.tenant.id) as session:
        claimed = await claim_due_items(
            session,
            tenant_id=books.tenant.id,
            connection_id=books.destination_id,
            token="dead",
            actor="worker:dead",
            limit=10,
            lease_seconds=60,
        )
    # the dead worker had pushed them before dying
    async with database.tenant_session(books.tenant.id) as session:
        repository = TenantRepository(session, books.tenant.id, "dead")
        documents = [
            (
                await preview_item(
                    repository, export_item_id=item.id, export_day=date.today(), vocabulary_for=lambda _: INTACCT
                )
            ).document
            for item in claimed
        ]
    await books.connector.push([document for document in documents if document is not None])
    async with database.tenant_session(books.tenant.id) as session:
        await session.execute(
            update(ExportItem).values(lease_expires_at=func.now() - func.make_interval(0, 0, 0, 0, 0, 1))
        )
    assert await return_expired_leases(database) >= 3  # the reconciler serves every tenant of the database
    async with database.tenant_session(books.tenant.id) as session:
        returned = (await session.execute(select(ExportItem.state, ExportItem.outcome_unknown))).all()
    assert returned == [("pending", True)] * 3
    report = await ExportEngine(database, owner="w2").run_batch(
        books.connector, tenant_id=books.tenant.id, connection_id=books.destination_id
    )
    assert (report.succeeded, report.adopted) == (3, 3)
    assert sandbox_bills(sandbox) == 3
