"""The export engine: claim a batch of one destination connection's due items, build, push, record — exactly once.

Per batch:
0. claim nothing while the connection cannot be called: paused, waiting for re-authorization, deferred by its rate
   budget (Retry-After), or behind an open circuit — the items stay pending and keep their attempts;
1. claim due items under a token of this claim alone (lease, SKIP LOCKED) — `leases.claim_due_items`; just one when
   the circuit sends a probe. The lease is renewed while the batch is in flight;
2. build each item's document from its expenses, the settings and the mappings (`mappings.preview_items`, which
   reads settings and mappings once per batch); a missing mapping or an invalid document needs a person, before any
   call to the destination. An item whose earlier send is unsettled (outcome unknown) sends exactly the document it
   first sent instead, and a changed build is noted on it (`document_drift`);
3. items whose outcome is unknown are looked up by reference first, and adopted if found;
4. push the rest, one connector call per `spec.batch_size` documents, one outcome per document; just before each
   call, what each item sends is written down, fenced on the claim (`leases.record_sending`): an item the claim no
   longer holds is not sent;
   A document refused for a closed period (`PeriodClosed`: a refusal, so nothing was applied) is, when the settings
   say so, built again on the next open day (`mappings.closed_periods`) and sent in the same way: written down
   first, under a new generation, so under a new request key;
5. finish every item, fenced on the claim, with an attempt row carrying redacted excerpts; a finish that lost its
   fence writes only the attempt row.

Every connector call holds a concurrency slot of the connection's `RateBudget`, and the budget meters each HTTP
request inside it; each call's outcome is reported to the connection's `CircuitBreaker` (transient failures count,
a refused document does not). An `AuthError` marks the connection `needs_reauth` (audited) before its items go back
to pending. What happens to an item after a failure is decided once, from the error class
(`core.errors.EngineAction`).
"""

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext, suppress
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from connectors.base import DestinationConnector, receipts_incomplete
from connectors.registry import destination_vocabulary
from core.bulk import insert_rows
from core.connection_status import mark_needs_reauth
from core.db import Database
from core.destination_vocabulary import DestinationVocabulary
from core.document_codec import document_from_json, document_to_json
from core.domain import Document, DocumentKind, RemoteDocument
from core.errors import (
    AuthError,
    DestinationRejected,
    EngineAction,
    Excerpt,
    LedgerlineError,
    MappingError,
    OutcomeUnknown,
    PeriodClosed,
    RateLimited,
    Transient,
)
from core.log import get_logger
from core.metrics import count_export, timed_destination_call
from core.models import Attempt, AttemptOutcome, Connection, ConnectionStatus, ExportItem, ExportState
from core.repository import TenantRepository
from core.state_machine import Transition, record_transitions
from mappings.closed_periods import closed_period_hint, next_open_day, redated
from mappings.drift import document_drift
from mappings.errors import MissingMappingsError
from mappings.preview import preview_items
from mappings.settings_store import current_settings
from sync.backoff import BackoffSchedule
from sync.circuit import Admission, CircuitBreaker
from sync.constants import (
    BUDGET_REFUSAL_CODE,
    CLAIM_BATCH,
    CLAIMED_CALLS,
    ENTITY_UNREACHABLE_CODE,
    LEASE_LOST_CODE,
    LEASE_RENEWALS_PER_LEASE,
    LEASE_SECONDS,
)
from sync.entity_routing import connector_in, grouped_by_entity
from sync.leases import (
    Finish,
    Sending,
    claim_due_items,
    finish_items,
    new_claim_token,
    record_sending,
    renew_lease,
)
from sync.rate_budget import RateBudget
from sync.receipts import ReceiptFetcher

T = TypeVar("T")

log = get_logger(__name__)


class Hold(StrEnum):
    """Why a batch claimed nothing although items may be due."""

    PAUSED = "paused"
    """Someone paused the connection."""
    NEEDS_REAUTH = "needs_reauth"
    """The connection is not active (its credentials were refused, or it was disabled)."""
    DEFERRED = "deferred"
    """The rate budget is deferred (the system said when to come back)."""
    CIRCUIT_OPEN = "circuit_open"
    """Recent calls failed transiently; the circuit is cooling down before a probe."""


