"""Issue 15's duplicate paths, each played against the Intacct simulator over HTTP and real PostgreSQL.

Every test here failed on the engine before the paths were closed: a 5xx to a committed write counted as "not
sent" and regrouping then made a second bill; a stale job of the same worker overwrote a newer claim's outcome; the
request's control id was fresh on every send; an adopted document was stored as rebuilt, not as sent; pending →
skipped and mapping releases went around the state machine.
"""

import asyncio
import uuid
from datetime import timedelta
from xml.etree import ElementTree

import httpx
from sqlalchemy import func, select, update

from connectors.intacct import IntacctConnector
from core.db import Database
from core.models import AuditEvent, Connection, ExportItem, ExportItemRecord, SourceRecord
from core.repository import TenantRepository
from mappings.regrouping import regroup
from mappings.settings import ExportSettings, MemoSettings
from mappings.settings_store import save_settings
from sync.export_engine import ExportEngine
from sync.reconciler import return_expired_leases
from tests.connectors.intacct.conftest import context_for
from tests.sandbox_fixtures import RunningSandbox
from tests.sync.conftest import BILL_SETTINGS, Books
from tests.sync.intacct_bills import bill_shape, bills, clear_faults, fault
from tests.vocabularies import INTACCT

PER_EXPENSE = ExportSettings.model_validate(
    {
        "reimbursable": {"export_type": "bill", "grouping": {"by": "expense"}, "date": "last_spent"},
        "employee_as": "vendor",
    }
)


async def settle(database: Database, books: Books, engine: ExportEngine, *, rounds: int = 10) -> None:
    """Run batches until nothing is due (items backing off are made due at once)."""
    for _ in range(rounds):
        async with database.tenant_session(books.tenant.id) as session:
            await session.execute(
                update(ExportItem).where(ExportItem.state == "pending").values(next_attempt_at=func.now())
            )
        report = await engine.run_batch(books.connector, tenant_id=books.tenant.id, connection_id=books.destination_id)
        if report.claimed == 0:
            return


async def items(database: Database, books: Books) -> list[ExportItem]:
    async with database.tenant_session(books.tenant.id) as session:
        return list((await session.scalars(select(ExportItem).order_by(ExportItem.created_at))).all())


async def regroup_with(database: Database, books: Books, settings: ExportSettings) -> None:
    async with database.tenant_session(books.tenant.id) as session:
        repository = TenantRepository(session, books.tenant.id, "test")
        destination = await session.get(Connection, books.destination_id)
        assert destination is not None
        await save_settings(repository, destination=destination, settings=settings, vocabulary=INTACCT)
        await regroup(repository, destination=destination, settings=settings)


async def test_a_committed_write_answered_503_with_a_failed_lookup_is_never_regrouped_into_a_second_bill(
    database: Database, books: Books, sandbox: RunningSandbox
) -> None:
    """Path 1: the write commits and answers 503, the lookup after it fails too, then the grouping changes."""
    fault(sandbox, operation="create:APBILL", mode="commit_then_fail", then="error", status=503, times=1)
    fault(sandbox, operation="query:*", mode="error", status=503, times=1)
    engine = ExportEngine(database, owner="w1")
    await engine.run_batch(books.connector, tenant_id=books.tenant.id, connection_id=books.destination_id)
    assert len(bills(sandbox)) == 3
    assert all(item.outcome_unknown and item.state == "pending" for item in await items(database, books))

    await regroup_with(database, books, PER_EXPENSE)  # would move every expense into a bill of its own
    clear_faults(sandbox)
    await settle(database, books, engine)

    assert bill_shape(sandbox) == (3, 3, 6)
    assert {item.state for item in await items(database, books)} == {"succeeded"}


async def test_a_committed_write_whose_lookup_is_rate_limited_stays_unknown(
    database: Database, books: Books, sandbox: RunningSandbox
) -> None:
    """Path 1: the write commits and answers Intacct's off-line notice (503); the lookup after it is refused by the
    rate limit. Neither proves anything about the write."""
    fault(sandbox, operation="create:APBILL", mode="commit_then_fail", then="error", status=503, times=1)
    fault(sandbox, operation="query:*", mode="rate_limit", retry_after=0, times=1)
    engine = ExportEngine(database, owner="w1")
    await engine.run_batch(books.connector, tenant_id=books.tenant.id, connection_id=books.destination_id)
    stored = await items(database, books)
    assert all(item.outcome_unknown for item in stored), [(i.error_class, i.error_code) for i in stored]


