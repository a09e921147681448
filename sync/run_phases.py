"""What each phase of a sync run does. A phase either finishes (None) or asks to be looked at again later (seconds).

Every phase is idempotent and keeps its progress in the database (cursors, item states, owed write-backs), so a
run resumed after a crash simply repeats the phase it was in.
"""

import dataclasses
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from connectors.base import DestinationConnector, SourceConnector
from connectors.factory import open_connector
from core.connection_status import mark_needs_reauth
from core.crypto import CredentialVault
from core.db import Database
from core.errors import AuthError
from core.models import Connection, ConnectionRole, ConnectionStatus, ExportItem, ExportState, SyncRun
from core.settings import Settings
from sync.connection_settings import dimension_pushes
from sync.constants import (
    PUSH_DIMENSIONS_SETTING,
    RECORD_SOURCE_PAYMENTS_SETTING,
    RUN_POLL_SECONDS,
)
from sync.grouping_run import regroup_tenant
from sync.import_engine import import_dimensions, push_dimensions_to_source
from sync.payment_engine import sync_payments
from sync.pull_engine import pull_expenses
from sync.queue import Queue
from sync.rate_budget import RateBudget
from sync.reconciler import ring_export_bell
from sync.runs import RunPhase, log_line
from sync.source_payments import SourcePaymentSettings, record_source_payments
from sync.write_back import write_back_statuses


@dataclass
class RunContext:
    """One step of one run: its row, its counts and log lines so far, and the connectors it opened."""

    database: Database
    queue: Queue
    settings: Settings
    vault: CredentialVault
    run: SyncRun
    actor: str
    counts: dict[str, Any]
    shared: MutableMapping[str, Any] | None = None
    """The worker's connector state (`ConnectorContext.shared`)."""
    log: list[dict[str, Any]] = field(default_factory=list)
    _stack: AsyncExitStack = field(default_factory=AsyncExitStack)
    _destination: DestinationConnector | None = None
    _sources: list[tuple[uuid.UUID, SourceConnector]] | None = None

    @property
    def tenant_id(self) -> uuid.UUID:
        return self.run.tenant_id

    @property
    def connection_id(self) -> uuid.UUID:
        return self.run.connection_id

    async def _open(self, connection_id: uuid.UUID) -> Any:
        connector = await open_connector(
            database=self.database,
            vault=self.vault,
            settings=self.settings,
            tenant_id=self.tenant_id,
            connection_id=connection_id,
            shared=self.shared,
        )
        return await self._stack.enter_async_context(connector)

    async def destination(self) -> DestinationConnector:
        """The run's destination, every call it sends taking its turn in the connection's rate budget (the one its
        exports share, without their day reserve), so imports and payment checks never burst past the limits."""
        if self._destination is None:
            connector = await self._open(self.connection_id)
            if not isinstance(connector, DestinationConnector):
                raise TypeError(f"connection {self.connection_id} is not a destination")
            RateBudget.of_connection(self.queue.redis, self.connection_id, connector).meter(
                connector.http, connector.spec.rate_limit
            )
            self._destination = connector
        return self._destination

    async def sources(self) -> list[tuple[uuid.UUID, SourceConnector]]:
        """The tenant's active source connections (usually one expense platform)."""
        if self._sources is None:
            async with self.database.tenant_session(self.tenant_id) as session:
                ids = (
                    await session.scalars(
                        select(Connection.id)
                        .where(
                            Connection.tenant_id == self.tenant_id,
                            Connection.role == ConnectionRole.SOURCE.value,
                            Connection.status == ConnectionStatus.ACTIVE.value,
                        )
                        .order_by(Connection.created_at)
                    )
                ).all()
            self._sources = []
            for source_id in ids:
                connector = await self._open(source_id)
                if isinstance(connector, SourceConnector):
                    self._sources.append((source_id, connector))
        return self._sources

    def note(self, phase: RunPhase, message: str, **data: Any) -> None:
        self.log.append(log_line(phase, message, **data))

    async def refused(self, error: AuthError) -> None:
        """The destination refused its credentials: it waits for re-authorization, like after a refused export."""
        async with self.database.tenant_session(self.tenant_id) as session:
            await mark_needs_reauth(
                session,
                tenant_id=self.tenant_id,
                connection_id=self.connection_id,
                reason=error.message,
                actor=self.actor,
                data={"error_code": error.code, "provider_code": error.provider_code},
            )

    async def aclose(self) -> None:
        await self._stack.aclose()


