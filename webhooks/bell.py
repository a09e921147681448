"""Ringing the dispatcher for newly stored events: many events per Redis round trip.

An event announced here is a row just inserted, whose job id (`webhook:{row id}`) nothing else can have used yet,
so the bell queues every event waiting in one round trip (`sync.queue.Queue.enqueue_new`) instead of paying
`enqueue`'s three to four round trips a job for collapsing duplicate ids. While one write is in flight the next
events gather, so batches grow with the load and a lone event waits for no timer.

The ring is only a wake-up (DESIGN.md: Redis rings the bell, PostgreSQL keeps the ledger): the row is committed
before the sender gets its 2xx, and if a write fails, or the process dies before it, the reconciler finds the
event still `received` (`ledgerline_due_webhook_events`) and enqueues it.
"""

import asyncio
import uuid
from dataclasses import dataclass

from core.log import get_logger
from sync.queue import Queue
from webhooks.constants import PROCESS_JOB, PROCESS_JOB_ID

log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class _Announcement:
    tenant_id: uuid.UUID
    event_row_id: uuid.UUID


class DispatchBell:
    def __init__(self, queue: Queue) -> None:
        self._queue = queue
        self._waiting: list[_Announcement] = []
        self._written: asyncio.Future[None] | None = None
        """Resolves once the events now waiting have been written (or their write has failed and been logged)."""
        self._writer: asyncio.Task[None] | None = None

    async def ring(self, *, tenant_id: uuid.UUID, event_row_id: uuid.UUID) -> None:
        """Queue the dispatch job of a committed event; returns once its batch is written. Never raises."""
        self._waiting.append(_Announcement(tenant_id, event_row_id))
        if self._written is None:
            self._written = asyncio.get_running_loop().create_future()
        written = self._written
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_waiting())
        # Shielded: a cancelled caller must not cancel the batch the other callers wait for.
        await asyncio.shield(written)

    async def quiet(self) -> None:
        """Wait until everything rung so far is written (at shut-down)."""
        if self._writer is not None:
            await self._writer

    async def _write_waiting(self) -> None:
        while self._waiting:
            batch, written = self._waiting, self._written
            self._waiting, self._written = [], None
            try:
                await self._write(batch)
            except Exception:
                log.warning("webhook_enqueue_failed", events=len(batch), exc_info=True)
            finally:
                if written is not None:
                    written.set_result(None)

    async def _write(self, batch: list[_Announcement]) -> None:
        await self._queue.enqueue_new(
            PROCESS_JOB,
            [
                (
                    PROCESS_JOB_ID.format(event_id=announcement.event_row_id),
                    (str(announcement.tenant_id), str(announcement.event_row_id)),
                )
                for announcement in batch
            ],
        )
