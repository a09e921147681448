"""Claims never hand one item to two workers; finishing is fenced on the lease; every transition is audited."""

import asyncio
import secrets
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select, text, update

from core.db import Database
from core.models import AuditEvent, Connection, ExportItem, ExportState
from core.state_machine import IllegalTransitionError, Transition, check_transition
from sync.leases import Finish, Sending, claim_due_items, finish_items, new_claim_token, record_sending, renew_lease
from sync.reconciler import return_expired_leases
from tests.conftest import TenantFixture, make_tenant


async def _connection_with_items(database: Database, count: int) -> tuple[TenantFixture, uuid.UUID]:
    tenant = await make_tenant(database, "Claims")
    connection_id = uuid.uuid4()
    async with database.tenant_session(tenant.id) as session:
        session.add(
            Connection(
                id=connection_id,
                tenant_id=tenant.id,
                name="intacct",
                provider="intacct",
                role="destination",
                webhook_key=secrets.token_hex(8),
            )
        )
        await session.flush()
        session.add_all(
            ExportItem(
                tenant_id=tenant.id,
                destination_connection_id=connection_id,
                destination_provider="intacct",
                document_type="bill",
                group_key=f"report:rp{index}",
                idempotency_key=secrets.token_hex(16),
            )
            for index in range(count)
        )
    return tenant, connection_id


async def test_concurrent_claims_take_disjoint_items(database: Database) -> None:
    tenant, connection_id = await _connection_with_items(database, 30)

    async def claim(owner: str) -> set[uuid.UUID]:
        async with database.tenant_session(tenant.id) as session:
            items = await claim_due_items(
                session,
                tenant_id=tenant.id,
                connection_id=connection_id,
                token=owner,
                actor="worker:w",
                limit=12,
                lease_seconds=60,
            )
            return {item.id for item in items}

    claimed = await asyncio.gather(*(claim(f"w{n}") for n in range(4)))
    everything = set().union(*claimed)
    assert sum(len(batch) for batch in claimed) == len(everything) == 30
    async with database.tenant_session(tenant.id) as session:
        states = dict((await session.execute(select(ExportItem.state, func.count()).group_by(ExportItem.state))).all())
        running_events = await session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "export_item.running")
        )
    assert states == {"running": 30}
    assert running_events == 30


async def test_finishing_is_fenced_on_the_lease(database: Database) -> None:
    tenant, connection_id = await _connection_with_items(database, 1)
    async with database.tenant_session(tenant.id) as session:
        [item] = await claim_due_items(
            session,
            tenant_id=tenant.id,
            connection_id=connection_id,
            token="old",
            actor="worker:w",
            limit=5,
            lease_seconds=60,
        )
    async with database.tenant_session(tenant.id) as session:  # the reconciler handed it to another worker
        await session.execute(update(ExportItem).where(ExportItem.id == item.id).values(lease_owner="new"))
    async with database.tenant_session(tenant.id) as session:
        stale = await finish_items(
            session,
            tenant_id=tenant.id,
            token="old",
            finishes=[Finish(item, ExportState.SUCCEEDED, {"remote_id": "B1"})],
            batch=[],
        )
        fresh = await finish_items(
            session,
            tenant_id=tenant.id,
            token="new",
            finishes=[Finish(item, ExportState.SUCCEEDED, {"remote_id": "B2"})],
            batch=[],
        )
        row = await session.get(ExportItem, item.id)
    assert (stale, fresh) == (set(), {item.id})
    assert row is not None and (row.state, row.remote_id, row.lease_owner) == ("succeeded", "B2", None)


async def test_a_batch_finishes_each_item_its_own_way_in_one_go(database: Database) -> None:
    """Items of one batch end differently (document JSON, cleared errors as NULL, a retry time, a kept attempt);
    an item whose lease went elsewhere keeps the other owner's state."""
    tenant, connection_id = await _connection_with_items(database, 4)
    async with database.tenant_session(tenant.id) as session:
        done, retrying, stuck, lost = await claim_due_items(
            session,
            tenant_id=tenant.id,
            connection_id=connection_id,
            token="w",
            actor="worker:w",
            limit=4,
            lease_seconds=60,
        )
        await session.execute(update(ExportItem).where(ExportItem.id == lost.id).values(lease_owner="other"))
    retry_at = datetime(2031, 1, 2, 3, 4, 5, tzinfo=UTC)
    cleared = {"error_class": None, "error_message": None}
    batch: list[Transition] = []
    async with database.tenant_session(tenant.id) as session:
        finished = await finish_items(
            session,
            tenant_id=tenant.id,
            token="w",
            finishes=[
                Finish(done, ExportState.SUCCEEDED, {**cleared, "remote_id": "B1", "document": {"total": "1.10"}}),
                Finish(retrying, ExportState.PENDING, {"error_class": "transient", "next_attempt_at": retry_at}),
                Finish(stuck, ExportState.NEEDS_ACTION, {"error_class": "validation", "error_message": "no vendor"}),
                Finish(lost, ExportState.SUCCEEDED, {**cleared, "remote_id": "B4", "document": None}),
            ],
            batch=batch,
        )
    async with database.tenant_session(tenant.id) as session:
        rows = {row.id: row for row in await session.scalars(select(ExportItem))}
    assert finished == {done.id, retrying.id, stuck.id}
    assert [(transition.item_id, transition.target) for transition in batch] == [
        (done.id, ExportState.SUCCEEDED),
        (retrying.id, ExportState.PENDING),
        (stuck.id, ExportState.NEEDS_ACTION),
    ]
    first, second, third, fourth = (rows[item.id] for item in (done, retrying, stuck, lost))
    assert (first.state, first.remote_id, first.document, first.error_class) == (
        "succeeded",
        "B1",
        {"total": "1.10"},
        None,
    )
    assert (second.state, second.next_attempt_at, second.lease_owner) == ("pending", retry_at, None)
    assert (third.state, third.error_message) == ("needs_action", "no vendor")
    assert (fourth.state, fourth.remote_id, fourth.lease_owner) == ("running", None, "other")


