"""The Sage Intacct destination: the spec's declarations plus the named hooks, each a few lines over its module.

- `classify`: whole-call failures hidden in HTTP 200 XML (control, authentication, unreadable body);
- `check`: a fresh `getAPISession`;
- `import_dimensions`: readByQuery + readMore through the spec's `result_id` paginator;
- `push`: several documents per request, idempotent by the request's control id (see `push.py`);
- `find_by_reference(s)` and `payment_status`: `query` and `read` over the stored documents;
- `record_payments`: payments the source made, as AP payments and reimbursement requests (see `reimbursements.py`);
- `booked_documents`: documents read back with their lines, for the books check (see `books.py`).
"""

import copy
from collections.abc import AsyncIterator, Sequence
from dataclasses import replace
from datetime import date, datetime
from xml.etree.ElementTree import Element

import httpx

from connectors.base import (
    BookedDocument,
    ConnectorContext,
    DestinationConnector,
    PaymentToRecord,
    RecordedPayment,
)
from connectors.http import request_excerpt, response_excerpt
from connectors.intacct import constants as names
from connectors.intacct.books import ALL_FIELDS, RECORD_NUMBER, booked, header_fields, since_query
from connectors.intacct.dimensions import OBJECTS, DimensionObject, udd_object_name, unknown_type, user_defined
from connectors.intacct.documents import REFERENCES
from connectors.intacct.envelope import Function, MalformedReplyError, Result, Sender, reply_of, wrote_anything
from connectors.intacct.envelope import used_session as authenticated_by_session
from connectors.intacct.errors import classify_errors, malformed
from connectors.intacct.gateway import Gateway, Login, batch_control_id, new_control_id
from connectors.intacct.payments import FIELDS, PAYABLE_OBJECTS, status_of
from connectors.intacct.push import Folder, Outcome, batches, push_batch
from connectors.intacct.reads import (
    get_dimensions,
    page,
    query_equal,
    read_by_query,
    read_keys,
    read_more,
    user_defined_dimensions,
)
from connectors.intacct.references import find_many
from connectors.intacct.reimbursements import record_payments
from connectors.pagination import Page, PageRequest, Paginator
from core.domain import DimensionValue, Document, DocumentKind, PaymentStatus, RemoteDocument
from core.errors import AuthError, LedgerlineError, ValidationError

ENTITIES = OBJECTS[names.ENTITY]
ENTITY_CURRENCY = "CURRENCY"
"""The field of an entity (`LOCATIONENTITY`) naming the base currency it keeps its books in."""


