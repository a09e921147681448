"""A replay gives an item a fresh retry window, however old the item is (against the real database)."""

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from core.db import Database
from core.errors import Transient
from core.models import ExportItem, ExportState
from core.settings import Settings
from sync.constants import RETRY_WINDOW_SECONDS
from sync.export_engine import ExportEngine, _Work
from sync.item_queries import ItemFilter
from sync.queue import Queue
from sync.replay import replay_item, request_replay, work_replay
from tests.conftest import TenantFixture
from tests.sync.test_replay import failed_items

OLDER_THAN_THE_WINDOW = timedelta(seconds=RETRY_WINDOW_SECONDS * 2)


async def _age(database: Database, tenant: TenantFixture) -> None:
    async with database.tenant_session(tenant.id) as session:
        await session.execute(
            update(ExportItem)
            .where(ExportItem.tenant_id == tenant.id)
            .values(created_at=datetime.now(UTC) - OLDER_THAN_THE_WINDOW)
        )


async def _decision_on_a_transient_error(database: Database, tenant: TenantFixture, item_id: uuid.UUID) -> ExportState:
    async with database.tenant_session(tenant.id) as session:
        item = await session.get(ExportItem, item_id)
        assert item is not None
        item.attempt_count += 1  # the engine counts the attempt it is deciding on
        state, _, _ = ExportEngine(database, owner="w1")._decide(
            _Work(item, result=Transient("a read failed")), datetime.now(UTC)
        )
        await session.rollback()
    return state


async def test_a_replayed_item_older_than_the_retry_window_is_retried_after_a_transient_error(
    database: Database, tenant: TenantFixture
) -> None:
    _, (item_id,) = await failed_items(database, tenant, 1)
    await _age(database, tenant)
    async with database.tenant_session(tenant.id) as session:
        replayed = await replay_item(session, tenant_id=tenant.id, item_id=item_id, actor="support:erin")
    assert replayed.replayed_at is not None and replayed.retry_window_start == replayed.replayed_at
    assert await _decision_on_a_transient_error(database, tenant, item_id) is ExportState.PENDING


async def test_a_bulk_replay_also_restarts_the_retry_window(
    database: Database, tenant: TenantFixture, settings: Settings
) -> None:
    _, ids = await failed_items(database, tenant, 3)
    await _age(database, tenant)
    queue = await Queue.connect(settings.redis_url, settings.queue_name)
    try:
        async with database.tenant_session(tenant.id) as session:
            replay = await request_replay(session, item_filter=ItemFilter(tenant_id=tenant.id), actor="api_key:carol")
        assert await work_replay(database, queue, replay_id=replay.id, tenant_id=tenant.id, owner="w1") == "succeeded"
    finally:
        await queue.close()
    for item_id in ids:
        assert await _decision_on_a_transient_error(database, tenant, item_id) is ExportState.PENDING


async def test_an_item_never_replayed_still_stops_retrying_when_its_window_is_spent(
    database: Database, tenant: TenantFixture
) -> None:
    _, (item_id,) = await failed_items(database, tenant, 1, state=ExportState.PENDING)
    await _age(database, tenant)
    assert await _decision_on_a_transient_error(database, tenant, item_id) is ExportState.NEEDS_ACTION
