"""The Xero destination: the spec's declarations plus the named hooks, each a few lines over its module.

- `classify`: Xero's validation bodies, a disconnected organisation, the day's rate limit (`errors.py`); HTTP
  semantics from the base class;
- `authorized_accounts`: every organisation a consent covers (GET /connections), the admin picks;
- `import_dimensions`: accounts, contacts (paged), tax rates, items, tracking options, since a cursor with
  If-Modified-Since (`dimensions.py`);
- `push`: up to 50 documents per PUT under one Idempotency-Key per request key (`pushing.py`), receipts after;
- `find_by_references`: up to 25 references per GET (`api.py`);
- `payment_status`, `record_payments`: bills' amounts due, Payments under their own key (`payments.py`);
- `booked_documents`: bills, spend money and manual journals read back (`books.py`).
"""

from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import date, datetime
from typing import Any

import httpx

from connectors.base import (
    AuthorizedAccount,
    BookedDocument,
    PaymentToRecord,
    RecordedPayment,
    WebhookHandshake,
    WebhookPart,
)
from connectors.http import response_excerpt
from connectors.pagination import Page, PageRequest, Paginator
from connectors.xero import constants as names
from connectors.xero import webhook_payloads
from connectors.xero.attachments import attachment_names, attachment_path
from connectors.xero.books import booked, booked_filter, is_live
from connectors.xero.dimensions import (
    LISTS,
    category_names,
    dimension_value,
    list_of,
    since_header,
    tracking_values,
)
from connectors.xero.documents import payment
from connectors.xero.errors import classify_response
from connectors.xero.payments import status_of
from connectors.xero.pushing import XeroPushing
from connectors.xero.references import idempotency_key
from connectors.xero.wire import decimal_of, is_guid
from core.domain import DimensionValue, Document, DocumentKind, PaymentStatus, RemoteDocument, WebhookNews
from core.errors import (
    AuthError,
    DestinationRejected,
    EngineAction,
    LedgerlineError,
    OutcomeUnknown,
    ValidationError,
)