@dataclass(frozen=True, slots=True)
class ConnectionGuards:
    """The shared limits of one destination connection; both live in Redis, shared by every worker."""

    budget: RateBudget | None = None
    breaker: CircuitBreaker | None = None


@dataclass
class BatchReport:
    held: Hold | None = None
    held_until: datetime | None = None
    probe: bool = False
    """This batch was the circuit's probe."""
    claimed: int = 0
    succeeded: int = 0
    adopted: int = 0
    retrying: int = 0
    needs_action: int = 0
    lost_lease: int = 0
    connection_error: LedgerlineError | None = None
    outcomes: dict[uuid.UUID, str] = field(default_factory=dict)


@dataclass
class _Work:
    item: ExportItem
    document: Document | None = None
    result: RemoteDocument | LedgerlineError | None = None
    sent: bool = False
    """The document went out in this attempt (or its request did): its answer settles the earlier sends."""
    drift: str | None = None
    """How the document the settings and mappings build now differs from the one resent (`document_drift`)."""
    built: Document | None = None
    """The document as the settings and mappings build it now, on its own day: what a re-dated send starts from."""
    fresh: bool = False
    """`document` was built in this attempt (not a resend of what an unsettled send wrote down)."""
    written: bool = False
    """`document` was written down as the item's document in this attempt (`_record_sending`)."""
    redated_to: date | None = None
    """The day `document` was moved to, its own day's period being closed."""


def _excerpt(excerpt: Excerpt | None) -> dict[str, Any] | None:
    return None if excerpt is None else {key: value for key, value in asdict(excerpt).items() if value is not None}


NOT_RUN = (RateLimited, AuthError)
"""Refusals a system gives before it runs a request: they say nothing of what an earlier send of it did. (A
`Transient` may be either: a connection refused before sending, or a connector's "the request ran and the document is
not in it, send it anew" — Intacct's spent control id — so it settles, as before.)"""


def whole_batches(limit: int, batch_size: int) -> int:
    """How many items to claim: at most `limit` (and four calls' worth), rounded down to whole calls of `batch_size`
    documents so that no call goes out part-full for want of a claim (50 claimed, 30 per call, is 30 + 20)."""
    wanted = min(limit, batch_size * CLAIMED_CALLS)
    return max(batch_size, wanted - wanted % batch_size) if wanted >= batch_size else wanted


