"""The connector contract. A connector is its `spec.yaml` plus one small class overriding a few named hooks.

The base class owns the loops and the plumbing: the HTTP client, auth, transport-failure classes, turning
every unsuccessful answer into the error taxonomy through the one `classify` hook. What a newcomer writes:

- a source: `stream` (records since a cursor), `to_expense` (its expense JSON in neutral terms),
  `write_export_status`, and `classify`;
- a destination: `push` (a batch of documents, each with its own idempotency), `find_by_reference`, and
  `classify`; plus `import_dimensions` and `payment_status` for the read side, and optionally `record_payments`
  (payments the source made, recorded against exported documents).

`connectors/fyle` and `connectors/intacct` are the two worked examples.
"""

import uuid
from collections.abc import AsyncIterator, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from types import TracebackType
from typing import Any, ClassVar, Self

import httpx

from connectors.answer_urls import check_answer_url
from connectors.capped_body import IDENTITY, UnreadableEncoding, capped_body
from connectors.constants import RECEIPTS_INCOMPLETE_CODE, TOO_LARGE_CODE, UNREADABLE_FILE_CODE
from connectors.http import (
    build_client,
    rate_limited,
    request_excerpt,
    response_excerpt,
    transport_failure,
    unknown_outcome,
)
from connectors.spec import ConnectorSpec, load_spec
from core.domain import (
    Attachment,
    DimensionValue,
    Document,
    DocumentKind,
    Expense,
    ExportStatus,
    PaymentStatus,
    RemoteDocument,
    SourceItem,
    WebhookNews,
)
from core.errors import AuthError, EngineAction, LedgerlineError, OutcomeUnknown, Transient, ValidationError


@dataclass(frozen=True)
class ConnectorContext:
    """Everything one connection's connector needs. Secrets are already decrypted; never log this object."""

    tenant_id: uuid.UUID
    connection_id: uuid.UUID
    urls: Mapping[str, str]
    """The spec's named URLs, resolved to production or the sandbox."""
    app: Mapping[str, str] = field(default_factory=dict, repr=False)
    """Ledgerline's own credentials with the system (OAuth client, Intacct sender)."""
    credentials: Mapping[str, str] = field(default_factory=dict, repr=False)
    """The tenant's credentials (for credential-mode systems)."""
    settings: Mapping[str, Any] = field(default_factory=dict)
    auth: httpx.Auth | None = None
    transport: httpx.AsyncBaseTransport | None = None
    """Only for tests of HTTP edge cases (respx, MockTransport)."""
    shared: MutableMapping[str, Any] | None = field(default=None, repr=False)
    """What connectors of one process keep beyond one connector's life, each under keys of its own (an Intacct API
    session by its login's fingerprint). A worker lends one for its lifetime; None: nothing outlives the connector."""


@dataclass(frozen=True)
class PaymentToRecord:
    """A payment the source made (it reimbursed the employee), to record against one exported document."""

    kind: DocumentKind
    """Of the paid document: a bill or an expense report."""
    remote_id: str
    """The paid document."""
    reference: str
    """The payment's idempotency key: one reference records at most one payment, however often it is sent."""
    paid_on: date
    account: str
    """The destination's bank account the money is recorded as leaving."""
    method: str | None = None
    """The destination's payment method; None for the connector's default."""
    generation: int = 0
    """As `Document.generation`: bumped by the caller after a send of this payment was refused (settled)."""


@dataclass(frozen=True)
class RecordedPayment:
    """What became of one `PaymentToRecord`: the destination now shows its document paid."""

    payment: RemoteDocument | None
    """The payment (`adopted` when an earlier attempt had recorded it); None when the document owed nothing."""
    amount: Decimal
    """What this call paid: the document's amount due, or zero when adopted or nothing was due."""


@dataclass(frozen=True)
class BookedLine:
    """One line of a document as the destination holds it now."""

    amount: Decimal
    """In the document's currency, tax included."""
    trace: str
    """The text of the field where the line names its source expense ids (`core.traces`)."""


@dataclass(frozen=True)
class BookedDocument:
    """A document as the destination holds it now, whoever created it, for comparing the books with the source."""

    kind: DocumentKind
    remote_id: str
    reference: str
    """The field where Ledgerline keeps an item's reference; whatever a person typed there otherwise."""
    currency: str
    transaction_date: date
    lines: tuple[BookedLine, ...]


@dataclass(frozen=True)
class AuthorizedAccount:
    """One set of books a just-given consent covers. Most systems' consent covers exactly one; some (Xero) cover
    several organisations, and the tenant admin picks which of them become connections, all sharing the consent's
    tokens."""

    account_id: str
    """The system's id of these books; empty where a consent always covers one."""
    name: str
    """What the system calls them, shown when picking; empty where a consent always covers one."""
    settings: Mapping[str, Any]
    """The connection settings to learn for them (`Connector.settings_after_authorization`)."""


