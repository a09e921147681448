"""What an inbound event starts. The sender's connector reads its payload into neutral events
(`Connector.webhook_events`), so nothing here knows a system's payloads; the generic sender starts the run its
connection names. A source's news (records reached a state) starts runs of the destinations that export them; a
destination's news (its records changed, documents may be paid) starts an import or a payments run of the very
connection the event came to. Handling decides in the tenant's session and only requests work: sync runs, which
coalesce, so a storm of events collapses into the run already waiting.

A handler either returns an `Outcome` (recorded with the event, including "nothing to do") or raises
`WebhookActionError` with a message for a person (misconfigured, refused): the event is retried with backoff, then
marked failed with that message, and can be replayed once fixed.
"""

import uuid
from dataclasses import dataclass, field
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from connectors.registry import UnknownSystemError, connector_class
from core.domain import DestinationRecordsChanged, DocumentsMayBePaid, RecordsReachedState, WebhookNews
from core.models import Connection, ConnectionRole, ConnectionStatus, SyncRun, WebhookEvent
from core.repository import TenantRepository
from mappings.settings import ExportSettings
from mappings.settings_store import current_settings
from sync.constants import GENERIC_SENDER, REALTIME_EXPORT_SETTING, TRIGGER_SETTING
from sync.runs import RunKind, RunRefusedError, RunTrigger, request_run

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


async def _records_reached_state(
    session: AsyncSession, event: WebhookEvent, actor: str, reached: RecordsReachedState, outcome: Outcome
) -> str:
    """Every destination that would export records in that state pulls (and, with real-time export on, exports) now
    rather than at its next scheduled run. The runs go into `outcome`; the answer says what came of it."""
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
    records, state = ", ".join(reached.record_ids) or "(unnamed)", reached.state or "without a state"
    requested = len(outcome.runs)
    for destination in destinations:
        stored = await current_settings(repository, destination.id)
        if not exportable_state(stored.settings if stored else ExportSettings(), reached.state):
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
    if len(outcome.runs) > requested:
        kinds = ", ".join(sorted({run.kind for run, _ in outcome.runs[requested:]}))
        return f"{records} {state}: {len(outcome.runs) - requested} run(s) requested ({kinds})"
    if outcome.notes:
        return f"{records} {state}, but no destination can run now"
    return f"{NOTHING_TO_DO}: {records} {state}, not exportable"


def _own_run_news(news: WebhookNews) -> tuple[RunKind, str] | None:
    """The run of the receiving connection itself that a destination's news asks for, and what to say of it."""
    if isinstance(news, DestinationRecordsChanged):
        return RunKind.IMPORT, ", ".join(news.attribute_types) or "records"
    if isinstance(news, DocumentsMayBePaid):
        return RunKind.PAYMENTS, "documents " + (", ".join(news.remote_ids) or "(not named)")
    return None


async def _own_runs(
    session: AsyncSession, event: WebhookEvent, actor: str, wanted: dict[RunKind, list[str]], outcome: Outcome
) -> str:
    """One run per kind of the connection the event came to, whatever number of news asked for it (and joining one
    already waiting). A connection that cannot run now (disabled, awaiting re-authorization) is noted, not retried:
    its next run after it is fixed reads the same changes."""
    connection = await session.get(Connection, event.connection_id)
    if connection is None:
        raise WebhookActionError(f"the connection {event.connection_id} that received this event no longer exists")
    said: list[str] = []
    for kind, about in wanted.items():
        changed = "; ".join(dict.fromkeys(about))
        try:
            run, created = await _start(session, destination=connection, kind=kind, actor=actor)
        except RunRefusedError as exc:
            outcome.notes.append(f"{connection.name}: {exc}")
            said.append(f"{NOTHING_TO_DO}: {changed} changed, but the {kind.value} run was refused")
            continue
        outcome.runs.append((run, created))
        said.append(f"{changed} changed: {kind.value} run {'requested' if created else 'joined'}")
    return "; ".join(said)


async def handle_sender_events(session: AsyncSession, event: WebhookEvent, actor: str) -> Outcome:
    """The events the sender's connector reads in the payload, each acted on."""
    try:
        news = connector_class(event.provider).webhook_events(event.payload)
    except UnknownSystemError:
        return Outcome(f"{NOTHING_TO_DO}: no connector for {event.provider} is installed")
    if not news:
        return Outcome(f"{NOTHING_TO_DO}: {event.event_type or 'this event'} starts no work")
    outcome = Outcome("")
    said: list[str] = []
    wanted: dict[RunKind, list[str]] = {}
    for one in news:
        if isinstance(one, RecordsReachedState):
            said.append(await _records_reached_state(session, event, actor, one, outcome))
        elif (own := _own_run_news(one)) is not None:
            wanted.setdefault(own[0], []).append(own[1])
    if wanted:
        said.append(await _own_runs(session, event, actor, wanted, outcome))
    outcome.message = "; ".join(said)
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


async def handle(session: AsyncSession, event: WebhookEvent, actor: str) -> Outcome:
    if event.provider == GENERIC_SENDER:
        return await handle_generic(session, event, actor)
    return await handle_sender_events(session, event, actor)
