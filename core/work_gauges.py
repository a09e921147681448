"""Gauges of the work ledger, read from PostgreSQL when Prometheus scrapes the API's `/metrics`.

The ledger of work is in PostgreSQL, so that is where queue depth and the age of the oldest due item are true
(Redis may have been flushed). Totals span every tenant through owner-run functions that return counts only
(migration 0008). Reads are throttled, so several scrapers or API replicas cost one query per interval each.
"""

import asyncio
import time

from sqlalchemy import text

from core.constants import WORK_GAUGES_MIN_INTERVAL_SECONDS
from core.db import Database
from core.log import get_logger
from core.metrics import CONNECTIONS, WORK_GAUGES_REFRESHED, WORK_OLDEST_DUE_AGE, WORK_QUEUE_DEPTH

log = get_logger(__name__)


class WorkGauges:
    """Refreshes the ledger gauges of one process from PostgreSQL, at most once per `min_interval` seconds."""

    def __init__(self, database: Database, *, min_interval: float = WORK_GAUGES_MIN_INTERVAL_SECONDS) -> None:
        self.database = database
        self.min_interval = min_interval
        self._read_at: float | None = None
        self._lock = asyncio.Lock()

    async def refresh(self) -> None:
        """Read the gauges unless they are fresh. On failure they are emptied: a stale queue depth would hide an
        outage that `/readyz` and the `ledgerline_work_gauges_refreshed_timestamp_seconds` alert report instead."""
        async with self._lock:
            if self._read_at is not None and time.monotonic() - self._read_at < self.min_interval:
                return
            try:
                async with self.database.unscoped_session() as session:
                    queues = (await session.execute(text("SELECT * FROM ledgerline_work_queue_gauges()"))).all()
                    health = (await session.execute(text("SELECT * FROM ledgerline_connection_health()"))).all()
            except Exception as exc:  # scraping must not fail with the database; the reason goes to the log
                log.warning("work_gauges_unavailable", error=type(exc).__name__)
                for gauge in (WORK_QUEUE_DEPTH, WORK_OLDEST_DUE_AGE, CONNECTIONS):
                    gauge.clear()
                self._read_at = None
                return
            for queue, state, depth, oldest in queues:
                WORK_QUEUE_DEPTH.labels(queue, state).set(depth)
                if state == "due":
                    WORK_OLDEST_DUE_AGE.labels(queue).set(oldest)
            CONNECTIONS.clear()  # a health nobody has any more must drop to nothing, not keep its last count
            for system, role, state, count in health:
                CONNECTIONS.labels(system, role, state).set(count)
            self._read_at = time.monotonic()
            WORK_GAUGES_REFRESHED.set_to_current_time()
