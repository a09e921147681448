"""Payment sync, the other way: expenses reimbursed in the source → a payment recorded in the destination.

Opt-in per destination connection (`record_source_payments`). A succeeded bill or expense report whose live
reimbursable expenses the source shows all reimbursed, and that the destination has not been seen paid
(`paid_at IS NULL`), gets a payment in the destination for what it still owes. The payment's reference derives from
the item's idempotency key, so the destination records it at most once: after a crash between its write and our
commit, the next run finds nothing due or has the replayed request refused, and adopts it. The item then gets
`paid_at` and `paid_written_back_at` at once (the source already knows), audited. A refused payment leaves its item
owed, its reason counted in the run, and a new generation (`payment_generation`), so that the next run's send is a
new request rather than a replay of the refused one. A rate limit is raised to the run, which waits for the
allowance and repeats the phase: under a busy allowance (Xero's 60 calls a minute) the payments would otherwise wait
for a next run that nobody may ask for.
"""

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from connectors.base import DestinationConnector, PaymentsUnsupported, PaymentToRecord, RecordedPayment
from core.db import Database
from core.domain import DocumentKind
from core.errors import LedgerlineError, OutcomeUnknown, RateLimited
from core.log import get_logger
from core.models import ExportItem, ExportState, SourceRecord
from sync.constants import (
    AUDIT_ITEM_SOURCE_PAYMENT_RECORDED,
    RECORD_SOURCE_PAYMENTS_SETTING,
    REIMBURSED_SOURCE_STATES,
    SOURCE_PAYMENT_REFERENCE,
)
from sync.entity_routing import SENT_ENTITY, connector_in, grouped_by_entity
from sync.payment_engine import PAID_KINDS, carries_reimbursable, mark_item_paid

log = get_logger(__name__)

_SETTING_KEYS = frozenset({"account", "payment_method"})


@dataclass(frozen=True)
class SourcePaymentSettings:
    account: str
    """The destination's bank account the payments are recorded from."""
    payment_method: str | None = None
    """None: the connector's default."""

    @classmethod
    def of(cls, settings: Mapping[str, Any]) -> "SourcePaymentSettings | None":
        """The opt-in read from a destination connection's settings; None when absent, `ValueError` when malformed."""
        value = settings.get(RECORD_SOURCE_PAYMENTS_SETTING)
        if not value:
            return None
        shape = f'{RECORD_SOURCE_PAYMENTS_SETTING} must be {{"account": "<bank account id>", "payment_method": …}}'
        if not isinstance(value, Mapping) or set(value) - _SETTING_KEYS:
            raise ValueError(shape)
        account, method = value.get("account"), value.get("payment_method")
        if not isinstance(account, str) or not account.strip() or not isinstance(method, str | None):
            raise ValueError(shape)
        return cls(account.strip(), method.strip() if method and method.strip() else None)


@dataclass(frozen=True)
class _Owed:
    id: uuid.UUID
    kind: DocumentKind
    remote_id: str
    reference: str
    """The payment's, derived from the item's idempotency key."""
    generation: int
    entity: str | None
    """Where the paid document was posted: the payment is recorded there."""


@dataclass
class SourcePaymentReport:
    owed: int = 0
    """Items reimbursed in the source and not seen paid in the destination."""
    recorded: int = 0
    adopted: int = 0
    """Payments an earlier attempt had recorded (the destination refused the replayed reference)."""
    nothing_due: int = 0
    """Documents that owed nothing any more (paid in the destination meanwhile)."""
    amount: Decimal = Decimal(0)
    """Paid by the payments recorded in this run."""
    failed: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    """Why payments failed → how many; their items stay owed and the next run tries again."""
    unsupported: str | None = None
    """The destination cannot record payments: the setting is ignored."""


async def record_source_payments(
    database: Database,
    destination: DestinationConnector,
    *,
    tenant_id: uuid.UUID,
    destination_connection_id: uuid.UUID,
    settings: SourcePaymentSettings,
    actor: str,
) -> SourcePaymentReport:
    """Record in the destination what the source reimbursed, in chunks of the connector's batch size."""
    report = SourcePaymentReport()
    paid_on = datetime.now(UTC).date()  # the source's reimbursement day is not kept per expense: the day we learn it
    after: uuid.UUID | None = None
    while True:
        async with database.tenant_session(tenant_id) as session:
            chunk = await _owed_items(session, tenant_id, destination_connection_id, after, destination.spec.batch_size)
        if not chunk:
            return report
        after = chunk[-1].id
        report.owed += len(chunk)
        for entity, rows in grouped_by_entity(chunk, lambda row: row.entity):
            try:
                payer = connector_in(destination, entity)
                outcomes = await payer.record_payments([_payment(row, settings, paid_on) for row in rows])
            except PaymentsUnsupported as exc:
                report.unsupported = exc.message
                log.info("source_payments_unsupported", connection_id=str(destination_connection_id))
                return report
            except RateLimited:
                raise  # the run waits for the allowance and repeats the phase: what went is found by its reference
            except LedgerlineError as exc:  # the whole call failed: its items stay owed for the next run
                _failed(report, exc, [row.id for row in rows])
                if entity is None:
                    return report
                continue  # one entity's failure does not hold the others up
            await _settle(database, tenant_id, rows, outcomes, settings, actor, report)
            limited = next((outcome for outcome in outcomes if isinstance(outcome, RateLimited)), None)
            if limited is not None:
                raise limited  # as above, once the payments that went are written down


