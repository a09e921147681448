"""Stored webhook events become work: claimed with a lease, handled once in effect, finished with their outcome,
retried then failed with a message, freed by the reconciler when their worker dies, and replayed on request.

Events are inserted as the ingress stores them; the job runs in-process with a worker's context dict, against the
real database and Redis.
"""

import secrets
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update

from core.crypto import CredentialVault
from core.db import Database
from core.models import AuditEvent, Connection, RunState, SyncRun, WebhookEvent, WebhookState
from core.settings import Settings
from sync.constants import REALTIME_EXPORT_SETTING
from sync.queue import Queue
from sync.reconciler import (
    WEBHOOK_JOB,
    enqueue_due_webhook_events,
    reconcile,
    return_expired_webhook_leases,
)
from sync.webhook_events import WEBHOOK_MAX_ATTEMPTS, claim_event, finish_event, process_webhook_event
from tests.conftest import TenantFixture, make_tenant
from webhooks.constants import PROCESS_JOB

ARQ_JOB_KEY = "arq:job:{job_id}"
"""Where arq keeps a queued job (arq's `job_key_prefix`)."""


@dataclass
class Hub:
    tenant: TenantFixture
    source_id: uuid.UUID
    destination_id: uuid.UUID
    generic_id: uuid.UUID


def _connection(tenant_id: uuid.UUID, name: str, provider: str, role: str, settings: dict[str, Any]) -> Connection:
    return Connection(
        id=uuid.uuid4(),
        tenant_id=tenant_id,
        name=name,
        provider=provider,
        role=role,
        settings=settings,
        webhook_key=secrets.token_hex(8),
    )


_TENANTS: list[uuid.UUID] = []
"""Tenants made by this module, whose leftover work is put away after each test (see `_put_away`)."""


async def _hub(database: Database, *, destination_settings: dict[str, Any] | None = None) -> Hub:
    """A tenant with a Fyle source, an Intacct destination (default export settings: approved or later) and a
    generic connection whose events start nothing until configured."""
    tenant = await make_tenant(database, "Hooks")
    _TENANTS.append(tenant.id)
    async with database.tenant_session(tenant.id) as session:
        source = _connection(tenant.id, "fyle", "fyle", "source", {})
        destination = _connection(tenant.id, "intacct", "intacct", "destination", destination_settings or {})
        generic = _connection(tenant.id, "ci", "generic", "source", {})
        session.add_all([source, destination, generic])
    return Hub(tenant, source.id, destination.id, generic.id)


def _report_event(action: str, state: str, *, report_id: str = "rpA1b2C3") -> dict[str, Any]:
    """Fyle's payload shape (sandbox/fyle/webhooks.py), trimmed to what matters here."""
    return {
        "resource": "REPORT",
        "action": action,
        "reason": f"Report moved to {state}.",
        "data": {"id": report_id, "state": state, "amount": 120.5, "num_expenses": 2},
    }


async def _store(
    database: Database,
    hub: Hub,
    payload: dict[str, Any],
    *,
    connection_id: uuid.UUID | None = None,
    provider: str = "fyle",
) -> uuid.UUID:
    """An event as the ingress stores it: received, due now, no attempts."""
    event_id = uuid.uuid4()
    async with database.tenant_session(hub.tenant.id) as session:
        session.add(
            WebhookEvent(
                id=event_id,
                tenant_id=hub.tenant.id,
                connection_id=connection_id or hub.source_id,
                provider=provider,
                event_id=f"msg_{secrets.token_hex(12)}",
                event_type=f"{payload.get('resource')}.{payload.get('action')}",
                payload=payload,
            )
        )
    return event_id


async def _event(database: Database, hub: Hub, event_id: uuid.UUID) -> WebhookEvent:
    async with database.tenant_session(hub.tenant.id) as session:
        event = await session.get(WebhookEvent, event_id)
        assert event is not None
        return event


async def _runs(database: Database, hub: Hub) -> list[SyncRun]:
    async with database.tenant_session(hub.tenant.id) as session:
        return list((await session.scalars(select(SyncRun).order_by(SyncRun.created_at))).all())


async def _history(database: Database, hub: Hub, event_id: uuid.UUID) -> list[AuditEvent]:
    async with database.tenant_session(hub.tenant.id) as session:
        return list(
            (
                await session.scalars(
                    select(AuditEvent).where(AuditEvent.entity_id == str(event_id)).order_by(AuditEvent.seq)
                )
            ).all()
        )


async def _make_due(database: Database, hub: Hub, event_id: uuid.UUID) -> None:
    """Skip the backoff wait (the test is about what happens, not when)."""
    async with database.tenant_session(hub.tenant.id) as session:
        await session.execute(
            update(WebhookEvent).where(WebhookEvent.id == event_id).values(next_attempt_at=func.now())
        )


