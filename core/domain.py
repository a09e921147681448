"""Canonical domain types: what flows between source connectors, the document builders and destination connectors.

They are system-neutral (no Fyle or Intacct field names) so that a new connector only translates to and from them.
Money is `Decimal`; dates are `date`; timestamps are timezone-aware.
"""

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any


class RecordKind(StrEnum):
    EXPENSE = "expense"
    REPORT = "report"
    EMPLOYEE = "employee"


@dataclass(frozen=True, slots=True)
class SourceItem:
    """One record read from a source stream, as stored in `source_records`."""

    kind: RecordKind
    remote_id: str
    updated_at: datetime
    data: dict[str, Any]
    parent_remote_id: str | None = None
    state: str | None = None


@dataclass(frozen=True, slots=True)
class RecordsReachedState:
    """What a source's webhook said, in no system's words: these records (a report, an expense) reached `state`, so
    whatever exports records in that state may pull them now rather than at its next scheduled run."""

    record_ids: tuple[str, ...]
    state: str


@dataclass(frozen=True, slots=True)
class DestinationRecordsChanged:
    """What a destination's webhook said: records of these attribute types (`account`, `vendor`, …) changed there,
    so its connection imports now (incrementally) rather than at its next scheduled run."""

    attribute_types: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DocumentsMayBePaid:
    """What a destination's webhook said: these documents changed, or a payment was made, so some may now be paid;
    its connection reads payment status now. Empty `remote_ids`: the system named only the payment, not what it
    paid (a payments run reads them all the same)."""

    remote_ids: tuple[str, ...] = ()


WebhookNews = RecordsReachedState | DestinationRecordsChanged | DocumentsMayBePaid
"""Everything a connector may read in a verified webhook payload (`Connector.webhook_events`)."""


@dataclass(frozen=True, slots=True)
class DimensionValue:
    """One destination attribute (account, vendor, project, …) read from the destination."""

    attribute_type: str
    remote_id: str
    name: str
    active: bool
    code: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    updated_at: datetime | None = None


class Fund(StrEnum):
    """Who paid: the employee (to be reimbursed) or the company's card. Each is exported by its own rules."""

    REIMBURSABLE = "reimbursable"
    CARD = "card"


class DocumentKind(StrEnum):
    BILL = "bill"
    EXPENSE_REPORT = "expense_report"
    JOURNAL_ENTRY = "journal_entry"
    CHARGE_CARD_TRANSACTION = "charge_card_transaction"
    CHECK = "check"
    """Paid at once to the employee from a bank account (the account `Document.account` names)."""
    PAYMENT = "payment"
    REIMBURSEMENT = "reimbursement"


@dataclass(frozen=True, slots=True)
class DocumentLine:
    """One line of a document. `account` is a GL account or an expense type, per the document kind."""

    amount: Decimal
    account: str | None = None
    expense_type: str | None = None
    description: str | None = None
    spent_on: date | None = None
    dimensions: dict[str, str] = field(default_factory=dict)
    """Destination dimension type → value id (department, location, project, class, customer, item, udd:NAME)."""
    debit: bool = True
    """Journal entries only: debit or credit."""
    tax_code: str | None = None
    tax_amount: Decimal | None = None
    source_ids: tuple[str, ...] = ()
    """The source expenses this line carries, for tracing."""
    base_amount: Decimal | None = None
    """What the source booked for this line in the document's `base_currency`, tax included, to the cent: set when the
    document is in another currency, so the destination's base figures can be made to equal the source's."""


@dataclass(frozen=True, slots=True)
class Attachment:
    name: str
    content_type: str
    content: bytes
    source_id: str | None = None
    """The source's file id (one of `Document.attachment_ids`): a receipt's identity that does not move when the
    source stops serving another receipt of the same document, so destinations key each upload by it."""


