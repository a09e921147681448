"""The arq worker process: job functions, cron jobs, and the per-process resources they share."""

import os
import socket
import uuid
from datetime import UTC, datetime
from typing import Any

from connectors.url_policy import check_connector_urls
from core.crypto import CredentialVault
from core.db import Database
from core.settings import Settings
from sync import jobs, replay, run_job, webhook_events
from sync.constants import (
    AUDIT_ANCHOR_EVERY_MINUTES,
    CONNECTOR_STATE,
    RECONCILE_EVERY_SECONDS,
    WORKER_HEARTBEAT_EVERY_SECONDS,
)
from sync.queue import Queue, Worker, build_worker, every_minutes, every_seconds


def create_worker(settings: Settings, *, handle_signals: bool = True) -> Worker:
    check_connector_urls(settings)  # refuse at start, not at the first connector call
    worker_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"

    async def on_startup(ctx: dict[str, Any]) -> None:
        ctx["database"] = Database(settings)
        ctx["queue"] = Queue(ctx["redis"], settings.queue_name)
        ctx["settings"] = settings
        ctx["vault"] = CredentialVault(settings.vault_key_list())
        ctx["worker_id"] = worker_id
        ctx[CONNECTOR_STATE] = {}
        ctx["queue_name"] = settings.queue_name
        ctx["started_at"] = datetime.now(UTC).isoformat()

    async def on_shutdown(ctx: dict[str, Any]) -> None:
        database: Database | None = ctx.get("database")
        if database is not None:
            await database.dispose()

    return build_worker(
        url=settings.redis_url,
        queue_name=settings.queue_name,
        functions=[jobs.export_connection, run_job.run_sync, replay.replay_items, webhook_events.process_webhook_event],
        cron_jobs=[
            every_seconds(jobs.record_heartbeat, WORKER_HEARTBEAT_EVERY_SECONDS, name="record_heartbeat"),
            every_seconds(jobs.reconcile_work, RECONCILE_EVERY_SECONDS, name="reconcile_work"),
            every_minutes(jobs.anchor_audit_chains, AUDIT_ANCHOR_EVERY_MINUTES, name="anchor_audit_chains"),
        ],
        on_startup=on_startup,
        on_shutdown=on_shutdown,
        handle_signals=handle_signals,
    )