@pytest.fixture(autouse=True)
async def _put_away(database: Database) -> AsyncIterator[None]:
    """Leave no due work behind: later tests' worker processes share this database and would pick it up (runs of
    destinations without credentials, events still received)."""
    yield
    while _TENANTS:
        tenant_id = _TENANTS.pop()
        async with database.tenant_session(tenant_id) as session:
            await session.execute(
                update(SyncRun).where(SyncRun.state.in_(["pending", "running"])).values(state="cancelled")
            )
            await session.execute(
                update(WebhookEvent).where(WebhookEvent.state == "received").values(state="failed", lease_owner=None)
            )


@pytest.fixture
async def queue(settings: Settings) -> AsyncIterator[Queue]:
    queue = await Queue.connect(settings.redis_url, settings.queue_name)
    yield queue
    await queue.close()


@pytest.fixture
def ctx(database: Database, queue: Queue, settings: Settings) -> dict[str, Any]:
    """What the worker's start-up puts in arq's context."""
    return {
        "database": database,
        "queue": queue,
        "settings": settings,
        "vault": CredentialVault(settings.vault_key_list()),
        "worker_id": f"test:{uuid.uuid4().hex[:6]}",
    }


def test_the_reconciler_rings_the_job_the_ingress_rings() -> None:
    assert WEBHOOK_JOB == PROCESS_JOB == process_webhook_event.__name__


async def test_an_approved_report_starts_a_pull_run(database: Database, ctx: dict[str, Any], queue: Queue) -> None:
    hub = await _hub(database)
    event_id = await _store(database, hub, _report_event("ADMIN_APPROVED", "APPROVED"))

    assert await process_webhook_event(ctx, str(hub.tenant.id), str(event_id)) == "processed"

    [run] = await _runs(database, hub)
    assert (run.kind, run.trigger, run.state, run.connection_id) == ("pull", "webhook", "pending", hub.destination_id)
    assert await queue.redis.exists(ARQ_JOB_KEY.format(job_id=f"run:{run.id}:requested")), "the run's bell rang"
    event = await _event(database, hub, event_id)
    assert (event.state, event.attempt_count, event.lease_owner, event.error_message) == ("processed", 1, None, None)
    assert event.processed_at is not None
    [processed] = await _history(database, hub, event_id)
    assert processed.action == "webhook_event.processed"
    assert processed.data["runs"] == [
        {"id": str(run.id), "connection_id": str(hub.destination_id), "kind": "pull", "joined": False}
    ]
    assert "APPROVED" in processed.data["outcome"]
    assert await process_webhook_event(ctx, str(hub.tenant.id), str(event_id)) == "not claimed", "handled once"


async def test_with_realtime_export_an_approved_report_starts_a_run_that_exports(
    database: Database, ctx: dict[str, Any]
) -> None:
    hub = await _hub(database, destination_settings={REALTIME_EXPORT_SETTING: True})
    event_id = await _store(database, hub, _report_event("ADMIN_APPROVED", "APPROVED"))

    assert await process_webhook_event(ctx, str(hub.tenant.id), str(event_id)) == "processed"

    [run] = await _runs(database, hub)
    assert (run.kind, run.trigger) == ("realtime", "webhook"), "the realtime run pulls too: no separate pull run"


async def test_a_repeated_event_joins_the_waiting_run_and_one_after_it_started_gets_another(
    database: Database, ctx: dict[str, Any]
) -> None:
    hub = await _hub(database)
    storm = [await _store(database, hub, _report_event("ADMIN_APPROVED", "APPROVED")) for _ in range(3)]
    for event_id in storm:
        assert await process_webhook_event(ctx, str(hub.tenant.id), str(event_id)) == "processed"
    [run] = await _runs(database, hub)
    joined = [(await _history(database, hub, event_id))[-1].data["runs"][0]["joined"] for event_id in storm]
    assert joined == [False, True, True]

    # Once the run has started its pull, a later change needs a run of its own (and the storm after joins that).
    async with database.tenant_session(hub.tenant.id) as session:
        await session.execute(
            update(SyncRun).where(SyncRun.id == run.id).values(state=RunState.RUNNING.value, started_at=func.now())
        )
    later = [await _store(database, hub, _report_event("MARK_PAID", "PAID")) for _ in range(2)]
    for event_id in later:
        assert await process_webhook_event(ctx, str(hub.tenant.id), str(event_id)) == "processed"
    runs = await _runs(database, hub)
    assert [r.state for r in runs] == ["running", "pending"]