PhaseWork = Callable[[RunContext], Awaitable[float | None]]


def _jsonable(report: Any) -> Any:
    """A report dataclass as JSON for `sync_runs.counts`."""
    if dataclasses.is_dataclass(report) and not isinstance(report, type):
        return {item.name: _jsonable(getattr(report, item.name)) for item in dataclasses.fields(report)}
    if isinstance(report, dict):
        return {str(key): _jsonable(value) for key, value in report.items()}
    if isinstance(report, list | tuple | set | frozenset):
        return [_jsonable(value) for value in report]
    if isinstance(report, Decimal | uuid.UUID | datetime | date):
        return str(report)
    return report


async def import_phase(context: RunContext) -> float | None:
    try:
        report = await import_dimensions(
            context.database,
            await context.destination(),
            tenant_id=context.tenant_id,
            connection_id=context.connection_id,
            actor=context.actor,
        )
    except AuthError as exc:
        await context.refused(exc)
        raise
    context.counts["import"] = _jsonable(report)
    context.note(RunPhase.IMPORT, "dimensions imported", report=context.counts["import"])
    settings = (await context.destination()).context.settings
    pushes = dimension_pushes(settings)
    if not pushes:
        if settings.get(PUSH_DIMENSIONS_SETTING) is not None:
            context.note(RunPhase.IMPORT, f"{PUSH_DIMENSIONS_SETTING} must map destination types to source dimensions")
        return None
    for source_id, source in await context.sources():
        pushed = await push_dimensions_to_source(
            context.database,
            source,
            tenant_id=context.tenant_id,
            destination_connection_id=context.connection_id,
            pushes=pushes,
        )
        context.counts.setdefault("pushed", {})[str(source_id)] = pushed
        context.note(RunPhase.IMPORT, f"dimensions pushed to {source.spec.system}", **pushed)
    return None


async def pull_phase(context: RunContext) -> float | None:
    pulled: dict[str, Any] = {}
    for source_id, source in await context.sources():
        report = await pull_expenses(
            context.database, source, tenant_id=context.tenant_id, connection_id=source_id, actor=context.actor
        )
        pulled[str(source_id)] = _jsonable(report)
        context.note(RunPhase.PULL, f"expenses pulled from {source.spec.system}", report=pulled[str(source_id)])
    if not pulled:
        context.note(RunPhase.PULL, "no active source connection: nothing to pull")
    context.counts["pull"] = pulled
    return None


async def group_phase(context: RunContext) -> float | None:
    results = await regroup_tenant(context.database, tenant_id=context.tenant_id, actor=context.actor)
    result = results.get(context.connection_id)
    if result is None:
        context.counts["group"] = {"settings": "missing"}
        context.note(RunPhase.GROUP, "no export settings saved for this destination: nothing is grouped")
        return None
    context.counts["group"] = {
        "created": len(result.created),
        "kept": result.kept,
        "dropped": len(result.dropped),
        "skipped": len(result.skipped),
    }
    context.note(RunPhase.GROUP, "expenses grouped into export items", **context.counts["group"])
    return None