class IntacctConnector(DestinationConnector):
    """One Sage Intacct company (and optionally one of its entities), reached through one reused API session; each
    other entity it posts in (`in_entity`) through a session of its own."""

    system = names.SYSTEM

    def __init__(self, context: ConnectorContext) -> None:
        super().__init__(context)
        credentials = context.credentials
        self.gateway = Gateway(
            self._post,
            url=context.urls[names.GATEWAY_URL],
            trust=lambda endpoint: self.answered_url(endpoint, what="a session endpoint"),
            sender=Sender(context.app.get(names.SENDER_ID, ""), context.app.get(names.SENDER_PASSWORD, "")),
            user=Login(
                user_id=credentials.get(names.USER_ID, ""),
                company_id=credentials.get(names.COMPANY_ID, ""),
                password=credentials.get(names.USER_PASSWORD, ""),
                entity_id=credentials.get(names.ENTITY_ID, ""),
            ),
            shared=context.shared,
        )
        self._folder = Folder()
        self._entities: dict[str, IntacctConnector] = {}
        """Views of this connection in other entities (`in_entity`), shared by all of them."""
        self._entity_currency: str | None = None
        """The base currency of the entity this connector posts in, once read (`_in_entity_books`)."""

    async def _post(self, url: str, body: bytes, idempotent: bool) -> httpx.Response:
        headers = {"Content-Type": names.CONTENT_TYPE}
        return await self.request("POST", url, idempotent=idempotent, content=body, headers=headers)

    def classify(self, response: httpx.Response) -> LedgerlineError | None:
        """HTTP failures as the base class names them; then Intacct's own failure levels inside a 200."""
        if not response.is_success:
            error = super().classify(response)
            if error is not None and error.request is None:  # the base class keeps only the response
                error.request = request_excerpt(response.request)
            return error
        sent = response.request.content
        try:
            reply = reply_of(response)
        except MalformedReplyError as error:
            return malformed(response, wrote=wrote_anything(sent), reason=str(error))
        if reply.control_status == names.SUCCESS and reply.authentication_status == names.SUCCESS:
            return None
        # Redacting excerpts costs a tenth of an export's CPU: only a failure pays for it.
        sent_excerpt, answer_excerpt = request_excerpt(response.request), response_excerpt(response)
        if reply.control_status != names.SUCCESS:
            return classify_errors(reply.control_errors, request=sent_excerpt, response=answer_excerpt)
        if reply.authentication_status and authenticated_by_session(sent):
            return AuthError(
                "The Sage Intacct API session expired.",
                code=names.CODE_SESSION_EXPIRED,
                request=sent_excerpt,
                response=answer_excerpt,
            )
        if reply.authentication_status:
            return classify_errors(reply.authentication_errors, request=sent_excerpt, response=answer_excerpt)
        return malformed(response, wrote=wrote_anything(sent), reason="the answer has no authentication block")

    async def check(self) -> None:
        await self.gateway.sessions.open()

    async def import_dimensions(self, attribute_type: str, *, since: datetime | None) -> AsyncIterator[DimensionValue]:
        dimension = await self._dimension(attribute_type)
        query = dimension.since(since) if since is not None else ""

        async def fetch(request: PageRequest) -> Page[dict[str, str]]:
            if request.token:
                return page(await self._read(read_more(request.token)))
            return page(await self._read(read_by_query(dimension.object_name, dimension.fields, query, request.limit)))

        paginator: Paginator[dict[str, str]] = Paginator(
            self.spec.pagination, key=lambda row: row.get(dimension.key, "")
        )
        async for row in paginator.records(fetch):
            yield dimension.value(attribute_type, row)

    async def attribute_types(self) -> tuple[str, ...]:
        """Every dimension type this company has: the standard ones and `udd:<NAME>` per user-defined dimension."""
        udds = user_defined_dimensions(await self._read(get_dimensions()))
        return (*self.spec.streams, *(f"{names.UDD_PREFIX}{name}" for name in udds))

    def in_entity(self, entity: str) -> "IntacctConnector":
        """This company seen from `entity`: the same user logged in with `locationid`, through the same client."""
        if entity == self.gateway.entity_id:
            return self
        view = self._entities.get(entity)
        if view is None:
            view = copy.copy(self)
            view.gateway = self.gateway.in_entity(entity)
            view._entity_currency = None
            self._entities[entity] = view
        return view

    def request_keys(self, documents: Sequence[Document]) -> list[str]:
        """Documents go out in requests of at most `spec.batch_size` functions; each request's control id derives
        from its documents' references and generations (`gateway.batch_control_id`)."""
        keys: list[str] = []
        for batch in batches(documents, self.spec.batch_size):
            keys += [batch_control_id([(document.reference, document.generation) for document in batch])] * len(batch)
        return keys

    async def push(self, documents: Sequence[Document]) -> list[RemoteDocument | LedgerlineError]:
        """One request per request key, under that key as its control id; documents without one get theirs here."""
        documents = await self._in_entity_books(documents)
        new = [document for document in documents if document.request_key is None]
        assigned = iter(self.request_keys(new))
        keys = [document.request_key or next(assigned) for document in documents]
        requests: dict[str, list[int]] = {}
        for position, key in enumerate(keys):
            requests.setdefault(key, []).append(position)
        outcomes: dict[int, Outcome] = {}
        for key, positions in requests.items():
            sent = await push_batch(self.gateway, [documents[position] for position in positions], self._folder, key)
            outcomes.update(zip(positions, sent, strict=True))
        return [outcomes[position] for position in range(len(documents))]

    async def _in_entity_books(self, documents: Sequence[Document]) -> Sequence[Document]:
        """Documents as the entity posting them can keep them. An entity keeps its books in its own base currency:
        where that is not the currency the source booked in, the source's base amounts cannot be its figures, so
        the document goes without them and the entity converts it at its own rate. Read once per connector."""
        entity = self.gateway.entity_id
        if not entity or all(document.base_currency is None for document in documents):
            return documents
        if self._entity_currency is None:
            read = query_equal(ENTITIES.object_name, (ENTITY_CURRENCY,), ENTITIES.key, entity)
            rows = (await self._read(read)).rows()
            self._entity_currency = rows[0].get(ENTITY_CURRENCY, "") if rows else ""
        books = self._entity_currency
        return [
            document
            if not books or document.base_currency in (None, books)
            else replace(
                document,
                base_currency=None,
                exchange_rate=None,
                lines=tuple(replace(line, base_amount=None) for line in document.lines),
            )
            for document in documents
        ]

    async def find_by_reference(self, kind: DocumentKind, reference: str) -> RemoteDocument | None:
        [found] = await find_many(self.gateway, [(kind, reference)])
        if isinstance(found, LedgerlineError):
            raise found
        return found

    async def find_by_references(
        self, wanted: Sequence[tuple[DocumentKind, str]]
    ) -> list[RemoteDocument | LedgerlineError | None]:
        """One request per `spec.batch_size` references, one `query` function each."""
        found: list[RemoteDocument | LedgerlineError | None] = []
        for start in range(0, len(wanted), self.spec.batch_size):
            found += await find_many(self.gateway, wanted[start : start + self.spec.batch_size])
        return found

    async def payment_status(self, kind: DocumentKind, remote_ids: Sequence[str]) -> list[PaymentStatus]:
        object_name = PAYABLE_OBJECTS.get(kind)
        if object_name is None:
            raise ValidationError(f"Sage Intacct keeps no payment status for {kind.value} documents.")
        statuses: dict[str, PaymentStatus] = {}
        for start in range(0, len(remote_ids), names.READ_KEYS_PER_CALL):
            keys = remote_ids[start : start + names.READ_KEYS_PER_CALL]
            for row in (await self._read(read_keys(object_name, FIELDS, keys))).rows():
                statuses[row["RECORDNO"]] = status_of(row)
        return [statuses[remote_id] for remote_id in remote_ids if remote_id in statuses]

    async def record_payments(self, payments: Sequence[PaymentToRecord]) -> list[RecordedPayment | LedgerlineError]:
        return await record_payments(self.gateway, payments, self.spec.batch_size)

    async def booked_documents(self, kind: DocumentKind, *, since: date) -> AsyncIterator[BookedDocument]:
        """Headers through the spec's `result_id` paginator; each `READ_KEYS_PER_CALL` of them, one `read` for
        their lines (see `books.py`)."""
        object_name = REFERENCES[kind].object
        fields = header_fields(kind)
        query = since_query(kind, since)

        async def fetch(request: PageRequest) -> Page[dict[str, str]]:
            if request.token:
                return page(await self._read(read_more(request.token)))
            return page(await self._read(read_by_query(object_name, fields, query, request.limit)))

        paginator: Paginator[dict[str, str]] = Paginator(self.spec.pagination, key=lambda row: row[RECORD_NUMBER])
        headers: list[dict[str, str]] = []
        async for row in paginator.records(fetch):
            headers.append(row)
            if len(headers) == names.READ_KEYS_PER_CALL:
                for document in await self._booked(kind, headers):
                    yield document
                headers = []
        if headers:
            for document in await self._booked(kind, headers):
                yield document

    async def _booked(self, kind: DocumentKind, headers: Sequence[dict[str, str]]) -> list[BookedDocument]:
        keys = [header[RECORD_NUMBER] for header in headers]
        answer = await self._read(read_keys(REFERENCES[kind].object, (ALL_FIELDS,), keys))
        return booked(kind, headers, answer)

    async def _read(self, body: Element) -> Result:
        """One read function; its failure raised as classified."""
        answer = await self.gateway.call([Function(new_control_id(), body)])
        if not answer.results[0].ok:
            raise answer.error(0)
        return answer.results[0]

    async def _dimension(self, attribute_type: str) -> DimensionObject:
        udd = udd_object_name(attribute_type)
        if udd is None:
            if attribute_type not in OBJECTS:
                raise unknown_type(attribute_type)
            return OBJECTS[attribute_type]
        if udd not in user_defined_dimensions(await self._read(get_dimensions())):
            raise unknown_type(attribute_type)
        return user_defined(udd)