async def test_an_irrelevant_event_is_processed_with_nothing_to_do(database: Database, ctx: dict[str, Any]) -> None:
    hub = await _hub(database)
    submitted = await _store(database, hub, _report_event("STATE_CHANGE_APPROVER_PENDING", "APPROVER_PENDING"))
    other = await _store(database, hub, {"resource": "EXPENSE", "action": "CREATED", "data": {"id": "tx1"}})

    for event_id in (submitted, other):
        assert await process_webhook_event(ctx, str(hub.tenant.id), str(event_id)) == "processed"
        event = await _event(database, hub, event_id)
        assert (event.state, event.error_message) == ("processed", None)
        [processed] = await _history(database, hub, event_id)
        assert processed.data["outcome"].startswith("nothing to do"), processed.data
        assert processed.data["runs"] == []
    assert await _runs(database, hub) == []


async def test_a_generic_event_starts_the_run_its_connection_names(database: Database, ctx: dict[str, Any]) -> None:
    hub = await _hub(database)
    async with database.tenant_session(hub.tenant.id) as session:
        await session.execute(
            update(Connection)
            .where(Connection.id == hub.generic_id)
            .values(settings={"trigger": {"connection_id": str(hub.destination_id), "kind": "import"}})
        )
    event_id = await _store(
        database, hub, {"type": "build.finished", "data": {}}, connection_id=hub.generic_id, provider="generic"
    )

    assert await process_webhook_event(ctx, str(hub.tenant.id), str(event_id)) == "processed"
    [run] = await _runs(database, hub)
    assert (run.kind, run.trigger, run.connection_id) == ("import", "webhook", hub.destination_id)


@pytest.mark.parametrize(
    ("trigger", "message"),
    [
        (None, "has no trigger configured"),
        ({"connection_id": "not-an-id", "kind": "sync"}, "must be a connection id"),
        ({"connection_id": "DESTINATION", "kind": "everything"}, "'everything' is not one of"),
        ({"connection_id": "SOURCE", "kind": "sync"}, "is not a destination connection"),
    ],
)
async def test_a_misconfigured_generic_event_fails_with_its_message_after_the_attempts(
    database: Database, ctx: dict[str, Any], trigger: dict[str, str] | None, message: str
) -> None:
    hub = await _hub(database)
    if trigger is not None:
        named = {"DESTINATION": str(hub.destination_id), "SOURCE": str(hub.source_id)}
        trigger = {key: named.get(value, value) for key, value in trigger.items()}
        async with database.tenant_session(hub.tenant.id) as session:
            await session.execute(
                update(Connection).where(Connection.id == hub.generic_id).values(settings={"trigger": trigger})
            )
    event_id = await _store(
        database, hub, {"type": "ping", "data": {}}, connection_id=hub.generic_id, provider="generic"
    )
    tenant_id = str(hub.tenant.id)

    assert await process_webhook_event(ctx, tenant_id, str(event_id)) == "received"
    event = await _event(database, hub, event_id)
    assert (event.state, event.attempt_count, event.lease_owner) == ("received", 1, None)
    assert event.error_message is not None and message in event.error_message
    assert await process_webhook_event(ctx, tenant_id, str(event_id)) == "not claimed", "it waits out its backoff"

    for attempt in range(2, WEBHOOK_MAX_ATTEMPTS + 1):
        await _make_due(database, hub, event_id)
        expected = "failed" if attempt == WEBHOOK_MAX_ATTEMPTS else "received"
        assert await process_webhook_event(ctx, tenant_id, str(event_id)) == expected

    event = await _event(database, hub, event_id)
    assert (event.state, event.attempt_count) == ("failed", WEBHOOK_MAX_ATTEMPTS)
    assert event.error_message is not None and message in event.error_message
    assert event.processed_at is not None
    actions = [row.action for row in await _history(database, hub, event_id)]
    assert actions == ["webhook_event.retrying"] * (WEBHOOK_MAX_ATTEMPTS - 1) + ["webhook_event.failed"]
    assert await _runs(database, hub) == []
    await _make_due(database, hub, event_id)
    assert await process_webhook_event(ctx, tenant_id, str(event_id)) == "not claimed", "failed waits for a person"


async def test_a_lease_held_by_a_dead_worker_is_returned_by_the_reconciler(
    database: Database, ctx: dict[str, Any], queue: Queue
) -> None:
    hub = await _hub(database)
    event_id = await _store(database, hub, _report_event("ADMIN_APPROVED", "APPROVED"))
    async with database.tenant_session(hub.tenant.id) as session:
        dead = await claim_event(session, event_id=event_id, owner="dead-worker", lease_seconds=60)
    assert dead is not None
    assert await process_webhook_event(ctx, str(hub.tenant.id), str(event_id)) == "not claimed", "leased"
    await return_expired_webhook_leases(database)
    assert (await _event(database, hub, event_id)).lease_owner == "dead-worker", "a live lease is left alone"

    async with database.tenant_session(hub.tenant.id) as session:
        await session.execute(
            update(WebhookEvent)
            .where(WebhookEvent.id == event_id)
            .values(lease_expires_at=func.now() - timedelta(seconds=1))
        )
    assert await return_expired_webhook_leases(database) >= 1
    event = await _event(database, hub, event_id)
    assert (event.state, event.lease_owner, event.lease_expires_at) == ("received", None, None)

    async with database.tenant_session(hub.tenant.id) as session:
        late = await finish_event(session, event=dead, owner="dead-worker", state=WebhookState.PROCESSED, data={})
    assert not late, "the dead worker's late finish is fenced off"

    assert await enqueue_due_webhook_events(database, queue) >= 1
    window_jobs = [key async for key in queue.redis.scan_iter(match=ARQ_JOB_KEY.format(job_id=f"webhook:{event_id}:*"))]
    assert window_jobs, "the reconciler rang the bell for the due event"
    assert await process_webhook_event(ctx, str(hub.tenant.id), str(event_id)) == "processed"
    assert (await _event(database, hub, event_id)).attempt_count == 2