class XeroConnector(XeroPushing):
    """One Xero organisation, reached with the consent's OAuth2 tokens and its tenant id."""

    system = names.SYSTEM

    # -- the hooks ----------------------------------------------------------------------------------------------

    def classify(self, response: httpx.Response) -> LedgerlineError | None:
        if response.is_success or response.status_code == httpx.codes.NOT_MODIFIED:
            return None
        return classify_response(response) or super().classify(response)

    @classmethod
    def webhook_event_type(cls, payload: Mapping[str, Any]) -> str | None:
        return webhook_payloads.event_type(payload)

    @classmethod
    def webhook_events(cls, payload: Mapping[str, Any]) -> Sequence[WebhookNews]:
        return webhook_payloads.events(payload)

    @classmethod
    def webhook_parts(cls, payload: Any) -> list[WebhookPart] | WebhookHandshake:
        return webhook_payloads.by_account(payload)

    async def authorized_accounts(self, callback: Mapping[str, str]) -> list[AuthorizedAccount]:
        """Every organisation the consent covers, by tenant id: GET /connections with the new token."""
        response = await self.request(
            "GET", self.context.urls[names.CONNECTIONS_URL], idempotent=True, headers={"Accept": "application/json"}
        )
        try:
            rows = response.json()
        except ValueError:
            rows = None
        if not isinstance(rows, list):
            raise AuthError(
                f"{names.DISPLAY_NAME} did not list the organisations the consent covers.",
                code=names.CODE_NO_TENANT,
                response=response_excerpt(response),
            )
        accounts: list[AuthorizedAccount] = []
        for row in rows:
            if (
                not isinstance(row, dict)
                or row.get("tenantType", names.ORGANISATION_TENANT) != names.ORGANISATION_TENANT
            ):
                continue
            tenant = str(row.get("tenantId") or "")
            if is_guid(tenant):
                name = str(row.get("tenantName") or tenant)
                accounts.append(
                    AuthorizedAccount(account_id=tenant, name=name, settings={names.TENANT_ID_SETTING: tenant})
                )
        if not accounts:
            raise AuthError(
                f"The consent covers no {names.DISPLAY_NAME} organisation.",
                code=names.CODE_NO_TENANT,
                hint="Connect again and tick at least one organisation on Xero's consent page.",
            )
        return accounts

    async def settings_after_authorization(self, callback: Mapping[str, str]) -> dict[str, Any]:
        return dict((await self.authorized_accounts(callback))[0].settings)

    async def check(self) -> None:
        self._organisation_cache = None
        await self.organisation()

    async def attribute_types(self) -> tuple[str, ...]:
        """The spec's types and one `tracking:<NAME>` per tracking category of this organisation."""
        body = await self._get(names.TRACKING_PATH, params={"includeArchived": "true"})
        return (*self.spec.streams, *category_names(self._rows(body, "TrackingCategories")))

    async def import_dimensions(self, attribute_type: str, *, since: datetime | None) -> AsyncIterator[DimensionValue]:
        listed = list_of(attribute_type)
        headers = since_header(listed, since)
        if attribute_type not in LISTS:  # a tracking category's options
            body = await self._get(listed.path, params={"includeArchived": "true"}, **headers)
            for option in tracking_values(attribute_type, self._rows(body, listed.collection)):
                yield option
            return
        params = {"includeArchived": "true"} if listed.archived_param else {}
        if not listed.paged:
            for row in self._rows(await self._get(listed.path, params=params, **headers), listed.collection):
                value = dimension_value(attribute_type, row)
                if value is not None:
                    yield value
            return

        async def fetch(request: PageRequest) -> Page[dict[str, Any]]:
            page = {**params, "page": str(request.page_number), "pageSize": str(request.limit)}
            return Page(records=self._rows(await self._get(listed.path, params=page, **headers), listed.collection))

        paginator: Paginator[dict[str, Any]] = Paginator(
            self.spec.pagination, key=lambda row: row.get(listed.id_field), page_size=names.MAX_PAGE_SIZE
        )
        async for row in paginator.records(fetch):
            value = dimension_value(attribute_type, row)
            if value is not None:
                yield value

    def request_keys(self, documents: Sequence[Document]) -> list[str]:
        """Documents go out `spec.batch_size` to a request; each request's key derives from its documents."""
        keys: list[str] = []
        size = self.spec.batch_size
        for start in range(0, len(documents), size):
            batch = documents[start : start + size]
            keys += [idempotency_key([(document.reference, document.generation) for document in batch])] * len(batch)
        return keys

    async def push(self, documents: Sequence[Document]) -> list[RemoteDocument | LedgerlineError]:
        """One request per request key, under that key; new documents get theirs here."""
        new = [document for document in documents if document.request_key is None]
        assigned = iter(self.request_keys(new))
        keys = [document.request_key or next(assigned) for document in documents]
        requests: dict[str, list[int]] = {}
        for position, key in enumerate(keys):
            requests.setdefault(key, []).append(position)
        outcomes: dict[int, RemoteDocument | LedgerlineError] = {}
        for key, positions in requests.items():
            sent = await self._push_key([documents[position] for position in positions], key)
            outcomes.update(zip(positions, sent, strict=True))
        return [outcomes[position] for position in range(len(documents))]

    async def attach_to_adopted(
        self, adopted: Sequence[tuple[Document, RemoteDocument]]
    ) -> list[LedgerlineError | None]:
        """Receipts of documents adopted after an unknown send: the files the document already has (read first) are
        not sent again, the others under the same keys as ever."""
        outcomes: list[LedgerlineError | None] = []
        for document, found in adopted:
            if not document.attachments:
                outcomes.append(None)
                continue
            try:
                listed = await self._get(attachment_path(document.kind, found.remote_id, "").rstrip("/"))
            except LedgerlineError:
                listed = {}  # each file goes under its own key as ever: one it has is not attached twice
            outcomes.append(await self.upload_receipts(document, found.remote_id, skip=attachment_names(listed)))
        return outcomes

    async def payment_status(self, kind: DocumentKind, remote_ids: Sequence[str]) -> list[PaymentStatus]:
        if kind is not DocumentKind.BILL:
            raise ValidationError(f"{names.DISPLAY_NAME} keeps no payment status for {kind.value} documents.")
        statuses: list[PaymentStatus] = []
        for start in range(0, len(remote_ids), names.LOOKUP_BATCH):
            statuses += [status_of(bill) for bill in await self._bills(remote_ids[start : start + names.LOOKUP_BATCH])]
        return statuses

    async def record_payments(self, payments: Sequence[PaymentToRecord]) -> list[RecordedPayment | LedgerlineError]:
        """Each payment looked up by its Reference first, then created under a key of its own for what the bill
        still owes."""
        outcomes: list[RecordedPayment | LedgerlineError] = []
        for paid in payments:
            try:
                outcomes.append(await self._record_payment(paid))
            except LedgerlineError as error:
                if error.action in (EngineAction.PAUSE_CONNECTION, EngineAction.DEFER_CONNECTION):
                    raise
                outcomes.append(error)
        return outcomes

    async def booked_documents(self, kind: DocumentKind, *, since: date) -> AsyncIterator[BookedDocument]:
        where = booked_filter(kind, since)  # refuses a kind not read back, before a call
        collection, path, id_field = names.OBJECTS[kind]
        base_currency = str((await self.organisation()).get("BaseCurrency") or "")

        async def fetch(request: PageRequest) -> Page[dict[str, Any]]:
            params = {"where": where, "page": str(request.page_number), "pageSize": str(request.limit)}
            return Page(records=self._rows(await self._get(path, params=params), collection))

        paginator: Paginator[dict[str, Any]] = Paginator(self.spec.pagination, key=lambda row: row.get(id_field))
        async for row in paginator.records(fetch):
            if is_live(row):
                yield booked(kind, row, id_field, base_currency)

    # -- payments -----------------------------------------------------------------------------------------------

    async def _bills(self, ids: Sequence[str]) -> list[dict[str, Any]]:
        if not ids:
            return []
        body = await self._get(names.INVOICES_PATH, params={"IDs": ",".join(ids)})
        return self._rows(body, "Invoices")

    async def _record_payment(self, paid: PaymentToRecord) -> RecordedPayment:
        if paid.kind is not DocumentKind.BILL:
            raise ValidationError(f"{names.DISPLAY_NAME} records payments of bills only, not of {paid.kind.value}.")
        existing = await self.find_by_reference(DocumentKind.PAYMENT, paid.reference)
        if existing is not None:
            return RecordedPayment(payment=existing, amount=decimal_of(0))
        bills = [bill for bill in await self._bills([paid.remote_id]) if bill.get("InvoiceID") == paid.remote_id]
        if not bills:
            raise DestinationRejected(f"{names.DISPLAY_NAME} has no bill {paid.remote_id} to pay.", code="not_found")
        due = decimal_of(bills[0].get("AmountDue"))
        if due <= 0:
            return RecordedPayment(payment=None, amount=decimal_of(0))
        body = payment(
            invoice_id=paid.remote_id,
            account=paid.account,
            paid_on=paid.paid_on.isoformat(),
            amount=due,
            reference=paid.reference,
        )
        response = await self.request(
            "PUT",
            self._url(names.PAYMENTS_PATH),
            idempotent=False,
            headers=self._headers(**{names.IDEMPOTENCY_HEADER: idempotency_key([(paid.reference, paid.generation)])}),
            json={"Payments": [body]},
        )
        try:
            rows = response.json().get("Payments")
            created = rows[0] if isinstance(rows, list) and rows else None
        except (ValueError, AttributeError):
            created = None
        remote_id = created.get("PaymentID") if isinstance(created, dict) else None
        if not isinstance(remote_id, str) or not remote_id or remote_id == names.EMPTY_ID:
            raise OutcomeUnknown(
                f"{names.DISPLAY_NAME} answered the payment {paid.reference} with something unreadable.",
                code=names.CODE_UNREADABLE,
                hint="The next run looks the payment up by its reference before paying again.",
                response=response_excerpt(response),
            )
        return RecordedPayment(payment=RemoteDocument(remote_id), amount=due)
