"""What an inbound event starts, per provider. A handler decides in the tenant's session and only requests work:
sync runs, which coalesce, so a storm of events collapses into the run already waiting.

A handler either returns an `Outcome` (recorded with the event, including "nothing to do") or raises
`WebhookActionError` with a message for a person (misconfigured, refused): the event is retried with backoff, then
marked failed with that message, and can be replayed once fixed.
"""

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.models import Connection, ConnectionRole, ConnectionStatus, SyncRun, WebhookEvent
from core.repository import TenantRepository
from mappings.settings import ExportSettings
from mappings.settings_store import current_settings
from sync.constants import REALTIME_EXPORT_SETTING
from sync.runs import RunKind, RunRefusedError, RunTrigger, request_run

TRIGGER_SETTING: Final = "trigger"
"""A generic connection setting: `{"connection_id": <destination id>, "kind": <run kind>}`, the run its events start."""
FYLE_REPORT_RESOURCE: Final = "REPORT"
NOTHING_TO_DO: Final = "nothing to do"


class WebhookActionError(Exception):
    """The event cannot be acted on as things stand; the message tells a person what to fix."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class Outcome:
    """What handling one event did, recorded with it (in its audit trail)."""

    message: str
    runs: list[tuple[SyncRun, bool]] = field(default_factory=list)
    """Runs requested, each with True when it is new (False: the event joined a run already waiting)."""
    notes: list[str] = field(default_factory=list)

    def as_data(self) -> dict[str, Any]:
        return {
            "outcome": self.message,
            "runs": [
                {"id": str(run.id), "connection_id": str(run.connection_id), "kind": run.kind, "joined": not created}
                for run, created in self.runs
            ],
            "notes": self.notes,
        }


Handler = Callable[[AsyncSession, WebhookEvent, str], Awaitable[Outcome]]


async def _start(session: AsyncSession, *, destination: Connection, kind: RunKind, actor: str) -> tuple[SyncRun, bool]:
    return await request_run(
        session, connection=destination, kind=kind, trigger=RunTrigger.WEBHOOK, requested_by=actor, join_started=False
    )


def exportable_state(settings: ExportSettings, state: str) -> bool:
    """Whether expenses of a report in `state` may be exported under these settings, for either fund. An expense
    shows its report's state (Fyle), so the fund's expense states decide, narrowed by its report states if set."""
    wanted = state.upper()
    for fund in (settings.reimbursable, settings.card):
        if fund is None:
            continue
        expense_ok = wanted in {name.upper() for name in fund.expense_states}
        report_ok = not fund.report_states or wanted in {name.upper() for name in fund.report_states}
        if expense_ok and report_ok:
            return True
    return False


async def handle_fyle(session: AsyncSession, event: WebhookEvent, actor: str) -> Outcome:
    """A report that reached an exportable state: every destination that would export it pulls (and, with
    real-time export on, exports) now rather than at its next scheduled run."""
    payload = event.payload
    resource, action, data = payload.get("resource"), payload.get("action"), payload.get("data")
    if resource != FYLE_REPORT_RESOURCE or not isinstance(data, dict):
        return Outcome(f"{NOTHING_TO_DO}: {resource} {action} events start no work")
    state, report_id = str(data.get("state") or ""), data.get("id")
    destinations = (
        await session.scalars(
            select(Connection)
            .where(
                Connection.tenant_id == event.tenant_id,
                Connection.role == ConnectionRole.DESTINATION.value,
                Connection.status != ConnectionStatus.DISABLED.value,
            )
            .order_by(Connection.created_at, Connection.id)
        )
    ).all()
    repository = TenantRepository(session, event.tenant_id, actor)
    outcome = Outcome("")
    for destination in destinations:
        stored = await current_settings(repository, destination.id)
        if not exportable_state(stored.settings if stored else ExportSettings(), state):
            continue
        realtime = destination.settings.get(REALTIME_EXPORT_SETTING) is True
        try:
            outcome.runs.append(
                await _start(
                    session, destination=destination, kind=RunKind.REALTIME if realtime else RunKind.PULL, actor=actor
                )
            )
        except RunRefusedError as exc:  # its work waits for re-authorization; the next run after it pulls this too
            outcome.notes.append(f"{destination.name}: {exc}")
    if outcome.runs:
        kinds = ", ".join(sorted({run.kind for run, _ in outcome.runs}))
        outcome.message = f"report {report_id} is {state}: {len(outcome.runs)} run(s) requested ({kinds})"
    elif outcome.notes:
        outcome.message = f"report {report_id} is {state}, but no destination can run now"
    else:
        outcome.message = f"{NOTHING_TO_DO}: report {report_id} is {state or 'without a state'}, not exportable"
    return outcome


async def _trigger_destination(session: AsyncSession, event: WebhookEvent) -> tuple[Connection, RunKind]:
    """The destination and run kind a generic connection's `trigger` setting names, checked."""
    example = f'settings.{TRIGGER_SETTING} = {{"connection_id": "<destination connection id>", "kind": "sync"}}'
    sender = await session.get(Connection, event.connection_id)
    if sender is None:
        raise WebhookActionError(f"the connection {event.connection_id} that received this event no longer exists")
    trigger = sender.settings.get(TRIGGER_SETTING)
    if not isinstance(trigger, dict):
        raise WebhookActionError(f"generic connection '{sender.name}' has no trigger configured; set {example}")
    try:
        target_id = uuid.UUID(str(trigger.get("connection_id")))
    except ValueError:
        raise WebhookActionError(
            f"generic connection '{sender.name}': trigger.connection_id must be a connection id; set {example}"
        ) from None
    try:
        kind = RunKind(trigger.get("kind", RunKind.SYNC.value))
    except ValueError:
        choices = ", ".join(member.value for member in RunKind)
        raise WebhookActionError(
            f"generic connection '{sender.name}': trigger.kind {trigger.get('kind')!r} is not one of {choices}"
        ) from None
    target = await session.scalar(
        select(Connection).where(Connection.tenant_id == event.tenant_id, Connection.id == target_id)
    )
    if target is None or target.role != ConnectionRole.DESTINATION.value:
        raise WebhookActionError(
            f"generic connection '{sender.name}': trigger.connection_id {target_id} is not a destination connection "
            "of this tenant"
        )
    return target, kind


async def handle_generic(session: AsyncSession, event: WebhookEvent, actor: str) -> Outcome:
    """Any signed event starts the run its connection's `trigger` setting names (a nudge from another system)."""
    destination, kind = await _trigger_destination(session, event)
    try:
        run, created = await _start(session, destination=destination, kind=kind, actor=actor)
    except RunRefusedError as exc:
        raise WebhookActionError(f"the {kind.value} run of '{destination.name}' was refused: {exc}") from exc
    joined = "requested" if created else "joined the waiting one"
    return Outcome(f"{kind.value} run of '{destination.name}' {joined}", runs=[(run, created)])


HANDLERS: Final[dict[str, Handler]] = {"fyle": handle_fyle, "generic": handle_generic}


async def handle(session: AsyncSession, event: WebhookEvent, actor: str) -> Outcome:
    handler = HANDLERS.get(event.provider)
    if handler is None:
        return Outcome(f"{NOTHING_TO_DO}: {event.provider} events start no work yet")
    return await handler(session, event, actor)