@dataclass(frozen=True)
class WebhookPart:
    """The part of an app-level webhook delivery about one account (a QuickBooks company), stored as one event of
    each connection whose spec's `webhook_account_setting` holds `account_id`."""

    account_id: str
    payload: dict[str, Any]
    """What the connection's event stores and `Connector.webhook_events` later reads: only this account's news, so
    no tenant sees another's."""
    event_id: str | None = None
    """The sender's id of this part, when it gives one; None: derived from the part's content, so a redelivery
    deduplicates and two accounts' parts of one delivery do not."""


@dataclass(frozen=True)
class WebhookHandshake:
    """A verified app-level delivery that carries no news and only asks to be answered: the sender checks that the
    address is ours before it sends events (an intent-to-receive check). It is answered 200 with an empty body and
    stores nothing."""


class Connector:
    """Common to every connector: the client, the one classification hook, and the request helper."""

    system: ClassVar[str]
    spec: ClassVar[ConnectorSpec]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "system" in cls.__dict__:
            cls.spec = load_spec(cls.system)

    def __init__(self, context: ConnectorContext) -> None:
        self.context = context
        self.http = build_client(auth=context.auth, transport=context.transport)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self.http.aclose()
        close_auth = getattr(self.context.auth, "aclose", None)
        if close_auth is not None:
            await close_auth()

    async def settings_after_authorization(self, callback: Mapping[str, str]) -> dict[str, Any]:
        """Connection settings to learn right after a user authorizes (Fyle: the org's data cluster; QuickBooks: the
        company its callback names). `callback`: the query parameters the system's redirect carried."""
        return {}

    async def authorized_accounts(self, callback: Mapping[str, str]) -> list[AuthorizedAccount]:
        """The books a just-given consent covers, each with the settings of the connection it would become. Override
        where one consent may cover several (the admin then picks); the default is the one account whose settings
        `settings_after_authorization` learns."""
        return [AuthorizedAccount(account_id="", name="", settings=await self.settings_after_authorization(callback))]

    @classmethod
    def webhook_event_type(cls, payload: Mapping[str, Any]) -> str | None:
        """A verified webhook payload's event type, as stored with the event and shown to support."""
        kind = payload.get("type")
        return kind if isinstance(kind, str) else None

    @classmethod
    def webhook_events(cls, payload: Mapping[str, Any]) -> Sequence[WebhookNews]:
        """What a verified webhook payload says happened, in neutral terms; nothing unless the system says more."""
        return []

    @classmethod
    def webhook_parts(cls, payload: Any) -> list[WebhookPart] | WebhookHandshake:
        """A verified delivery to the app-level address (spec `webhook_address: app`) split by the account each part
        is about, so each part is stored with the connection(s) of that account only; none for other systems. A
        `WebhookHandshake` when the delivery is the sender checking the address (answered, never stored)."""
        return []

    async def check(self) -> None:
        """Prove the credentials work with one cheap call; raise `AuthError` when they do not."""
        raise NotImplementedError

    def classify(self, response: httpx.Response) -> LedgerlineError | None:
        """The one hook that names every failure. Return None for a success.

        The default covers HTTP semantics; override to read error bodies (and call `super().classify`).
        """
        status = response.status_code
        if response.is_success:
            return None
        sent, answer = request_excerpt(response.request), response_excerpt(response)
        if status == 429:
            return rate_limited(response, self.spec.rate_limit, f"{self.spec.display_name} rate limit reached.")
        if status in (401, 403):
            return AuthError(
                f"{self.spec.display_name} refused the credentials ({status}).",
                provider_code=str(status),
                hint="Re-connect the system or check the user's permissions.",
                request=sent,
                response=answer,
            )
        if status >= 500 or response.is_redirect:
            return Transient(
                f"{self.spec.display_name} answered {status}.", provider_code=str(status), request=sent, response=answer
            )
        return ValidationError(
            f"{self.spec.display_name} refused the request ({status}).",
            provider_code=str(status),
            request=sent,
            response=answer,
        )

    async def request(self, method: str, url: str, *, idempotent: bool, **kwargs: Any) -> httpx.Response:
        """Send one request; raise the classified error for any failure. Writes are not idempotent: a write's answer
        that does not prove it was refused (a 5xx, an outage notice) leaves its outcome unknown."""
        try:
            response = await self.http.request(method, url, **kwargs)
        except httpx.TransportError as exc:
            raise transport_failure(exc, idempotent=idempotent) from exc
        error = self.classify(response)
        if error is None:
            return response
        if isinstance(error, Transient) and not idempotent:
            raise unknown_outcome(error)
        raise error

    def answered_url(self, url: object, *, what: str) -> str:
        """An address from one of the system's answers, when the spec allows calling it (`connectors.answer_urls`)."""
        return check_answer_url(url, spec=self.spec, resolved=self.context.urls, what=what)

    async def download(self, url: str, *, name: str, max_bytes: int, **kwargs: Any) -> tuple[httpx.Response, bytes]:
        """GET the bytes of the file `name`, reading no more than `max_bytes`: a larger file (by its Content-Length,
        or as it streams, counted inflated: `connectors.capped_body`) raises `TooLarge` at the cap, without reading
        the rest. Failures are classified as by `request`."""
        headers = {"accept-encoding": IDENTITY, **kwargs.pop("headers", {})}
        try:
            async with self.http.stream("GET", url, headers=headers, **kwargs) as response:
                if not response.is_success:
                    await response.aread()  # an error body, for `classify` to read
                    error = self.classify(response)
                    if error is not None:
                        raise error
                declared = response.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > max_bytes:  # a coded body inflates to more, not less
                    raise TooLarge(self.spec.display_name, name, max_bytes)
                body = await capped_body(response, max_bytes=max_bytes)
        except httpx.TransportError as exc:
            raise transport_failure(exc, idempotent=True) from exc
        except UnreadableEncoding as exc:
            raise ValidationError(
                f"{name} from {self.spec.display_name} could not be read: {exc}.", code=UNREADABLE_FILE_CODE
            ) from exc
        if body is None:
            raise TooLarge(self.spec.display_name, name, max_bytes)
        return response, body