async def _settle(
    database: Database,
    tenant_id: uuid.UUID,
    chunk: Sequence[_Owed],
    outcomes: Sequence[RecordedPayment | LedgerlineError],
    settings: SourcePaymentSettings,
    actor: str,
    report: SourcePaymentReport,
) -> None:
    """Write down what each payment call answered."""
    async with database.tenant_session(tenant_id) as session:
        for row, outcome in zip(chunk, outcomes, strict=True):
            if isinstance(outcome, RateLimited):  # not sent: owed as before, the phase repeats it
                continue
            if isinstance(outcome, LedgerlineError):
                _failed(report, outcome, [row.id])
                if not isinstance(outcome, OutcomeUnknown):  # settled: the next send is a new request
                    await _next_generation(session, tenant_id, row)
            elif await _mark_paid(session, tenant_id, row, outcome, settings, actor):
                _count(report, outcome)


def _payment(row: _Owed, settings: SourcePaymentSettings, paid_on: date) -> PaymentToRecord:
    return PaymentToRecord(
        kind=row.kind,
        remote_id=row.remote_id,
        reference=row.reference,
        paid_on=paid_on,
        account=settings.account,
        method=settings.payment_method,
        generation=row.generation,
    )


async def _next_generation(session: AsyncSession, tenant_id: uuid.UUID, row: _Owed) -> None:
    await session.execute(
        update(ExportItem)
        .where(ExportItem.tenant_id == tenant_id, ExportItem.id == row.id)
        .values(payment_generation=row.generation + 1)
    )


async def _owed_items(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    destination_connection_id: uuid.UUID,
    after: uuid.UUID | None,
    limit: int,
) -> list[_Owed]:
    """Unpaid exported bills and expense reports whose every live reimbursable expense the source reimbursed."""
    not_reimbursed = carries_reimbursable(
        or_(SourceRecord.remote_state.is_(None), SourceRecord.remote_state.not_in(REIMBURSED_SOURCE_STATES))
    )
    query = (
        select(
            ExportItem.id,
            ExportItem.document_type,
            ExportItem.remote_id,
            ExportItem.idempotency_key,
            ExportItem.payment_generation,
            SENT_ENTITY,
        )
        .where(
            ExportItem.tenant_id == tenant_id,
            ExportItem.destination_connection_id == destination_connection_id,
            ExportItem.state == ExportState.SUCCEEDED.value,
            ExportItem.paid_at.is_(None),
            ExportItem.document_type.in_([kind.value for kind in PAID_KINDS]),
            ExportItem.remote_id.is_not(None),
            carries_reimbursable(),
            ~not_reimbursed,
        )
        .order_by(ExportItem.id)
        .limit(limit)
    )
    if after is not None:
        query = query.where(ExportItem.id > after)
    return [
        _Owed(
            item_id,
            DocumentKind(kind),
            remote_id,
            SOURCE_PAYMENT_REFERENCE.format(idempotency_key=key),
            generation,
            entity,
        )
        for item_id, kind, remote_id, key, generation, entity in (await session.execute(query)).all()
        if remote_id
    ]


async def _mark_paid(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    row: _Owed,
    outcome: RecordedPayment,
    settings: SourcePaymentSettings,
    actor: str,
) -> bool:
    payment = outcome.payment
    return await mark_item_paid(
        session,
        tenant_id,
        row.id,
        actor=actor,
        action=AUDIT_ITEM_SOURCE_PAYMENT_RECORDED,
        data={
            "remote_id": row.remote_id,
            "payment_id": payment.remote_id if payment is not None else None,
            "adopted": payment is not None and payment.adopted,
            "amount": str(outcome.amount),
            "account": settings.account,
        },
        source_knows=True,
    )


def _count(report: SourcePaymentReport, outcome: RecordedPayment) -> None:
    if outcome.payment is None:
        report.nothing_due += 1
    elif outcome.payment.adopted:
        report.adopted += 1
    else:
        report.recorded += 1
        report.amount += outcome.amount


def _failed(report: SourcePaymentReport, error: LedgerlineError, item_ids: Sequence[uuid.UUID]) -> None:
    report.failed += len(item_ids)
    report.errors[error.message] = report.errors.get(error.message, 0) + len(item_ids)
    for item_id in item_ids:
        log.warning("source_payment_failed", item_id=str(item_id), error_class=error.error_class, code=error.code)