async def test_reconcile_rings_again_for_received_events(database: Database, queue: Queue) -> None:
    """An event whose bell was lost (a flushed Redis, the ingress dying after its commit) is found again."""
    hub = await _hub(database)
    event_id = await _store(database, hub, _report_event("ADMIN_APPROVED", "APPROVED"))
    report = await reconcile(database, queue)
    assert report.webhooks_enqueued >= 1
    keys = [key async for key in queue.redis.scan_iter(match=ARQ_JOB_KEY.format(job_id=f"webhook:{event_id}:*"))]
    assert keys, "the bell rang for the event"


async def test_replay_through_the_api_handles_the_event_again(
    database: Database, ctx: dict[str, Any], client: httpx.AsyncClient
) -> None:
    hub = await _hub(database)
    event_id = await _store(database, hub, _report_event("ADMIN_APPROVED", "APPROVED"))
    headers = hub.tenant.headers
    assert await process_webhook_event(ctx, str(hub.tenant.id), str(event_id)) == "processed"
    refused = await client.post(f"/v1/webhook-events/{uuid.uuid4()}/replay", headers=headers)
    assert refused.status_code == 404

    [first] = await _runs(database, hub)
    async with database.tenant_session(hub.tenant.id) as session:
        await session.execute(update(SyncRun).where(SyncRun.id == first.id).values(state="succeeded"))

    replayed = await client.post(f"/v1/webhook-events/{event_id}/replay", headers=headers)
    assert replayed.status_code == 202, replayed.text
    body = replayed.json()
    assert (body["state"], body["attempt_count"], body["processed_at"]) == ("received", 0, None)
    assert [step["action"] for step in body["history"]] == ["webhook_event.processed", "webhook_event.replayed"]
    again = await client.post(f"/v1/webhook-events/{event_id}/replay", headers=headers)
    assert again.status_code == 409 and again.headers["content-type"] == "application/problem+json"

    assert await process_webhook_event(ctx, str(hub.tenant.id), str(event_id)) == "processed"
    runs = await _runs(database, hub)
    assert [run.kind for run in runs] == ["pull", "pull"] and runs[1].state == "pending", "handled again"

    read = await client.get(f"/v1/webhook-events/{event_id}", headers=headers)
    assert read.status_code == 200
    assert read.json()["payload"]["action"] == "ADMIN_APPROVED"
    assert read.json()["state"] == "processed" and len(read.json()["history"]) == 3


async def test_events_are_listed_newest_first_with_filters_and_a_cursor(
    database: Database, ctx: dict[str, Any], client: httpx.AsyncClient
) -> None:
    hub = await _hub(database)
    stored = [await _store(database, hub, _report_event("ADMIN_APPROVED", "APPROVED")) for _ in range(3)]
    generic = await _store(database, hub, {"type": "x"}, connection_id=hub.generic_id, provider="generic")
    await process_webhook_event(ctx, str(hub.tenant.id), str(stored[0]))
    headers = hub.tenant.headers

    first = await client.get("/v1/webhook-events", headers=headers, params={"limit": 2})
    assert first.status_code == 200, first.text
    second = await client.get(
        "/v1/webhook-events", headers=headers, params={"limit": 2, "cursor": first.json()["next_cursor"]}
    )
    listed = [item["id"] for item in first.json()["items"] + second.json()["items"]]
    assert listed == [str(event_id) for event_id in [generic, *reversed(stored)]]
    assert second.json()["next_cursor"] is None
    assert "payload" not in first.json()["items"][0]

    processed = await client.get("/v1/webhook-events", headers=headers, params={"state": "processed"})
    assert [item["id"] for item in processed.json()["items"]] == [str(stored[0])]
    by_connection = await client.get(
        "/v1/webhook-events", headers=headers, params={"connection_id": str(hub.generic_id)}
    )
    assert [item["id"] for item in by_connection.json()["items"]] == [str(generic)]