class ExportEngine:
    def __init__(
        self,
        database: Database,
        *,
        owner: str,
        lease_seconds: int = LEASE_SECONDS,
        backoff: BackoffSchedule | None = None,
    ) -> None:
        self.database = database
        self.owner = owner
        self.lease_seconds = lease_seconds
        self.backoff = backoff or BackoffSchedule()

    async def run_batch(
        self,
        connector: DestinationConnector,
        *,
        tenant_id: uuid.UUID,
        connection_id: uuid.UUID,
        limit: int = CLAIM_BATCH,
        guards: ConnectionGuards | None = None,
        receipts: ReceiptFetcher | None = None,
    ) -> BatchReport:
        guards = guards or ConnectionGuards()
        report = BatchReport()
        if guards.budget is not None and (until := await guards.budget.deferred_until()) is not None:
            report.held, report.held_until = Hold.DEFERRED, until
            return report
        if guards.breaker is not None:
            admission = await guards.breaker.admit()
            if admission is Admission.WAIT:
                report.held, report.held_until = Hold.CIRCUIT_OPEN, (await guards.breaker.state()).until
                return report
            report.probe = admission is Admission.PROBE
        call = _Calls(connector, guards)
        try:
            await self._run(
                connector, tenant_id, connection_id, min(limit, 1) if report.probe else limit, call, report, receipts
            )
        finally:
            if report.probe and not call.reported and guards.breaker is not None:
                await guards.breaker.return_probe()  # nothing reached the system: the next batch probes
        return report

    async def _run(
        self,
        connector: DestinationConnector,
        tenant_id: uuid.UUID,
        connection_id: uuid.UUID,
        limit: int,
        call: "_Calls",
        report: BatchReport,
        receipts: ReceiptFetcher | None = None,
    ) -> None:
        token = new_claim_token(self.owner)
        async with self.database.tenant_session(tenant_id) as session:
            # Checked in the claim's transaction: a job queued before the connection was paused claims nothing.
            held = await _connection_hold(session, connection_id)
            if held is not None:
                report.held = held
                return
            items = await claim_due_items(
                session,
                tenant_id=tenant_id,
                connection_id=connection_id,
                token=token,
                actor=self.actor,
                limit=whole_batches(limit, connector.spec.batch_size),
                lease_seconds=self.lease_seconds,
            )
        report.claimed = len(items)
        if not items:
            return
        work = [_Work(item) for item in items]
        claim = _Claim(tenant_id, token)
        async with self._renewing(claim):
            redating = await self._build(tenant_id, connection_id, work, destination_vocabulary(connector.system))
            try:
                await self._adopt_unknown(call, work)
                await self._attach_adopted(call, work, receipts)
                await self._push(call, claim, work, receipts, redating=redating)
            except LedgerlineError as exc:  # the connection as a whole failed: every unfinished item shares it
                report.connection_error = exc
                for unit in work:
                    if unit.result is None:
                        unit.result = exc
        if call.auth_error is not None:  # before the items return to pending, so none is claimed in between
            await self._pause_connection(tenant_id, connection_id, call.auth_error)
        await self._finish(claim, work, report)

    @property
    def actor(self) -> str:
        return f"worker:{self.owner}"

    @asynccontextmanager
    async def _renewing(self, claim: "_Claim") -> AsyncIterator[None]:
        """Keep the claim's lease while the batch is in flight: a slow destination must not let the reconciler hand
        the items to another worker while this one may still send them."""

        async def renew() -> None:
            while True:
                await asyncio.sleep(self.lease_seconds / LEASE_RENEWALS_PER_LEASE)
                try:
                    async with self.database.tenant_session(claim.tenant_id) as session:
                        await renew_lease(
                            session, tenant_id=claim.tenant_id, token=claim.token, lease_seconds=self.lease_seconds
                        )
                except (SQLAlchemyError, OSError) as exc:  # the next renewal tries again; the fence still holds
                    log.warning("lease_renewal_failed", error=type(exc).__name__)

        renewal = asyncio.create_task(renew())
        try:
            yield
        finally:
            renewal.cancel()
            with suppress(asyncio.CancelledError):
                await renewal

    async def _build(
        self, tenant_id: uuid.UUID, connection_id: uuid.UUID, work: Sequence[_Work], vocabulary: DestinationVocabulary
    ) -> bool:
        """Build every item's document in the words of the connector's `vocabulary`; whether the connection's
        settings re-date documents refused for a closed period."""
        today = datetime.now(UTC).date()
        async with self.database.tenant_session(tenant_id) as session:
            repository = TenantRepository(session, tenant_id, self.actor)
            previews = await preview_items(
                repository, [unit.item for unit in work], export_day=today, vocabulary=vocabulary
            )
            stored = await current_settings(repository, connection_id)
        for unit, preview in zip(work, previews, strict=True):
            item = unit.item
            unit.built = preview.document
            if item.outcome_unknown and item.document is not None:
                # It may be in the destination already: only exactly what was sent may go again, under the same key.
                unit.document = replace(
                    document_from_json(item.document), generation=item.send_generation, request_key=item.request_key
                )
                unit.drift = document_drift(item.document, preview.document, preview.error)
            elif preview.document is not None:
                # Settled, or never written down (so never sent: every send is written down first): a document
                # built now is a new send, under a new generation.
                unit.document = replace(preview.document, generation=item.send_generation + 1)
                unit.fresh = True
            else:
                unit.result = preview.error
        return stored is not None and stored.settings.post_closed_period_to_first_open_day

    async def _adopt_unknown(self, call: "_Calls", work: Sequence[_Work]) -> None:
        """Look up, together, every item whose earlier send may have been applied (even one that cannot be built
        now: its document may exist all the same). Found: adopted. A lookup that failed leaves the item unsent."""
        unknown_work = [unit for unit in work if unit.item.outcome_unknown]
        for entity, unknown in grouped_by_entity(unknown_work, _entity_of):
            connector = call.in_entity(entity)  # where it was sent: only there can it be found, or proved absent
            if isinstance(connector, LedgerlineError):
                for unit in unknown:
                    unit.result = connector
                continue
            found = await call.find_by_references(
                entity,
                connector,
                [(DocumentKind(unit.item.document_type), unit.item.idempotency_key) for unit in unknown],
            )
            for unit, match in zip(unknown, found, strict=True):
                if isinstance(match, RemoteDocument):
                    unit.result = RemoteDocument(remote_id=match.remote_id, url=match.url, adopted=True)
                elif match is not None:
                    unit.result = match

    async def _attach_adopted(self, call: "_Calls", work: Sequence[_Work], receipts: ReceiptFetcher | None) -> None:
        """Receipts of the documents just adopted: the send that created one may have stopped before its receipts
        went (`DestinationConnector.attach_to_adopted`). One whose receipts cannot all be fetched or attached now
        stays unsettled (its error, still unknown: the next attempt adopts it again and attaches what it lacks)."""
        adopted = [
            unit
            for unit in work
            if isinstance(unit.result, RemoteDocument)
            and unit.result.adopted
            and unit.document is not None
            and unit.document.attachment_ids
        ]
        if receipts is None or not adopted:
            return
        for entity, group in grouped_by_entity(adopted, _entity_of):
            connector = call.in_entity(entity)
            if isinstance(connector, LedgerlineError):
                continue
            filled = await receipts.attach([(unit.item.id, unit.document) for unit in group if unit.document])
            ready: list[tuple[_Work, Document, RemoteDocument]] = []
            for unit, document in zip(group, filled, strict=True):
                if isinstance(document, LedgerlineError):
                    unit.result = document  # the source failed: fetched and attached on the next attempt
                elif isinstance(unit.result, RemoteDocument):
                    ready.append((unit, document, unit.result))
            attached = await call.attach_to_adopted(
                entity, connector, [(document, found) for _, document, found in ready]
            )
            for (unit, document, found), outcome in zip(ready, attached, strict=True):
                if isinstance(outcome, OutcomeUnknown):
                    unit.result = outcome
                elif outcome is not None:  # the call as a whole failed: unsettled, unless waiting cannot help
                    unit.result = receipts_incomplete(document, found.remote_id, outcome) or unit.result

    async def _push(
        self,
        call: "_Calls",
        claim: "_Claim",
        work: Sequence[_Work],
        receipts: ReceiptFetcher | None = None,
        *,
        redating: bool = False,
    ) -> None:
        """Send what is ready; then, while some are refused for a closed period and may move, send those again on
        their next open day (each round moves them forward, so this ends)."""
        ready = [unit for unit in work if unit.result is None and unit.document is not None]
        while ready:
            await self._send(call, claim, ready, receipts)
            ready = self._redate_refused(call.connector, ready, redating=redating)

    def _redate_refused(self, connector: DestinationConnector, sent: Sequence[_Work], *, redating: bool) -> list[_Work]:
        """The items refused for a closed period that move to their next open day, their documents built anew on
        it under a new generation. The others keep their refusal, with a hint of what a person can do."""
        today = datetime.now(UTC).date()
        moved = []
        for unit in sent:
            refusal, document, built = unit.result, unit.document, unit.built
            if not isinstance(refusal, PeriodClosed) or document is None:
                continue
            if built is not None and built.entity != document.entity:
                # Refused by the entity it was first sent to, whose periods say nothing of the entity the mappings
                # now route it to: settled there, it goes to the new one as built, on its own day.
                unit.document = replace(built, generation=document.generation + 1, request_key=None)
                unit.result, unit.sent, unit.written, unit.fresh, unit.redated_to = None, False, False, True, None
                unit.drift = None
                moved.append(unit)
                continue
            day = None
            if redating and built is not None:
                day = next_open_day(
                    refusal, sent_on=document.transaction_date, own_day=built.transaction_date, today=today
                )
            if day is None:
                refusal.hint = closed_period_hint(
                    system=connector.spec.display_name,
                    connection_id=unit.item.destination_connection_id,
                    redating=redating and built is not None,
                )
                continue
            assert built is not None
            unit.document = replace(redated(built, posted_on=day), generation=document.generation + 1, request_key=None)
            # Settled by the refusal; `sent` and `written` again only once the new document goes.
            unit.result, unit.sent, unit.written, unit.fresh, unit.redated_to = None, False, False, True, day
            unit.drift = None  # what goes now is what the settings and mappings build
            moved.append(unit)
        return moved

    async def _send(self, call: "_Calls", claim: "_Claim", ready: list[_Work], receipts: ReceiptFetcher | None) -> None:
        """Chunks of at most `spec.batch_size`, each inside one entity: a request goes to one entity's session."""
        size = call.connector.spec.batch_size
        for entity, group in grouped_by_entity(ready, _entity_of):
            connector = call.in_entity(entity)
            if isinstance(connector, LedgerlineError):
                for unit in group:
                    unit.result = connector
                continue
            for start in range(0, len(group), size):
                await self._send_chunk(call, (entity, connector), claim, group[start : start + size], receipts)

    async def _send_chunk(
        self,
        call: "_Calls",
        reaching: tuple[str | None, DestinationConnector],
        claim: "_Claim",
        chunk: list[_Work],
        receipts: ReceiptFetcher | None,
    ) -> None:
        """One request's worth of documents of one entity, through `reaching` (that entity and its connector)."""
        entity, connector = reaching
        if call.stop is not None:  # the connection cannot take more now: the rest wait, as the chunk did
            for unit in chunk:
                unit.result = call.stop
            return
        if receipts is not None:  # receipts are fetched per chunk: one chunk's bytes in memory at a time
            documents = [(unit.item.id, unit.document) for unit in chunk if unit.document is not None]
            for unit, answer in zip(chunk, await receipts.attach(documents), strict=True):
                if isinstance(answer, LedgerlineError):
                    unit.result = answer  # the source failed: this item retries, the others go
                else:
                    unit.document = answer
            chunk = [unit for unit in chunk if unit.result is None]
        chunk = await self._record_sending(connector, claim, chunk)
        if not chunk:
            return
        outcomes = await call.push(entity, connector, [unit.document for unit in chunk if unit.document is not None])
        for unit, outcome in zip(chunk, outcomes, strict=True):
            unit.result, unit.sent = outcome, True
            if unit.document is not None and unit.document.attachments:
                unit.document = replace(unit.document, attachments=())  # sent: let the bytes go

    async def _record_sending(
        self, connector: DestinationConnector, claim: "_Claim", chunk: list[_Work]
    ) -> list[_Work]:
        """Give new documents their request keys and write down what each item is about to send; the items the
        claim still holds, which alone go out."""
        documents = [unit.document for unit in chunk if unit.document is not None]
        assert len(documents) == len(chunk), "only built documents are sent"
        assigned = iter(connector.request_keys([document for document in documents if document.request_key is None]))
        keys = [document.request_key or next(assigned) for document in documents]
        sending = []
        for unit, document, key in zip(chunk, documents, keys, strict=True):
            unit.document = replace(document, request_key=key)
            sending.append(Sending(unit.item.id, document_to_json(document), document.generation, key))
        async with self.database.tenant_session(claim.tenant_id) as session:
            held = await record_sending(
                session, tenant_id=claim.tenant_id, token=claim.token, sending=sending, lease_seconds=self.lease_seconds
            )
        for unit in chunk:
            if unit.item.id not in held:
                unit.result = LeaseLost()
            else:
                unit.written = True
        return [unit for unit in chunk if unit.result is None]

    async def _pause_connection(self, tenant_id: uuid.UUID, connection_id: uuid.UUID, error: AuthError) -> None:
        """The system refused the connection's credentials: nothing more goes until a person re-authorizes it."""
        async with self.database.tenant_session(tenant_id) as session:
            paused = await mark_needs_reauth(
                session,
                tenant_id=tenant_id,
                connection_id=connection_id,
                reason=error.message,
                actor=self.actor,
                data={"error_code": error.code, "provider_code": error.provider_code},
            )
        if paused:
            log.warning("connection_needs_reauth", connection_id=str(connection_id), reason=error.message)

    async def _finish(self, claim: "_Claim", work: Sequence[_Work], report: BatchReport) -> None:
        now = datetime.now(UTC)
        decided: list[tuple[_Work, Finish, AttemptOutcome]] = []
        for unit in work:
            target, values, outcome = self._decide(unit, now)
            details: dict[str, Any] = {"outcome": outcome.value, "error_class": values.get("error_class")}
            if unit.written and unit.fresh and unit.redated_to is not None and unit.built is not None:
                details["redated"] = {
                    "from": unit.built.transaction_date.isoformat(),
                    "to": unit.redated_to.isoformat(),
                }
            decided.append((unit, Finish(unit.item, target, values, details), outcome))
        transitions: list[Transition] = []
        tenant_id = claim.tenant_id
        async with self.database.tenant_session(tenant_id) as session:
            finished = await finish_items(
                session,
                tenant_id=tenant_id,
                token=claim.token,
                finishes=[finish for _, finish, _ in decided],
                batch=transitions,
            )
            attempts: list[dict[str, Any]] = []
            history: list[dict[str, Any]] = []
            for unit, finish, outcome in decided:
                item, result, target = unit.item, unit.result, finish.target
                assert result is not None
                if item.id not in finished:  # another claim holds it now: what this one did is history only
                    report.lost_lease += 1
                    history.append(_attempt(item, self.owner, outcome, result, now))
                    continue
                if "attempt_count" not in finish.values:  # an item that kept its attempt has no attempt row
                    attempts.append(_attempt(item, self.owner, outcome, result, now))
                report.outcomes[item.id] = target.value
                if target is ExportState.SUCCEEDED:
                    report.succeeded += 1
                    report.adopted += int(isinstance(result, RemoteDocument) and result.adopted)
                elif target is ExportState.PENDING:
                    report.retrying += 1
                else:
                    report.needs_action += 1
            await insert_rows(session, Attempt, attempts)  # with the items' states, in one statement
            await record_transitions(session, tenant_id=tenant_id, actor=self.actor, transitions=transitions)
        if history:
            # Apart, after the finish: an attempt row key-locks its item, which the claim holding it now may be
            # finishing while it waits on an item this finish locked (a deadlock).
            async with self.database.tenant_session(tenant_id) as session:
                await insert_rows(session, Attempt, history)
        for unit, finish, _ in decided:  # counted once committed: a rolled-back finish decided nothing
            result, state = unit.result, finish.target.value if unit.item.id in finished else None
            error = result if isinstance(result, LedgerlineError) else None
            adopted = isinstance(result, RemoteDocument) and result.adopted
            count_export(state=state, adopted=adopted, error_class=error.error_class if error else None)
            if error is not None:
                log.info(
                    "export_item_failed",
                    item_id=str(unit.item.id),
                    state=state or "lost_lease",
                    error_class=error.error_class,
                    error_code=error.code,
                )

    def _decide(self, unit: _Work, now: datetime) -> tuple[ExportState, dict[str, Any], AttemptOutcome]:
        item, result = unit.item, unit.result
        assert result is not None
        values: dict[str, Any]
        # A document built and written down in this attempt says on which day it goes (None: its own); a resend
        # keeps the day recorded when it was first written down.
        redate = {"redated_to": unit.redated_to} if unit.written and unit.fresh else {}
        cleared = {"error_class": None, "error_code": None, "error_message": None, "error_hint": None, **redate}
        if isinstance(result, RemoteDocument):
            outcome = AttemptOutcome.ADOPTED if result.adopted else AttemptOutcome.SUCCEEDED
            values = {
                **cleared,
                "remote_id": result.remote_id,
                "remote_url": result.url,
                "outcome_unknown": False,
                "missing_mappings": None,
                "document_drift": unit.drift,
            }
            return ExportState.SUCCEEDED, values, outcome
        error = result
        values = {
            "error_class": error.error_class,
            "error_code": error.code,
            "error_message": error.message[:2000],
            "error_hint": error.hint,
            # A send the system ran and refused settles the earlier ones too (its control id was theirs, and the
            # lookup before it found nothing); one refused before it ran (rate limit, credentials) or not sent spent
            # nothing of that id and proves nothing of an earlier send that may still land: it stays unknown.
            "outcome_unknown": isinstance(error, OutcomeUnknown)
            or (item.outcome_unknown and (not unit.sent or isinstance(error, NOT_RUN))),
            "document_drift": unit.drift,
            **redate,
        }
        if isinstance(error, MappingError):
            missing = error.details if isinstance(error, MissingMappingsError) else ()
            values["missing_mappings"] = [detail.as_json() for detail in missing] or None
        outcome = AttemptOutcome.OUTCOME_UNKNOWN if isinstance(error, OutcomeUnknown) else AttemptOutcome.FAILED
        if error.action is EngineAction.NEEDS_ACTION:
            return ExportState.NEEDS_ACTION, values, outcome
        if error.action in (EngineAction.PAUSE_CONNECTION, EngineAction.DEFER_CONNECTION):
            # Not the item's fault: it waits without using up an attempt.
            retry_at = error.retry_at if isinstance(error, RateLimited) and error.retry_at else now
            values |= {"attempt_count": item.attempt_count - 1, "next_attempt_at": retry_at}
            return ExportState.PENDING, values, outcome
        next_at = self.backoff.next_attempt(
            attempt=item.attempt_count, first_attempt_at=item.retry_window_start, now=now
        )
        if next_at is None:
            values["error_hint"] = f"Retried for a day without success. {error.hint or ''}".strip()
            return ExportState.NEEDS_ACTION, values, outcome
        values["next_attempt_at"] = next_at
        return ExportState.PENDING, values, outcome