async def test_nothing_due_later_is_claimed(database: Database) -> None:
    tenant, connection_id = await _connection_with_items(database, 3)
    async with database.tenant_session(tenant.id) as session:
        await session.execute(update(ExportItem).values(next_attempt_at=func.now() + func.make_interval(0, 0, 0, 0, 1)))
        items = await claim_due_items(
            session,
            tenant_id=tenant.id,
            connection_id=connection_id,
            token="w",
            actor="worker:w",
            limit=5,
            lease_seconds=60,
        )
    assert items == []


def test_the_state_machine_refuses_illegal_moves() -> None:
    check_transition("needs_action", ExportState.PENDING)
    for source, target in (
        ("succeeded", ExportState.PENDING),
        ("pending", ExportState.SUCCEEDED),
        ("skipped", ExportState.PENDING),
    ):
        with pytest.raises(IllegalTransitionError):
            check_transition(source, target)


async def test_a_claim_never_takes_more_than_its_limit_even_when_due_times_tie(database: Database) -> None:
    tenant, connection_id = await _connection_with_items(database, 6)
    async with database.tenant_session(tenant.id) as session:
        await session.execute(update(ExportItem).values(next_attempt_at=func.now() - text("interval '1 minute'")))
    for expected in (3, 3, 0):
        async with database.tenant_session(tenant.id) as session:
            items = await claim_due_items(
                session,
                tenant_id=tenant.id,
                connection_id=connection_id,
                token="w",
                actor="worker:w",
                limit=3,
                lease_seconds=60,
            )
        assert len(items) == expected


async def test_only_the_claim_that_holds_an_item_may_record_what_it_sends_or_renew_it(database: Database) -> None:
    """Tokens are per claim: a stale job of the same worker, with the same worker id, is refused."""
    tenant, connection_id = await _connection_with_items(database, 1)
    stale, fresh = new_claim_token("w1"), new_claim_token("w1")
    async with database.tenant_session(tenant.id) as session:
        [item] = await claim_due_items(
            session,
            tenant_id=tenant.id,
            connection_id=connection_id,
            token=fresh,
            actor="worker:w1",
            limit=1,
            lease_seconds=60,
        )
    sending = [Sending(item.id, {"reference": item.idempotency_key, "memo": "as sent"}, 1, "request-1")]
    async with database.tenant_session(tenant.id) as session:
        refused = await record_sending(session, tenant_id=tenant.id, token=stale, sending=sending, lease_seconds=60)
        renewed_stale = await renew_lease(session, tenant_id=tenant.id, token=stale, lease_seconds=60)
        held = await record_sending(session, tenant_id=tenant.id, token=fresh, sending=sending, lease_seconds=60)
        renewed = await renew_lease(session, tenant_id=tenant.id, token=fresh, lease_seconds=600)
        row = await session.get(ExportItem, item.id)
    assert stale != fresh and stale.startswith("w1/")
    assert (refused, renewed_stale) == (set(), 0)
    assert (held, renewed) == ({item.id}, 1)
    assert row is not None and row.document == sending[0].document
    assert (row.send_generation, row.request_key) == (1, "request-1")


async def test_the_reconciler_skips_an_expired_item_a_batch_is_finishing_instead_of_waiting(database: Database) -> None:
    """Waiting for a locked item while holding others deadlocked with the batch finishing it (a stale job's finish
    against the reconciler, in the exactly-once schedules). It now returns what is free and leaves the rest to its
    next pass."""
    tenant, connection_id = await _connection_with_items(database, 2)
    token = new_claim_token("worker:w")
    async with database.tenant_session(tenant.id) as session:
        claimed = await claim_due_items(
            session,
            tenant_id=tenant.id,
            connection_id=connection_id,
            token=token,
            actor="worker:w",
            limit=2,
            lease_seconds=60,
        )
        await session.execute(
            update(ExportItem)
            .where(ExportItem.tenant_id == tenant.id)
            .values(lease_expires_at=func.now() - text("interval '1 second'"))
        )
    busy, free = sorted(item.id for item in claimed)
    async with database.tenant_session(tenant.id) as finishing:  # a batch holds `busy` while it finishes
        await finishing.execute(select(ExportItem.id).where(ExportItem.id == busy).with_for_update())
        returned = await asyncio.wait_for(return_expired_leases(database), timeout=5)
    assert returned >= 1
    async with database.tenant_session(tenant.id) as session:
        states = dict(
            (
                await session.execute(select(ExportItem.id, ExportItem.state).where(ExportItem.tenant_id == tenant.id))
            ).all()
        )
    assert states == {busy: ExportState.RUNNING.value, free: ExportState.PENDING.value}
    assert await return_expired_leases(database) >= 1  # the next pass returns it