async def test_a_stale_job_of_the_same_worker_cannot_overwrite_the_new_claim(
    database: Database, books: Books, sandbox: RunningSandbox
) -> None:
    """Path 2: two jobs of one process. The first one's lease is lost while its write is held; its failure must
    not overwrite the second one's claim, whose bills then exist."""
    first, second = ExportEngine(database, owner="w1"), ExportEngine(database, owner="w1")
    fault(sandbox, operation="create:APBILL", mode="latency", latency_ms=2500, times=1)
    fault(sandbox, operation="create:APBILL", mode="error", status=400, times=1)  # refused after the wait
    stale = asyncio.create_task(
        first.run_batch(books.connector, tenant_id=books.tenant.id, connection_id=books.destination_id)
    )
    await asyncio.sleep(0.8)
    async with database.tenant_session(books.tenant.id) as session:  # as if its renewals had failed
        await session.execute(update(ExportItem).values(lease_expires_at=func.now() - timedelta(seconds=1)))
    await return_expired_leases(database)  # serves every tenant of the database: counted by tenant below
    assert len([item for item in await items(database, books) if item.outcome_unknown]) == 3
    fault(sandbox, operation="query:*", mode="latency", latency_ms=4000, times=1)  # the new claim's lookup is slow
    fresh = asyncio.create_task(
        second.run_batch(books.connector, tenant_id=books.tenant.id, connection_id=books.destination_id)
    )
    stale_report = await stale
    async with database.tenant_session(books.tenant.id) as session:
        during = (await session.execute(select(ExportItem.state, ExportItem.lease_owner))).all()
    fresh_report = await fresh

    assert stale_report.lost_lease == 3
    assert all(state == "running" and owner is not None for state, owner in during)
    assert fresh_report.succeeded == 3
    stored = await items(database, books)
    assert {(item.state, item.outcome_unknown) for item in stored} == {("succeeded", False)}
    assert len(bills(sandbox)) == 3
    async with database.tenant_session(books.tenant.id) as session:
        numbers = sorted((await session.scalars(select(ExportItem.attempt_count))).all())
    assert numbers == [2, 2, 2]  # the stale finish wrote back no older count


async def test_a_batch_slower_than_its_lease_keeps_it(
    database: Database, books: Books, sandbox: RunningSandbox
) -> None:
    """Path 2: the lease is renewed while the batch is in flight, so the reconciler does not hand it out."""
    engine = ExportEngine(database, owner="w1", lease_seconds=1)
    fault(sandbox, operation="create:APBILL", mode="latency", latency_ms=2500, times=1)
    batch = asyncio.create_task(
        engine.run_batch(books.connector, tenant_id=books.tenant.id, connection_id=books.destination_id)
    )
    handed_back = 0
    while not batch.done():
        await asyncio.sleep(0.3)
        await return_expired_leases(database)  # serves every tenant of the database: this one's items are counted
        handed_back += len([item for item in await items(database, books) if item.state == "pending"])
    report = await batch
    assert handed_back == 0
    assert report.succeeded == 3 and report.lost_lease == 0