async def _export_progress(context: RunContext) -> dict[str, int]:
    async with context.database.tenant_session(context.tenant_id) as session:
        status = await session.scalar(select(Connection.status).where(Connection.id == context.connection_id))
        if status != ConnectionStatus.ACTIVE.value:
            raise AuthError(
                f"the destination connection is {status}",
                hint="Re-authorize the connection; its items wait and resume without losing attempts.",
            )
        due = ExportItem.next_attempt_at <= func.now()
        rows = await session.execute(
            select(ExportItem.state, due, func.count())
            .where(
                ExportItem.tenant_id == context.tenant_id,
                ExportItem.destination_connection_id == context.connection_id,
                ExportItem.state.in_([ExportState.PENDING.value, ExportState.RUNNING.value])
                | (ExportItem.updated_at >= context.run.started_at),
            )
            .group_by(ExportItem.state, due)
        )
    progress = {"remaining": 0, "retrying": 0, "succeeded": 0, "needs_action": 0, "skipped": 0}
    for state, is_due, count in rows:
        if state == ExportState.RUNNING.value or (state == ExportState.PENDING.value and is_due):
            progress["remaining"] += count
        elif state == ExportState.PENDING.value:
            progress["retrying"] += count
        else:
            progress[state] += count
    return progress


async def export_phase(context: RunContext) -> float | None:
    """Ring the export bell and wait for the destination's due items to be worked. The export jobs do the work,
    taking turns with every other tenant's; this only watches, so a run never holds a worker hostage."""
    progress = await _export_progress(context)
    first_look = "export" not in context.counts
    context.counts["export"] = progress | {
        "total": context.counts.get("export", {}).get("total", progress["remaining"] + progress["succeeded"])
    }
    if progress["remaining"] == 0:
        context.note(RunPhase.EXPORT, "export finished", **progress)
        return None
    await ring_export_bell(context.queue, tenant_id=context.tenant_id, connection_id=context.connection_id)
    if first_look:
        context.note(RunPhase.EXPORT, f"{progress['remaining']} items to export")
    return RUN_POLL_SECONDS


async def write_back_phase(context: RunContext) -> float | None:
    written: dict[str, Any] = {}
    for source_id, source in await context.sources():
        report = await write_back_statuses(
            context.database,
            source,
            tenant_id=context.tenant_id,
            source_connection_id=source_id,
            destination_connection_id=context.connection_id,
            public_url=context.settings.public_url,
        )
        written[str(source_id)] = _jsonable(report)
        context.note(RunPhase.WRITE_BACK, f"export statuses written to {source.spec.system}", **written[str(source_id)])
    context.counts["write_back"] = written
    return None


async def payments_phase(context: RunContext) -> float | None:
    sources = await context.sources()
    destination = await context.destination()
    report = await sync_payments(
        context.database,
        destination,
        sources[0][1] if sources else None,
        tenant_id=context.tenant_id,
        destination_connection_id=context.connection_id,
        actor=context.actor,
    )
    context.counts["payments"] = _jsonable(report)
    context.note(RunPhase.PAYMENTS, "payment status synchronised", report=context.counts["payments"])
    await _source_payments(context, destination)
    return None


async def _source_payments(context: RunContext, destination: DestinationConnector) -> None:
    """When the destination connection opts in, what the source reimbursed is recorded as paid in the destination."""
    try:
        settings = SourcePaymentSettings.of(destination.context.settings)
    except ValueError as exc:
        context.note(RunPhase.PAYMENTS, str(exc))
        return
    if settings is None:
        return
    report = await record_source_payments(
        context.database,
        destination,
        tenant_id=context.tenant_id,
        destination_connection_id=context.connection_id,
        settings=settings,
        actor=context.actor,
    )
    context.counts["source_payments"] = _jsonable(report)
    if report.unsupported is not None:
        context.note(RunPhase.PAYMENTS, f"{RECORD_SOURCE_PAYMENTS_SETTING} ignored: {report.unsupported}")
    else:
        context.note(RunPhase.PAYMENTS, "source payments recorded", report=context.counts["source_payments"])


PHASE_WORK: dict[RunPhase, PhaseWork] = {
    RunPhase.IMPORT: import_phase,
    RunPhase.PULL: pull_phase,
    RunPhase.GROUP: group_phase,
    RunPhase.EXPORT: export_phase,
    RunPhase.WRITE_BACK: write_back_phase,
    RunPhase.PAYMENTS: payments_phase,
}