async def _connection_hold(session: AsyncSession, connection_id: uuid.UUID) -> Hold | None:
    row = (
        await session.execute(select(Connection.status, Connection.paused).where(Connection.id == connection_id))
    ).first()
    if row is None or row.status != ConnectionStatus.ACTIVE.value:
        return Hold.NEEDS_REAUTH
    return Hold.PAUSED if row.paused else None


def _entity_of(unit: _Work) -> str | None:
    return unit.document.entity if unit.document is not None else None


@dataclass(frozen=True, slots=True)
class _Claim:
    tenant_id: uuid.UUID
    token: str
    """This claim's lease owner: every write about its items is fenced on it."""


class LeaseLost(Transient):
    """The claim no longer held the item when it was about to be sent: another worker has it, and this one sent
    nothing. Only an attempt row records it."""

    def __init__(self) -> None:
        super().__init__("The item's lease was lost before it was sent; another attempt has it.", code=LEASE_LOST_CODE)


class _Calls:
    """The connector's calls of one batch, each in a concurrency slot of the budget, each reported to the breaker.

    Remembers what the connection as a whole said: refused credentials (`auth_error`) or a rate limit (`stop`),
    after which the batch sends nothing more.
    """

    def __init__(self, connector: DestinationConnector, guards: ConnectionGuards) -> None:
        self.connector = connector
        self.guards = guards
        self.reported = False
        """A call reached the system and its health was reported to the breaker."""
        self.auth_error: AuthError | None = None
        self.stop: LedgerlineError | None = None
        self._own_login_checked = False
        self._own_login_refusal: AuthError | None = None
        """Checked once an entity refuses the login: the connection's own login's refusal, None if it works."""
        if guards.budget is not None:
            guards.budget.meter(connector.http, connector.spec.rate_limit)

    def in_entity(self, entity: str | None) -> DestinationConnector | LedgerlineError:
        """The connector that reaches `entity` (the connection's own for None), or why none can."""
        try:
            return connector_in(self.connector, entity)
        except LedgerlineError as error:
            return error

    async def find_by_references(
        self, entity: str | None, connector: DestinationConnector, wanted: Sequence[tuple[DocumentKind, str]]
    ) -> list[RemoteDocument | LedgerlineError | None]:
        return await self._guarded(
            lambda: connector.find_by_references(wanted), operation="lookup", entity=entity, count=len(wanted)
        )

    async def attach_to_adopted(
        self, entity: str | None, connector: DestinationConnector, adopted: Sequence[tuple[Document, RemoteDocument]]
    ) -> list[LedgerlineError | None]:
        """Per document, None once it has its receipts, else why not: a failure of the whole call is each one's."""
        try:
            return await self._guarded(
                lambda: connector.attach_to_adopted(adopted), operation="attach", entity=entity, count=len(adopted)
            )
        except LedgerlineError as error:
            return [error] * len(adopted)

    async def push(
        self, entity: str | None, connector: DestinationConnector, documents: Sequence[Document]
    ) -> list[RemoteDocument | LedgerlineError]:
        return await self._guarded(
            lambda: connector.push(documents), operation="push", entity=entity, count=len(documents)
        )

    async def _guarded(
        self, send: Callable[[], Awaitable[list[T]]], *, operation: str, entity: str | None, count: int
    ) -> list[T | LedgerlineError]:
        """The call's outcomes. A failure of the whole call fails the batch, unless the call was inside an entity:
        then it is the outcome of each of its documents, and the other entities' go on."""
        budget = self.guards.budget
        slot: AbstractAsyncContextManager[object] = nullcontext() if budget is None else budget.slot(counted=False)
        answer: list[T | LedgerlineError]
        try:
            async with slot, timed_destination_call(self.connector.system, operation) as timing:
                answer = list(await send())
                timing.settle(answer)
        except LedgerlineError as error:
            if entity is None:
                await self._observe([error])
                raise
            answer = [error] * count
        if entity is not None:
            answer = [await self._entity_login(entity, outcome) for outcome in answer]
        await self._observe(answer)
        return answer

    async def _entity_login(self, entity: str, outcome: T | LedgerlineError) -> T | LedgerlineError:
        """An entity refused the login: the credentials are at fault only if the connection's own login fails too.
        Otherwise the entity is (gone, or out of the user's reach), and only the documents routed to it wait."""
        if not isinstance(outcome, AuthError):
            return outcome
        if not self._own_login_checked:
            try:
                await self.connector.check()
            except AuthError as refused:
                self._own_login_refusal = refused
            except LedgerlineError as failed:  # cannot tell now: the documents try again later
                return Transient(
                    f"Logging in to entity {entity} failed, and so did checking the connection's own login "
                    f"({failed.message}).",
                    code=ENTITY_UNREACHABLE_CODE,
                )
            self._own_login_checked = True
        if self._own_login_refusal is not None:
            return self._own_login_refusal
        return DestinationRejected(
            f"{self.connector.spec.display_name} refused the login to entity {entity} ({outcome.message}), though "
            "the connection's own login works.",
            code=ENTITY_UNREACHABLE_CODE,
            hint=f"The entity may be gone, or the user may have no access to it: map the values routed to {entity} "
            "to another entity, or give the user access, then replay.",
        )

    async def _observe(self, outcomes: Sequence[object]) -> None:
        errors = [outcome for outcome in outcomes if isinstance(outcome, LedgerlineError)]
        for error in errors:
            if isinstance(error, AuthError):
                self.auth_error = self.auth_error or error
                self.stop = self.stop or error
            elif isinstance(error, RateLimited) and error.code != BUDGET_REFUSAL_CODE:
                self.stop = self.stop or error
                if self.guards.budget is not None and error.retry_at is not None:
                    await self.guards.budget.defer_until(error.retry_at)  # every worker backs off
            elif isinstance(error, RateLimited):
                self.stop = self.stop or error
        breaker = self.guards.breaker
        if breaker is None:
            return
        if any(not isinstance(outcome, LedgerlineError) for outcome in outcomes):
            await breaker.record_success()  # the system answers (a lookup finding nothing is an answer too)
            self.reported = True
        elif any(isinstance(error, Transient | OutcomeUnknown) for error in errors):
            await breaker.record_failure()
            self.reported = True


def _attempt(
    item: ExportItem, owner: str, outcome: AttemptOutcome, result: RemoteDocument | LedgerlineError, now: datetime
) -> dict[str, Any]:
    """The `attempts` row of this try."""
    error = result if isinstance(result, LedgerlineError) else None
    return {
        "id": uuid.uuid4(),
        "tenant_id": item.tenant_id,
        "export_item_id": item.id,
        "number": item.attempt_count,
        "worker": owner,
        "outcome": outcome.value,
        "error_class": error.error_class if error else None,
        "error_code": error.code if error else None,
        "error_message": error.message[:2000] if error else None,
        "request_excerpt": _excerpt(error.request) if error and error.request else None,  # SQL NULL (`core.bulk`)
        "response_excerpt": _excerpt(error.response) if error and error.response else None,
        "finished_at": now,
    }