class TooLarge(ValidationError):
    """A file larger than the caller's cap: refused for good, since fetching it again would find it as large."""

    def __init__(self, system: str, name: str, max_bytes: int) -> None:
        super().__init__(
            f"{name} from {system} is larger than {max_bytes // (1024 * 1024)} MiB; it was not read further.",
            code=TOO_LARGE_CODE,
            hint="Attach a smaller file in the source, or attach it in the destination by hand.",
        )
        self.file_name = name
        self.max_bytes = max_bytes


class UnreadableRecord(ValidationError):
    """A source record that cannot be translated (an expense without an amount or a category, …).

    The pull engine keeps such a record, with this message as the reason, and counts it; it never drops it."""

    def __init__(self, message: str, **kwargs: object) -> None:
        kwargs.setdefault("code", "unreadable_record")
        super().__init__(message, **kwargs)  # type: ignore[arg-type]


class PaymentsUnsupported(ValidationError):
    """The destination connector cannot record payments (the default of `DestinationConnector.record_payments`)."""

    def __init__(self, message: str, **kwargs: object) -> None:
        kwargs.setdefault("code", "payments_unsupported")
        super().__init__(message, **kwargs)  # type: ignore[arg-type]


class SourceConnector(Connector):
    """An expense platform: where records come from and where export results are written back."""

    def stream(self, stream: str, *, since: datetime | None) -> AsyncIterator[SourceItem]:
        """Records of `stream` changed at or after `since`, oldest first, one page in memory at a time."""
        raise NotImplementedError

    def to_expense(self, item: SourceItem) -> Expense:
        """One item of the `expenses` stream in system-neutral terms; `UnreadableRecord` saying why if it cannot be.

        Pure (no I/O): the pull engine calls it once per record it reads."""
        raise NotImplementedError

    async def fetch_attachment(self, file_id: str, *, max_bytes: int) -> Attachment:
        """A file's bytes; `TooLarge` once more than `max_bytes` have come (reading stops there)."""
        raise NotImplementedError

    async def write_export_status(self, statuses: Sequence[ExportStatus]) -> None:
        raise NotImplementedError

    async def mark_paid(self, report_ids: Sequence[str]) -> None:
        raise NotImplementedError

    async def push_dimensions(self, attribute_type: str, values: Sequence[DimensionValue]) -> None:
        """Mirror destination values into the source (categories, projects, cost centers)."""
        raise NotImplementedError


