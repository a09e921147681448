"""The QuickBooks Online destination: the spec's declarations plus the named hooks, each a few lines over its module.

- `classify`: QuickBooks' `Fault` bodies (`errors.py`); HTTP semantics from the base class;
- `settings_after_authorization`: the company (`realmId`) the OAuth callback names, checked with one read;
- `import_dimensions`: `query` pages in id order, or `cdc` since a recent cursor (`dimensions.py`);
- `push`: up to 30 creates per `POST /batch` under one `requestid` (`batches.py`), receipts uploaded after;
- `find_by_references`: up to 30 DocNumber queries per `POST /batch`;
- `payment_status`, `record_payments`: bills' balances, BillPayments under their own `requestid`;
- `booked_documents`: bills and card purchases read back for the books check (`books.py`).
"""

import json
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from functools import cached_property
from typing import Any

import httpx

from connectors.base import (
    AuthorizedAccount,
    BookedDocument,
    DestinationConnector,
    PaymentToRecord,
    RecordedPayment,
    WebhookPart,
    receipts_incomplete,
)
from connectors.http import request_excerpt, response_excerpt
from connectors.pagination import Page, PageRequest, Paginator
from connectors.quickbooks import constants as names
from connectors.quickbooks import webhook_payloads
from connectors.quickbooks.attachments import upload_form
from connectors.quickbooks.batches import Plan, Planned, answers_by_bid, plan, request_id
from connectors.quickbooks.books import booked, booked_query
from connectors.quickbooks.dimensions import changed_rows, dimension_value, list_query, object_of
from connectors.quickbooks.documents import bill_payment
from connectors.quickbooks.errors import (
    DISPLAY_NAME,
    FaultError,
    classify_fault,
    fault_errors,
    with_first_open_day,
)
from connectors.quickbooks.payments import BILL_PAYMENT, decimal_of, payment_ids, status_of
from connectors.quickbooks.queries import quoted, select
from connectors.quickbooks.references import doc_number, holds_reference
from core.domain import DimensionValue, Document, DocumentKind, PaymentStatus, RemoteDocument, WebhookNews
from core.errors import (
    AuthError,
    DestinationRejected,
    EngineAction,
    LedgerlineError,
    OutcomeUnknown,
    PeriodClosed,
    Transient,
    ValidationError,
)
from core.log import get_logger

Found = RemoteDocument | LedgerlineError | None
log = get_logger(__name__)