@dataclass(frozen=True, slots=True)
class Document:
    """A destination document to create exactly once, identified by `reference` (the item's idempotency key)."""

    kind: DocumentKind
    reference: str
    transaction_date: date
    currency: str
    lines: tuple[DocumentLine, ...]
    counterparty: str | None = None
    """Vendor id (bill, card transaction payee), employee id (expense report)."""
    memo: str | None = None
    due_date: date | None = None
    exchange_rate: Decimal | None = None
    """Informational: the source's rate from `currency` to `base_currency`. Amounts are never derived from it (the
    source rounds it); base figures come from the lines' `base_amount`."""
    base_currency: str | None = None
    """The currency the source booked the expenses in, which the destination company keeps its books in. Equal to
    `currency` for a document exported as booked; None when unknown (documents stored before it was recorded)."""
    account: str | None = None
    """Charge-card account (card transactions), bank account (payments, checks)."""
    applies_to: str | None = None
    """Payments: the remote id of the document being paid."""
    attachments: tuple[Attachment, ...] = ()
    attachment_ids: tuple[str, ...] = ()
    """Source file ids of the receipts. Builders are pure, so they only name the files; the engine fetches them
    (`SourceConnector.fetch_attachment`) into `attachments` before pushing."""
    journal: str | None = None
    generation: int = 0
    """How many times this reference has been sent after an earlier send was settled. A destination whose
    idempotency token belongs to a request (Intacct's control id) derives it from its documents' references and
    generations: a resend of an unsettled send repeats the token, a settled one gets a fresh token."""
    entity: str | None = None
    """The entity (a company inside a multi-entity destination) the document is posted in, by its remote id; None
    for the entity, if any, the connection itself logs in to. Created, looked up and paid only there."""
    request_key: str | None = None
    """The idempotency token of the request this document goes out in, when it is resent while an earlier send is
    unknown: exactly the token of that earlier request, so whichever of the two arrives second is refused. None for a
    new send: the connector assigns it (`DestinationConnector.request_keys`)."""

    @property
    def total(self) -> Decimal:
        return sum((line.amount for line in self.lines if line.debit), Decimal(0))

    @property
    def is_foreign(self) -> bool:
        """In a currency other than the one the source booked it in (and the books are kept in)."""
        return self.base_currency is not None and self.base_currency != self.currency


@dataclass(frozen=True, slots=True)
class RemoteDocument:
    """Where a pushed (or adopted) document lives in the destination."""

    remote_id: str
    url: str | None = None
    adopted: bool = False
    """True when found by reference rather than created by this call."""


class PaymentState(StrEnum):
    UNPAID = "unpaid"
    PARTIALLY_PAID = "partially_paid"
    PAID = "paid"


@dataclass(frozen=True, slots=True)
class PaymentStatus:
    remote_id: str
    state: PaymentState
    paid_amount: Decimal
    paid_on: date | None = None


class ExportOutcome(StrEnum):
    COMPLETE = "complete"
    ERROR = "error"
    SKIPPED = "skipped"


@dataclass(frozen=True, slots=True)
class ExportStatus:
    """Written back to the source for one source record: what happened to it and where it landed."""

    source_remote_id: str
    kind: RecordKind
    outcome: ExportOutcome
    url: str | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Expense:
    """A source expense in system-neutral terms: what grouping, mappings and document builders read.

    A source connector translates its own records into this (`SourceConnector.to_expense`), so that adding an
    expense platform never touches `mappings/` or `sync/`.
    """

    id: str
    amount: Decimal
    """In `currency`, the currency the expense is booked in (the employee's or org's home currency)."""
    currency: str
    spent_on: date
    category: str
    employee_email: str
    is_reimbursable: bool
    state: str
    updated_at: datetime
    report_id: str | None = None
    report_state: str | None = None
    category_code: str | None = None
    employee_name: str | None = None
    employee_code: str | None = None
    project: str | None = None
    cost_center: str | None = None
    department: str | None = None
    """The employee's department, as the source names it."""
    merchant: str | None = None
    purpose: str | None = None
    foreign_amount: Decimal | None = None
    foreign_currency: str | None = None
    exchange_rate: Decimal | None = None
    tax_amount: Decimal | None = None
    tax_group: str | None = None
    corporate_card_id: str | None = None
    approved_at: datetime | None = None
    posted_at: datetime | None = None
    """Card expenses: when the bank posted the transaction."""
    custom_fields: dict[str, str] = field(default_factory=dict)
    file_ids: tuple[str, ...] = ()
    url: str | None = None
    """A link back to the expense in the source, for people."""