class RecordingTransport(httpx.AsyncBaseTransport):
    """The real HTTP transport, keeping each request body: what the connector put on the wire."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.bodies: list[bytes] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.bodies.append(request.content)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def write_control_ids(bodies: list[bytes]) -> list[str]:
    """The request control id of every request that created something."""
    roots = [ElementTree.fromstring(body) for body in bodies]  # noqa: S314 - our own requests, read back
    return [
        root.findtext("control/controlid") or ""
        for root in roots
        if any(function.find("create") is not None for function in root.iter("function"))
    ]


async def test_a_resent_batch_carries_the_same_request_control_id(
    database: Database, books: Books, sandbox: RunningSandbox
) -> None:
    """Path 3: the request's control id is the batch's idempotency key: derived from its items' keys, and resent
    identically while their outcome is unknown (a 503 proves nothing ran)."""
    transport = RecordingTransport()
    async with IntacctConnector(context_for(sandbox.url, transport=transport)) as connector:
        fault(sandbox, operation="create:APBILL", mode="error", status=503, times=1)
        engine = ExportEngine(database, owner="w1")
        await engine.run_batch(connector, tenant_id=books.tenant.id, connection_id=books.destination_id)
        assert all(item.outcome_unknown for item in await items(database, books))
        async with database.tenant_session(books.tenant.id) as session:
            await session.execute(update(ExportItem).values(next_attempt_at=func.now()))
        report = await engine.run_batch(connector, tenant_id=books.tenant.id, connection_id=books.destination_id)

    control_ids = write_control_ids(transport.bodies)
    assert report.succeeded == 3
    assert len(control_ids) == 2 and control_ids[0] == control_ids[1], control_ids
    assert control_ids[0].startswith("llb-")
    assert {item.send_generation for item in await items(database, books)} == {1}
    assert len(bills(sandbox)) == 3


async def test_an_adopted_document_is_stored_as_it_was_sent(
    database: Database, books: Books, sandbox: RunningSandbox
) -> None:
    """Path 4: between the lost answer and the adoption the settings change; what is stored is what Intacct holds,
    and the item says that a rebuild would differ."""
    fault(sandbox, operation="create:APBILL", mode="commit_then_fail", then="error", status=503, times=1)
    fault(sandbox, operation="query:*", mode="error", status=503, times=1)
    engine = ExportEngine(database, owner="w1")
    await engine.run_batch(books.connector, tenant_id=books.tenant.id, connection_id=books.destination_id)
    sent = {document["RECORDID"]: document for document in bills(sandbox)}
    changed = BILL_SETTINGS.model_copy(update={"memo": MemoSettings(document="Changed after sending {employee_email}")})
    await regroup_with(database, books, changed)
    clear_faults(sandbox)
    await settle(database, books, engine)

    stored = await items(database, books)
    assert {item.state for item in stored} == {"succeeded"}
    for item in stored:
        assert item.document is not None
        assert item.document["memo"] == sent[item.idempotency_key]["DESCRIPTION"]
        assert "Changed after sending" not in item.document["memo"]
        assert item.document_drift is not None and "memo" in item.document_drift


async def test_a_regroup_drop_and_a_mapping_release_go_through_the_state_machine(
    database: Database, books: Books
) -> None:
    """Path 6: pending → skipped (superseded by a regroup) is an allowed, audited transition."""
    async with database.tenant_session(books.tenant.id) as session:
        await session.execute(update(ExportItem).values(attempt_count=1))  # tried before: kept as skipped
    await regroup_with(database, books, PER_EXPENSE)
    stored = await items(database, books)
    superseded = [item for item in stored if item.state == "skipped"]
    assert len(superseded) == 3
    async with database.tenant_session(books.tenant.id) as session:
        events = (
            await session.execute(
                select(AuditEvent.entity_id, AuditEvent.data).where(AuditEvent.action == "export_item.skipped")
            )
        ).all()
        live = await session.scalar(
            select(func.count()).select_from(ExportItemRecord).where(ExportItemRecord.released_at.is_(None))
        )
        records = await session.scalar(select(func.count()).select_from(SourceRecord))
    assert {uuid.UUID(entity_id) for entity_id, _ in events} == {item.id for item in superseded}
    assert all(data["from"] == "pending" for _, data in events)
    assert live == records == 6


async def test_a_resend_refused_before_it_ran_keeps_the_earlier_send_unknown(
    database: Database, books: Books, sandbox: RunningSandbox
) -> None:
    """A send may still be on its way when its item is resent. A resend refused before it ran (a rate limit, refused
    credentials) spent nothing of the request's control id, so it proves nothing about the first send: the item stays
    unknown and goes again under the same control id, never under a new one beside a first send still landing."""
    transport = RecordingTransport()
    async with IntacctConnector(context_for(sandbox.url, transport=transport)) as connector:
        engine = ExportEngine(database, owner="w1")
        fault(sandbox, operation="create:APBILL", mode="error", status=503, times=1)
        await engine.run_batch(connector, tenant_id=books.tenant.id, connection_id=books.destination_id)
        fault(sandbox, operation="create:APBILL", mode="rate_limit", retry_after=0, times=1)
        async with database.tenant_session(books.tenant.id) as session:
            await session.execute(update(ExportItem).values(next_attempt_at=func.now()))
        await engine.run_batch(connector, tenant_id=books.tenant.id, connection_id=books.destination_id)
        stored = await items(database, books)
        assert all(item.outcome_unknown for item in stored), [(item.error_class, item.error_code) for item in stored]
        clear_faults(sandbox)
        async with database.tenant_session(books.tenant.id) as session:
            await session.execute(update(ExportItem).values(next_attempt_at=func.now()))
        await engine.run_batch(connector, tenant_id=books.tenant.id, connection_id=books.destination_id)

    control_ids = write_control_ids(transport.bodies)
    assert len(set(control_ids)) == 1, control_ids  # every send of the batch under its one control id
    assert {item.send_generation for item in await items(database, books)} == {1}
    assert len(bills(sandbox)) == 3