class QuickBooksConnector(DestinationConnector):
    """One QuickBooks company (realm), reached with the connection's OAuth2 tokens."""

    system = names.SYSTEM

    @classmethod
    def webhook_event_type(cls, payload: Mapping[str, Any]) -> str | None:
        return webhook_payloads.event_type(payload)

    @classmethod
    def webhook_events(cls, payload: Mapping[str, Any]) -> Sequence[WebhookNews]:
        return webhook_payloads.events(payload)

    @classmethod
    def webhook_parts(cls, payload: Any) -> list[WebhookPart]:
        return webhook_payloads.by_account(payload)

    @cached_property
    def objects(self) -> tuple[tuple[DocumentKind, str], ...]:
        """Each document kind this system creates, with QuickBooks' name for it (from the spec)."""
        return tuple((document.kind, document.object) for document in self.spec.documents)

    @cached_property
    def realm(self) -> str:
        """The company every call of this connection goes to (`{api}/{realmId}/…`)."""
        realm = str(self.context.settings.get(names.REALM_ID_SETTING) or "")
        if not realm.isdigit():
            raise AuthError(
                f"The connection names no {DISPLAY_NAME} company.",
                code=names.CODE_NO_REALM,
                hint="Connect QuickBooks Online again: the authorization names the company.",
            )
        return realm

    def _url(self, path: str, *, realm: str | None = None) -> str:
        return f"{self.context.urls[names.API_URL]}/{realm or self.realm}{path}"

    def _params(self, **extra: str) -> dict[str, str]:
        return {"minorversion": names.MINOR_VERSION, **extra}

    def document_url(self, kind: DocumentKind, remote_id: str) -> str | None:
        path = names.DOCUMENT_URL_PATHS.get(kind)
        return self.context.urls[names.APP_URL] + path.format(id=remote_id) if path else None

    # -- the hooks ----------------------------------------------------------------------------------------------

    def classify(self, response: httpx.Response) -> LedgerlineError | None:
        """A `ValidationFault` (400) by its error code; everything else as HTTP says (401 and 403 are auth, 429 a
        rate limit, 5xx and `SystemFault` transient)."""
        if response.is_success:
            return None
        status = response.status_code
        if status == httpx.codes.BAD_REQUEST:
            try:
                _, errors = fault_errors(response.json())
            except (json.JSONDecodeError, UnicodeDecodeError):
                errors = []
            return classify_fault(
                errors, request=request_excerpt(response.request), response=response_excerpt(response)
            )
        error = super().classify(response)
        if error is not None and error.request is None:
            error.request = request_excerpt(response.request)
        return error

    async def settings_after_authorization(self, callback: Mapping[str, str]) -> dict[str, Any]:
        """The company the user chose on the consent page, as the callback names it (`realmId`), proved by one read
        of it with the new tokens."""
        realm = callback.get(names.REALM_ID_CALLBACK, "")
        if not realm.isdigit():
            raise AuthError(
                f"{DISPLAY_NAME} did not say which company was connected (no realmId).",
                code=names.CODE_NO_REALM,
                hint="Start connecting again and choose a company on the consent page.",
            )
        await self._company_info(realm)
        return {names.REALM_ID_SETTING: realm}

    async def authorized_accounts(self, callback: Mapping[str, str]) -> list[AuthorizedAccount]:
        """The one company the consent names, by its id: re-authorizing a connection through another company is then
        refused instead of re-pointing it at books that hold none of its documents."""
        settings = await self.settings_after_authorization(callback)
        realm = settings[names.REALM_ID_SETTING]
        return [AuthorizedAccount(account_id=realm, name=f"company {realm}", settings=settings)]

    async def check(self) -> None:
        await self._company_info(self.realm)

    async def _company_info(self, realm: str) -> None:
        path = names.COMPANY_INFO_PATH.format(realm_id=realm)
        await self.request("GET", self._url(path, realm=realm), idempotent=True, params=self._params())

    async def import_dimensions(self, attribute_type: str, *, since: datetime | None) -> AsyncIterator[DimensionValue]:
        object_name = object_of(attribute_type)
        if since is not None and datetime.now(UTC) - since < timedelta(days=names.CDC_LOOKBACK_DAYS - 1):
            answer = await self._get(names.CDC_PATH, entities=object_name, changedSince=since.isoformat())
            rows = changed_rows(answer, object_name)
            if len(rows) < names.MAX_RESULTS:  # all of them; a full window is read again by query instead
                for row in rows:
                    yield dimension_value(attribute_type, object_name, row)
                return

        async def fetch(request: PageRequest) -> Page[dict[str, Any]]:
            text = list_query(object_name, since=since, start=request.offset + 1, limit=request.limit)
            return Page(records=(await self._query(text)).get(object_name, []))

        paginator: Paginator[dict[str, Any]] = Paginator(self.spec.pagination, key=lambda row: row.get("Id"))
        async for row in paginator.records(fetch):
            yield dimension_value(attribute_type, object_name, row)

    def request_keys(self, documents: Sequence[Document]) -> list[str]:
        """Documents go out `spec.batch_size` to a request; each request's id derives from its documents."""
        keys: list[str] = []
        size = self.spec.batch_size
        for start in range(0, len(documents), size):
            batch = documents[start : start + size]
            keys += [request_id([(document.reference, document.generation) for document in batch])] * len(batch)
        return keys

    async def push(self, documents: Sequence[Document]) -> list[RemoteDocument | LedgerlineError]:
        """One batch request per request key, under that key as its `requestid`; new documents get theirs here."""
        new = [document for document in documents if document.request_key is None]
        assigned = iter(self.request_keys(new))
        keys = [document.request_key or next(assigned) for document in documents]
        requests: dict[str, list[int]] = {}
        for position, key in enumerate(keys):
            requests.setdefault(key, []).append(position)
        outcomes: dict[int, RemoteDocument | LedgerlineError] = {}
        for key, positions in requests.items():
            sent = await self._push_batch([documents[position] for position in positions], key)
            outcomes.update(zip(positions, sent, strict=True))
        return [outcomes[position] for position in range(len(documents))]

    async def find_by_reference(self, kind: DocumentKind, reference: str) -> RemoteDocument | None:
        [found] = await self.find_by_references([(kind, reference)])
        if isinstance(found, LedgerlineError):
            raise found
        return found

    async def find_by_references(self, wanted: Sequence[tuple[DocumentKind, str]]) -> list[Found]:
        """Up to `spec.batch_size` DocNumber queries per batch call."""
        found: list[Found] = []
        size = self.spec.batch_size
        for start in range(0, len(wanted), size):
            found += await self._find_batch(wanted[start : start + size])
        return found

    async def payment_status(self, kind: DocumentKind, remote_ids: Sequence[str]) -> list[PaymentStatus]:
        if kind is not DocumentKind.BILL:
            raise ValidationError(f"{DISPLAY_NAME} keeps no payment status for {kind.value} documents.")
        statuses: list[PaymentStatus] = []
        size = self.spec.batch_size
        for start in range(0, len(remote_ids), size):
            bills = await self._by_ids(self._object(kind), remote_ids[start : start + size])
            paid = [payment for bill in bills for payment in payment_ids(bill)]
            days = {
                str(payment["Id"]): date.fromisoformat(str(payment["TxnDate"]))
                for payment in await self._by_ids(BILL_PAYMENT, paid)
            }
            statuses += [status_of(bill, days) for bill in bills]
        return statuses

    async def record_payments(self, payments: Sequence[PaymentToRecord]) -> list[RecordedPayment | LedgerlineError]:
        """Each payment as a BillPayment by check: looked up by its reference first, then created under a
        `requestid` of its own for no more than the bill's balance."""
        outcomes: list[RecordedPayment | LedgerlineError] = []
        for payment in payments:
            try:
                outcomes.append(await self._record_payment(payment))
            except LedgerlineError as error:
                if error.action in (EngineAction.PAUSE_CONNECTION, EngineAction.DEFER_CONNECTION):
                    raise
                outcomes.append(error)
        return outcomes

    async def booked_documents(self, kind: DocumentKind, *, since: date) -> AsyncIterator[BookedDocument]:
        object_name = self._object(kind)
        booked_query(kind, object_name, since=since, start=1, limit=1)  # refuses a kind not read back, before a call

        async def fetch(request: PageRequest) -> Page[dict[str, Any]]:
            text = booked_query(kind, object_name, since=since, start=request.offset + 1, limit=request.limit)
            return Page(records=(await self._query(text)).get(object_name, []))

        paginator: Paginator[dict[str, Any]] = Paginator(self.spec.pagination, key=lambda row: row.get("Id"))
        async for row in paginator.records(fetch):
            yield booked(kind, row)

    # -- pushing ------------------------------------------------------------------------------------------------

    async def _push_batch(self, documents: Sequence[Document], key: str) -> list[RemoteDocument | LedgerlineError]:
        batch = plan(documents, self.objects)
        outcomes: dict[int, RemoteDocument | LedgerlineError] = dict(batch.refused)
        if batch.planned:
            outcomes.update(await self._send(batch, key))
        return [outcomes[position] for position in range(len(documents))]

    async def _send(
        self, batch: Plan, key: str, *, rekeyed: bool = False
    ) -> dict[int, RemoteDocument | LedgerlineError]:
        try:
            response = await self.request(
                "POST",
                self._url(names.BATCH_PATH),
                idempotent=False,
                params=self._params(**{names.REQUEST_ID: key}),
                json={"BatchItemRequest": batch.items},
            )
            answers = answers_by_bid(response.json())
        except LedgerlineError as error:
            return await self._after_failure(batch.planned, error)
        except (ValueError, UnicodeDecodeError) as exc:  # a 200 that is not a batch answer: it may have run
            unknown = OutcomeUnknown(
                f"{DISPLAY_NAME} answered the batch with something unreadable ({exc}).",
                code="unreadable_answer",
                response=response_excerpt(response),
            )
            return await self._after_failure(batch.planned, unknown)
        outcomes: dict[int, RemoteDocument | LedgerlineError] = {}
        unmentioned = [item for item in batch.planned if item.bid not in answers]
        if unmentioned and not rekeyed:
            outcomes.update(await self._send_unmentioned(unmentioned, key))
        closing: list[date | None] = []
        answered = [item for item in batch.planned if item.position not in outcomes]
        for item in answered:
            outcomes[item.position] = await self._outcome(item, answers.get(item.bid), closing)
        await self._attach(answered, outcomes)
        return outcomes

    async def _send_unmentioned(
        self, unmentioned: Sequence[Planned], key: str
    ) -> dict[int, RemoteDocument | LedgerlineError]:
        """Documents an answer does not mention: the answer kept for an earlier request under `key` that did not
        carry them (or one that left them out). Looked up first — found, adopted; proved absent, they were never
        created under `key`, so they go now under a key derived from both; a failed lookup leaves them unknown."""
        try:
            wanted = [(item.document.kind, item.document.reference) for item in unmentioned]
            found = await self.find_by_references(wanted)
        except LedgerlineError as error:
            found = [error] * len(unmentioned)
        outcomes: dict[int, RemoteDocument | LedgerlineError] = {}
        absent: list[Planned] = []
        adopted: list[Planned] = []
        for item, match in zip(unmentioned, found, strict=True):
            if isinstance(match, RemoteDocument):
                outcomes[item.position] = match
                adopted.append(item)
            elif match is None:
                absent.append(item)
            else:
                outcomes[item.position] = OutcomeUnknown(
                    f"{DISPLAY_NAME}'s answer to the batch does not mention {item.document.reference}, and looking it "
                    f"up failed ({match.message}).",
                    code="missing_from_answer",
                    hint="Before sending again, Ledgerline looks the document up by its reference.",
                )
        await self._attach(adopted, outcomes)  # the request that created them may have stopped before their receipts
        if absent:
            members = [(f"{key}:{item.document.reference}", item.document.generation) for item in absent]
            again = plan([item.document for item in absent], self.objects)
            resent = await self._send(again, request_id(members), rekeyed=True)
            outcomes.update({item.position: resent[index] for index, item in enumerate(absent)})
        return outcomes

    async def _outcome(
        self, item: Planned, answer: dict[str, Any] | None, closing: list[date | None]
    ) -> RemoteDocument | LedgerlineError:
        document = item.document
        if answer is None:
            return OutcomeUnknown(
                f"{DISPLAY_NAME}'s answer to the batch does not mention {document.reference}.",
                code="missing_from_answer",
                hint="Before sending again, Ledgerline looks the document up by its reference.",
            )
        created = answer.get(item.object_name)
        if isinstance(created, dict) and created.get("Id"):
            return RemoteDocument(str(created["Id"]), url=self.document_url(document.kind, str(created["Id"])))
        fault_type, errors = fault_errors(answer)
        if not errors or fault_type == names.SYSTEM_FAULT:  # no refusal: QuickBooks may have created it all the same
            return await self._unsettled(document, errors)
        error = classify_fault(errors)
        if error.code == names.CODE_DUPLICATE_REFERENCE:  # the DocNumber is ours: the document is already there
            return await self._adopt_or(document, error)
        if isinstance(error, PeriodClosed):
            if not closing:
                closing.append(await self._closing_date())
            return with_first_open_day(error, refused=document.transaction_date, close_date=closing[0])
        return error

    async def _unsettled(self, document: Document, errors: Sequence[FaultError]) -> RemoteDocument | LedgerlineError:
        """An item answered with neither its document nor a refusal (a `SystemFault`, an item that says nothing) may
        have been applied, so it is looked up at once: found, it is adopted; proved absent, the answered request did
        not create it, so it goes again as a new send; a lookup that fails leaves it unknown."""
        said = classify_fault(errors).message if errors else "neither the document nor a fault"
        message = f"{DISPLAY_NAME} failed {document.reference} inside the batch ({said})."
        provider_code = errors[0].code if errors else None
        try:
            found = await self.find_by_reference(document.kind, document.reference)
        except LedgerlineError:
            return OutcomeUnknown(
                message,
                code=names.CODE_ITEM_FAILED,
                provider_code=provider_code,
                hint="Before sending again, Ledgerline looks the document up by its reference.",
            )
        if found is not None:
            return found
        return Transient(message, code=names.CODE_ITEM_FAILED, provider_code=provider_code)

    async def _adopt_or(self, document: Document, error: LedgerlineError) -> RemoteDocument | LedgerlineError:
        try:
            found = await self.find_by_reference(document.kind, document.reference)
        except LedgerlineError:
            return OutcomeUnknown(error.message, code=error.code, provider_code=error.provider_code)
        return found if found is not None else error

    async def _after_failure(
        self, planned: Sequence[Planned], error: LedgerlineError
    ) -> dict[int, RemoteDocument | LedgerlineError]:
        """The whole request failed. If it may have been applied, adopt whatever the lookups find; the rest keep
        the failure (the engine looks them up again before sending them under the same request id)."""
        outcomes: dict[int, RemoteDocument | LedgerlineError] = {item.position: error for item in planned}
        if not isinstance(error, OutcomeUnknown):
            return outcomes
        try:
            found = await self.find_by_references([(item.document.kind, item.document.reference) for item in planned])
        except LedgerlineError:
            return outcomes
        for item, match in zip(planned, found, strict=True):
            if isinstance(match, RemoteDocument):
                outcomes[item.position] = match
        await self._attach(planned, outcomes)  # the batch was applied: its documents' receipts follow them
        return outcomes

    async def _attach(self, planned: Sequence[Planned], outcomes: dict[int, RemoteDocument | LedgerlineError]) -> None:
        """Upload each created (or adopted) document's receipts, linked to it."""
        for item in planned:
            created = outcomes.get(item.position)
            if item.document.attachments and isinstance(created, RemoteDocument):
                incomplete = await self._upload_receipts(item.document, item.object_name, created.remote_id)
                if incomplete is not None:
                    outcomes[item.position] = incomplete

    async def attach_to_adopted(
        self, adopted: Sequence[tuple[Document, RemoteDocument]]
    ) -> list[LedgerlineError | None]:
        """Receipts go after their document, so a send that stopped between the two left it without: uploaded now,
        under the same request id as ever, so a document that has them gets none twice."""
        return [
            await self._upload_receipts(document, self._object(document.kind), found.remote_id)
            if document.attachments
            else None
            for document, found in adopted
        ]

    async def _upload_receipts(self, document: Document, object_name: str, remote_id: str) -> LedgerlineError | None:
        """One upload of a document's receipts, linked to it, under a `requestid` derived from the document's, so
        that a repeat never attaches a file twice. None once it is done (or refused for good: logged, and the
        document stands without them); else the document's outcome (`receipts_incomplete`)."""
        key = request_id([(f"{document.reference}:attachments", document.generation)])
        try:
            await self.request(
                "POST",
                self._url(names.UPLOAD_PATH),
                idempotent=False,
                params=self._params(**{names.REQUEST_ID: key}),
                files=upload_form(document.attachments, object_name, remote_id),
            )
        except LedgerlineError as error:
            log.warning(
                "receipts not attached",
                reference=document.reference,
                remote_id=remote_id,
                error_class=error.error_class,
                error=error.message,
            )
            return receipts_incomplete(document, remote_id, error)
        return None

    async def _closing_date(self) -> date | None:
        """The company's closing date (books locked through it), or None when it has none or it cannot be read."""
        try:
            preferences = (await self._get("/preferences")).get("Preferences", {})
        except LedgerlineError:
            return None
        text = (preferences.get("AccountingInfoPrefs") or {}).get("BookCloseDate")
        return date.fromisoformat(text) if isinstance(text, str) and text else None

    # -- reading ------------------------------------------------------------------------------------------------

    async def _find_batch(self, wanted: Sequence[tuple[DocumentKind, str]]) -> list[Found]:
        items = []
        for position, (kind, reference) in enumerate(wanted):
            text = select(self._object(kind), [f"DocNumber = {quoted(doc_number(reference))}"])
            items.append({"bId": f"q{position}", "Query": text})
        response = await self.request(
            "POST",
            self._url(names.BATCH_PATH),
            idempotent=True,
            params=self._params(),
            json={"BatchItemRequest": items},
        )
        try:
            answers = answers_by_bid(response.json())
        except (ValueError, UnicodeDecodeError) as exc:
            raise Transient(f"{DISPLAY_NAME} answered a lookup with something unreadable ({exc}).") from exc
        found: list[Found] = []
        for position, (kind, reference) in enumerate(wanted):
            found.append(self._found(kind, reference, answers.get(f"q{position}")))
        return found

    def _found(self, kind: DocumentKind, reference: str, answer: dict[str, Any] | None) -> Found:
        if answer is None:
            return Transient(f"{DISPLAY_NAME} did not answer the lookup of {reference}.", code="lookup_unanswered")
        if "Fault" in answer:
            _, errors = fault_errors(answer)
            refusal = classify_fault(errors)
            return Transient(f"Looking {reference} up failed: {refusal.message}", provider_code=refusal.provider_code)
        result = answer.get("QueryResponse")
        if not isinstance(result, dict):  # rows, or none, are only ever said in a QueryResponse
            return Transient(f"{DISPLAY_NAME} answered the lookup of {reference} with neither rows nor a fault.")
        rows = [row for row in result.get(self._object(kind), []) if isinstance(row, dict)]
        matches = [row for row in rows if holds_reference(row, reference)]
        if not matches:
            return None
        remote_id = str(min(matches, key=lambda row: int(str(row["Id"])) if str(row["Id"]).isdigit() else 0)["Id"])
        return RemoteDocument(remote_id, url=self.document_url(kind, remote_id), adopted=True)

    async def _record_payment(self, payment: PaymentToRecord) -> RecordedPayment:
        if payment.kind is not DocumentKind.BILL:
            raise ValidationError(f"{DISPLAY_NAME} records payments of bills only, not of {payment.kind.value}.")
        existing = await self.find_by_reference(DocumentKind.PAYMENT, payment.reference)
        if existing is not None:
            return RecordedPayment(payment=existing, amount=decimal_of(0))
        bills = await self._by_ids(self._object(DocumentKind.BILL), [payment.remote_id])
        if not bills:
            raise DestinationRejected(f"{DISPLAY_NAME} has no bill {payment.remote_id} to pay.", code="not_found")
        bill = bills[0]
        balance = decimal_of(bill.get("Balance"))
        if balance <= 0:
            return RecordedPayment(payment=None, amount=decimal_of(0))
        body = bill_payment(
            reference=payment.reference,
            vendor=str(bill["VendorRef"]["value"]),
            bill_id=payment.remote_id,
            amount=balance,
            paid_on=payment.paid_on.isoformat(),
            bank_account=payment.account,
            currency=str((bill.get("CurrencyRef") or {}).get("value", "")),
        )
        key = request_id([(payment.reference, payment.generation)])
        response = await self.request(
            "POST",
            self._url("/" + BILL_PAYMENT.lower()),
            idempotent=False,
            params=self._params(**{names.REQUEST_ID: key}),
            json=body,
        )
        try:
            answer = response.json()
        except (ValueError, UnicodeDecodeError):
            answer = None
        created = answer.get(BILL_PAYMENT) if isinstance(answer, dict) else None
        if not isinstance(created, dict) or not created.get("Id"):  # a 200 that does not say what it did
            raise OutcomeUnknown(
                f"{DISPLAY_NAME} answered the payment {payment.reference} with something unreadable.",
                code="unreadable_answer",
                hint="The next run looks the payment up by its reference before paying again.",
                response=response_excerpt(response),
            )
        remote_id = str(created["Id"])
        return RecordedPayment(
            payment=RemoteDocument(remote_id, url=self.document_url(DocumentKind.PAYMENT, remote_id)), amount=balance
        )

    async def _by_ids(self, object_name: str, ids: Sequence[str]) -> list[dict[str, Any]]:
        if not ids:
            return []
        listed = ", ".join(quoted(remote_id) for remote_id in ids)
        text = select(object_name, [f"Id IN ({listed})"], limit=names.MAX_RESULTS)
        rows: list[dict[str, Any]] = (await self._query(text)).get(object_name, [])
        return rows

    async def _query(self, text: str) -> dict[str, Any]:
        response = await self.request(
            "POST",
            self._url(names.QUERY_PATH),
            idempotent=True,
            params=self._params(),
            content=text.encode(),
            headers={"Content-Type": names.QUERY_CONTENT_TYPE},
        )
        answer: dict[str, Any] = self._json(response).get("QueryResponse", {})
        return answer

    async def _get(self, path: str, **params: str) -> dict[str, Any]:
        response = await self.request("GET", self._url(path), idempotent=True, params=self._params(**params))
        return self._json(response)

    def _json(self, response: httpx.Response) -> dict[str, Any]:
        try:
            body = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise Transient(
                f"{DISPLAY_NAME} answered with something unreadable.",
                code="unreadable_answer",
                response=response_excerpt(response),
            ) from exc
        if not isinstance(body, dict):
            raise Transient(f"{DISPLAY_NAME} answered with something unreadable.", code="unreadable_answer")
        return body

    def _object(self, kind: DocumentKind) -> str:
        return self.spec.document(kind).object
