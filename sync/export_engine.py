"""The export engine: claim a batch of one destination connection's due items, build, push, record — exactly once.

Per batch:
1. claim due items (lease, SKIP LOCKED) — `leases.claim_due_items`;
2. build each item's document from its expenses, the settings and the mappings (`mappings.preview_item`); a missing
   mapping or an invalid document needs a person, before any call to the destination;
3. an item whose last attempt's outcome is unknown is looked up by its reference first and adopted if found;
4. push the rest in one connector call, one outcome per document;
5. finish every item, fenced on the lease, with an attempt row carrying redacted excerpts.

What happens after a failure is decided once, from the error class (`core.errors.EngineAction`).
"""

import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from connectors.base import DestinationConnector
from core.db import Database
from core.domain import Document, DocumentKind, RemoteDocument
from core.errors import EngineAction, Excerpt, LedgerlineError, MappingError, OutcomeUnknown, RateLimited
from core.log import get_logger
from core.models import Attempt, AttemptOutcome, ExportItem, ExportState
from core.repository import TenantRepository
from mappings.errors import MissingMappingsError
from mappings.preview import preview_item
from sync.backoff import BackoffSchedule
from sync.constants import CLAIM_BATCH, LEASE_SECONDS
from sync.leases import claim_due_items, finish_item

log = get_logger(__name__)


@dataclass
class BatchReport:
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


def _excerpt(excerpt: Excerpt | None) -> dict[str, Any] | None:
    return None if excerpt is None else {key: value for key, value in asdict(excerpt).items() if value is not None}


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
    ) -> BatchReport:
        report = BatchReport()
        async with self.database.tenant_session(tenant_id) as session:
            items = await claim_due_items(
                session,
                tenant_id=tenant_id,
                connection_id=connection_id,
                owner=self.owner,
                limit=min(limit, connector.spec.batch_size * 4),
                lease_seconds=self.lease_seconds,
            )
        report.claimed = len(items)
        if not items:
            return report
        work = [_Work(item) for item in items]
        await self._build(tenant_id, work)
        try:
            await self._adopt_unknown(connector, work)
            await self._push(connector, work)
        except LedgerlineError as exc:  # the connection as a whole failed: every unfinished item shares it
            report.connection_error = exc
            for unit in work:
                if unit.result is None:
                    unit.result = exc
        await self._finish(tenant_id, work, report)
        return report

    async def _build(self, tenant_id: uuid.UUID, work: Sequence[_Work]) -> None:
        today = datetime.now(UTC).date()
        async with self.database.tenant_session(tenant_id) as session:
            repository = TenantRepository(session, tenant_id, f"worker:{self.owner}")
            for unit in work:
                preview = await preview_item(repository, export_item_id=unit.item.id, export_day=today)
                if preview.document is not None:
                    unit.document = preview.document
                else:
                    unit.result = preview.error

    async def _adopt_unknown(self, connector: DestinationConnector, work: Sequence[_Work]) -> None:
        for unit in work:
            if unit.result is None and unit.item.outcome_unknown:
                found = await connector.find_by_reference(
                    DocumentKind(unit.item.document_type), unit.item.idempotency_key
                )
                if found is not None:
                    unit.result = RemoteDocument(remote_id=found.remote_id, url=found.url, adopted=True)

    async def _push(self, connector: DestinationConnector, work: Sequence[_Work]) -> None:
        ready = [unit for unit in work if unit.result is None and unit.document is not None]
        if not ready:
            return
        outcomes = await connector.push([unit.document for unit in ready if unit.document is not None])
        for unit, outcome in zip(ready, outcomes, strict=True):
            unit.result = outcome

    async def _finish(self, tenant_id: uuid.UUID, work: Sequence[_Work], report: BatchReport) -> None:
        now = datetime.now(UTC)
        async with self.database.tenant_session(tenant_id) as session:
            for unit in work:
                item, result = unit.item, unit.result
                assert result is not None
                target, values, outcome = self._decide(item, result, now)
                document = _document_json(unit.document)
                if document is not None:
                    values["document"] = document
                finished = await finish_item(
                    session,
                    item=item,
                    owner=self.owner,
                    target=target,
                    values=values,
                    details={"outcome": outcome.value, "error_class": values.get("error_class")},
                )
                if not finished:
                    report.lost_lease += 1
                    continue
                session.add(_attempt(item, self.owner, outcome, result, now))
                report.outcomes[item.id] = target.value
                if target is ExportState.SUCCEEDED:
                    report.succeeded += 1
                    report.adopted += int(isinstance(result, RemoteDocument) and result.adopted)
                elif target is ExportState.PENDING:
                    report.retrying += 1
                else:
                    report.needs_action += 1

    def _decide(
        self, item: ExportItem, result: RemoteDocument | LedgerlineError, now: datetime
    ) -> tuple[ExportState, dict[str, Any], AttemptOutcome]:
        values: dict[str, Any]
        cleared = {"error_class": None, "error_code": None, "error_message": None, "error_hint": None}
        if isinstance(result, RemoteDocument):
            outcome = AttemptOutcome.ADOPTED if result.adopted else AttemptOutcome.SUCCEEDED
            values = {
                **cleared,
                "remote_id": result.remote_id,
                "remote_url": result.url,
                "outcome_unknown": False,
                "missing_mappings": None,
            }
            return ExportState.SUCCEEDED, values, outcome
        error = result
        values = {
            "error_class": error.error_class,
            "error_code": error.code,
            "error_message": error.message[:2000],
            "error_hint": error.hint,
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
        next_at = self.backoff.next_attempt(attempt=item.attempt_count, first_attempt_at=item.created_at, now=now)
        if next_at is None:
            values["error_hint"] = f"Retried for a day without success. {error.hint or ''}".strip()
            return ExportState.NEEDS_ACTION, values, outcome
        values |= {
            "next_attempt_at": next_at,
            "outcome_unknown": item.outcome_unknown or isinstance(error, OutcomeUnknown),
        }
        return ExportState.PENDING, values, outcome


def _document_json(document: Document | None) -> dict[str, Any] | None:
    if document is None:
        return None
    return {
        "kind": document.kind.value,
        "reference": document.reference,
        "transaction_date": document.transaction_date.isoformat(),
        "currency": document.currency,
        "counterparty": document.counterparty,
        "memo": document.memo,
        "total": str(document.total),
        "lines": [
            {
                "amount": str(line.amount),
                "account": line.account,
                "expense_type": line.expense_type,
                "description": line.description,
                "dimensions": line.dimensions,
                "debit": line.debit,
            }
            for line in document.lines
        ],
    }


def _attempt(
    item: ExportItem, owner: str, outcome: AttemptOutcome, result: RemoteDocument | LedgerlineError, now: datetime
) -> Attempt:
    error = result if isinstance(result, LedgerlineError) else None
    return Attempt(
        tenant_id=item.tenant_id,
        export_item_id=item.id,
        number=item.attempt_count,
        worker=owner,
        outcome=outcome.value,
        error_class=error.error_class if error else None,
        error_code=error.code if error else None,
        error_message=error.message[:2000] if error else None,
        request_excerpt=_excerpt(error.request) if error else None,
        response_excerpt=_excerpt(error.response) if error else None,
        finished_at=now,
    )