class DestinationConnector(Connector):
    """An accounting system: dimensions come from it, documents go to it exactly once."""

    async def attribute_types(self) -> tuple[str, ...]:
        """The dimension types this connection can import: the spec's streams, plus any only the system knows of
        at run time (Intacct's user-defined dimensions)."""
        return self.spec.streams

    def import_dimensions(self, attribute_type: str, *, since: datetime | None) -> AsyncIterator[DimensionValue]:
        raise NotImplementedError

    async def push(self, documents: Sequence[Document]) -> list[RemoteDocument | LedgerlineError]:
        """Create up to `spec.batch_size` documents in as few calls as the system allows.

        Returns one outcome per document, in order: a failure of one document must not fail the others. Each
        document's `reference` is its idempotency key and must be stored where `find_by_reference` finds it.
        """
        raise NotImplementedError

    def in_entity(self, entity: str) -> Self:
        """This connection working inside one entity of a multi-entity destination (`Document.entity`): documents
        routed there are created, looked up, read and paid through what this returns. Override where the system
        has entities; the views share this connector's client and are closed with it."""
        raise ValidationError(
            f"{self.spec.display_name} has no entities to post documents in (entity {entity!r} was asked for).",
            code="no_entities",
            hint="Turn entity routing off in the export settings of this connection.",
        )

    def request_keys(self, documents: Sequence[Document]) -> list[str]:
        """The idempotency token each new document will be sent under, one per document, as `push` sends them.

        The engine writes it down before the push; a document resent while that send is unknown carries it back in
        `Document.request_key`, and `push` sends it under exactly that token again. The default is a token per
        document; a system whose token belongs to a request of many documents overrides it."""
        return [f"{document.reference}:{document.generation}" for document in documents]

    async def attach_to_adopted(
        self, adopted: Sequence[tuple[Document, RemoteDocument]]
    ) -> list[LedgerlineError | None]:
        """Attach the receipts (`Document.attachments`) of documents adopted after an unknown send — found by their
        reference rather than created by a push — in case the send that created them stopped before its receipts
        went. Each document's at most once, however often this is asked. Per document, None once it has them all,
        or `receipts_incomplete`'s error. Default: nothing to do, for a system whose receipts travel in the request
        that creates the document (Intacct): an adopted document has them."""
        return [None] * len(adopted)

    async def find_by_reference(self, kind: DocumentKind, reference: str) -> RemoteDocument | None:
        """The document created earlier with this reference, if any (adopted instead of created twice)."""
        raise NotImplementedError

    async def find_by_references(
        self, wanted: Sequence[tuple[DocumentKind, str]]
    ) -> list[RemoteDocument | LedgerlineError | None]:
        """`find_by_reference` for many: per reference the document, None when none holds it (proved absent), or the
        lookup's own failure. Override where the system can look several up in one call."""
        found: list[RemoteDocument | LedgerlineError | None] = []
        for kind, reference in wanted:
            try:
                found.append(await self.find_by_reference(kind, reference))
            except LedgerlineError as error:
                if error.action is not EngineAction.RETRY:  # the connection as a whole failed: so does the batch
                    raise
                found.append(error)
        return found

    async def payment_status(self, kind: DocumentKind, remote_ids: Sequence[str]) -> list[PaymentStatus]:
        raise NotImplementedError

    def booked_documents(self, kind: DocumentKind, *, since: date) -> AsyncIterator[BookedDocument]:
        """Every `kind` document dated `since` or later, with its lines, page by page (never all in memory): the
        books check reads the destination through it. `ValidationError` for a kind it cannot read back."""
        raise NotImplementedError

    async def record_payments(self, payments: Sequence[PaymentToRecord]) -> list[RecordedPayment | LedgerlineError]:
        """Record each payment once (its `reference` is its idempotency key), paying no more than the document
        still owes. One outcome per payment, in order; a failure of one must not fail the others."""
        raise PaymentsUnsupported(
            f"{self.spec.display_name} cannot record payments made in the source.",
            hint="Pay the documents in the destination; Ledgerline then tells the source.",
        )


def receipts_incomplete(document: Document, remote_id: str, cause: LedgerlineError) -> LedgerlineError | None:
    """What a document that is in the destination but whose receipt upload failed with `cause` comes to.

    A failure that may pass (a 5xx, a timeout, a rate limit, credentials to renew) keeps the item unsettled: it is
    `OutcomeUnknown`, so the next attempt looks the document up, adopts it and attaches the receipts it still lacks
    (`attach_to_adopted`) — the document itself never goes twice, and no receipt is lost. A refusal of the file
    itself (None here) changes nothing by waiting: the document stands without it, and the connector logs why."""
    if cause.action is EngineAction.NEEDS_ACTION and not isinstance(cause, OutcomeUnknown):
        return None
    return OutcomeUnknown(
        f"{document.reference} is in the destination as {remote_id}, but its receipts are not all attached yet "
        f"({cause.message}).",
        code=RECEIPTS_INCOMPLETE_CODE,
        provider_code=cause.provider_code,
        hint="Ledgerline tries again: it finds the document by its reference and attaches only the receipts it lacks.",
    )
