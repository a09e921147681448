"""Creating documents: one `PUT /{Collection}?summarizeErrors=false` per kind of a request key's documents, each
answer read back per document by the reference it holds, receipts attached after.

Answers are matched by reference, never by position: a resend under an Idempotency-Key already used is answered
with the first request's stored response, which may list documents the resend does not carry (or leave out one it
does). A document an answer does not mention is looked up: found, adopted (its receipts attached after it); proved
absent, it goes again under a key derived from both; a failed lookup leaves it unknown. A PUT refused for reusing
its key for another request (a resend of part of a batch, or of a document built anew) is read the same way for
every document it carried.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx

from connectors.base import receipts_incomplete
from connectors.http import response_excerpt
from connectors.xero import constants as names
from connectors.xero.api import REFERENCE_FIELDS, XeroApi
from connectors.xero.attachments import attachment_key, attachment_path, file_names
from connectors.xero.documents import document_body, needs_tracking
from connectors.xero.errors import classify_messages, validation_messages, with_first_open_day
from connectors.xero.references import for_collection, idempotency_key, stored_reference
from core.domain import Document, RemoteDocument
from core.errors import LedgerlineError, OutcomeUnknown, PeriodClosed, Transient, ValidationError
from core.log import get_logger

Outcome = RemoteDocument | LedgerlineError
log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Planned:
    position: int
    document: Document
    body: dict[str, Any]


class XeroPushing(XeroApi):
    async def _push_key(self, documents: Sequence[Document], key: str) -> list[Outcome]:
        """Every document of one request key: built, then one PUT per collection under a header derived from it."""
        outcomes: dict[int, Outcome] = {}
        tracking = await self.tracking() if any(needs_tracking(document) for document in documents) else {}
        groups: dict[str, list[Planned]] = {}
        seen: set[str] = set()
        for position, document in enumerate(documents):
            try:
                if document.reference in seen:
                    raise ValidationError(
                        f"The reference {document.reference} appears twice in one batch.", code="duplicate_reference"
                    )
                body = document_body(document, tracking)
            except ValidationError as error:
                outcomes[position] = error
                continue
            seen.add(document.reference)
            groups.setdefault(names.OBJECTS[document.kind][0], []).append(Planned(position, document, body))
        for collection, planned in groups.items():
            outcomes.update(await self._send(collection, planned, for_collection(key, collection)))
        return [outcomes[position] for position in range(len(documents))]

    async def _send(
        self, collection: str, planned: Sequence[Planned], header: str, *, rekeyed: bool = False
    ) -> dict[int, Outcome]:
        path = names.OBJECTS[planned[0].document.kind][1]
        try:
            response = await self.request(
                "PUT",
                self._url(path),
                idempotent=False,
                params={"summarizeErrors": "false"},
                headers=self._headers(**{names.IDEMPOTENCY_HEADER: header}),
                json={collection: [item.body for item in planned]},
            )
            answered = self._answered(response, collection)
        except LedgerlineError as error:
            if _key_reused(error) and not rekeyed:
                return await self._send_unmentioned(collection, planned, header)
            if _key_reused(error):  # nothing ran, and the lookup proved them absent: they go again later
                error = Transient(error.message, code=error.code, request=error.request, response=error.response)
            return await self._after_failure(planned, error)
        outcomes: dict[int, Outcome] = {}
        unmentioned = [item for item in planned if self._key_of(item) not in answered]
        if unmentioned:
            if rekeyed:
                outcomes.update({item.position: _missing(item.document) for item in unmentioned})
            else:
                outcomes.update(await self._send_unmentioned(collection, unmentioned, header))
        lock_dates: list[list[date]] = []
        settled = [item for item in planned if item.position not in outcomes]
        for item in settled:
            outcomes[item.position] = await self._outcome(item, answered[self._key_of(item)], lock_dates)
        await self._attach(settled, outcomes)
        return outcomes

    @staticmethod
    def _key_of(item: Planned) -> str:
        return stored_reference(item.document.reference)

    def _answered(self, response: httpx.Response, collection: str) -> dict[str, dict[str, Any]]:
        """The answer's documents by the reference they hold; `OutcomeUnknown` for a 200 that cannot be read (it may
        have created them all)."""
        try:
            body = response.json()
            rows = body[collection]
            if not isinstance(rows, list):
                raise TypeError(collection)
        except (ValueError, UnicodeDecodeError, KeyError, TypeError) as exc:
            raise OutcomeUnknown(
                f"{names.DISPLAY_NAME} answered the batch with something unreadable ({exc!r}).",
                code=names.CODE_UNREADABLE,
                hint="Before sending again, Ledgerline looks the documents up by their references.",
                response=response_excerpt(response),
            ) from exc
        answered: dict[str, dict[str, Any]] = {}
        for row in rows:
            if not isinstance(row, dict):
                continue
            for field in set(REFERENCE_FIELDS.values()):
                value = row.get(field)
                if isinstance(value, str) and value:
                    answered.setdefault(value, row)
        return answered

    async def _outcome(self, item: Planned, row: dict[str, Any], lock_dates: list[list[date]]) -> Outcome:
        document = item.document
        messages = validation_messages(row)
        if messages or row.get("HasErrors") is True:
            error = classify_messages(messages)
            if isinstance(error, PeriodClosed):
                if not lock_dates:
                    lock_dates.append(await self.lock_dates())
                return with_first_open_day(error, refused=document.transaction_date, lock_dates=lock_dates[0])
            return error
        remote_id = row.get(names.OBJECTS[document.kind][2])
        if isinstance(remote_id, str) and remote_id and remote_id != names.EMPTY_ID:
            return RemoteDocument(remote_id, url=self.document_url(document.kind, remote_id))
        return await self._unsettled(document)

    async def _unsettled(self, document: Document) -> Outcome:
        """An item answered with neither its id nor a refusal may have been created: looked up at once."""
        message = f"{names.DISPLAY_NAME} answered {document.reference} with neither its id nor a refusal."
        try:
            found = await self.find_by_reference(document.kind, document.reference)
        except LedgerlineError:
            return OutcomeUnknown(message, code=names.CODE_UNREADABLE)
        return found if found is not None else Transient(message, code=names.CODE_UNREADABLE)

    async def _send_unmentioned(
        self, collection: str, unmentioned: Sequence[Planned], header: str
    ) -> dict[int, Outcome]:
        try:
            found = await self.find_by_references(
                [(item.document.kind, item.document.reference) for item in unmentioned]
            )
        except LedgerlineError as error:
            found = [error] * len(unmentioned)
        outcomes: dict[int, Outcome] = {}
        absent: list[Planned] = []
        adopted: list[tuple[Planned, RemoteDocument]] = []
        for item, match in zip(unmentioned, found, strict=True):
            if isinstance(match, RemoteDocument):
                outcomes[item.position] = match
                adopted.append((item, match))
            elif match is None:
                absent.append(item)
            else:
                outcomes[item.position] = _missing(item.document, match.message)
        # The request that created them may have stopped before their receipts.
        attached = await self.attach_to_adopted([(item.document, match) for item, match in adopted])
        for (item, _), incomplete in zip(adopted, attached, strict=True):
            if incomplete is not None:
                outcomes[item.position] = incomplete
        if absent:
            members = [(f"{header}:{item.document.reference}", item.document.generation) for item in absent]
            again = for_collection(idempotency_key(members), collection)
            outcomes.update(await self._send(collection, absent, again, rekeyed=True))
        return outcomes

    async def _after_failure(self, planned: Sequence[Planned], error: LedgerlineError) -> dict[int, Outcome]:
        """The whole PUT failed. If it may have been applied, adopt whatever the lookups find; the rest keep the
        failure (the engine looks them up again before sending them under the same key)."""
        outcomes: dict[int, Outcome] = {item.position: error for item in planned}
        if not isinstance(error, OutcomeUnknown):
            return outcomes
        try:
            found = await self.find_by_references([(item.document.kind, item.document.reference) for item in planned])
        except LedgerlineError:
            return outcomes
        for item, match in zip(planned, found, strict=True):
            if isinstance(match, RemoteDocument):
                outcomes[item.position] = match
        await self._attach(planned, outcomes)
        return outcomes

    async def _attach(self, planned: Sequence[Planned], outcomes: dict[int, Outcome]) -> None:
        for item in planned:
            created = outcomes.get(item.position)
            if item.document.attachments and isinstance(created, RemoteDocument):
                incomplete = await self.upload_receipts(item.document, created.remote_id)
                if incomplete is not None:
                    outcomes[item.position] = incomplete

    async def upload_receipts(
        self, document: Document, remote_id: str, *, skip: frozenset[str] = frozenset()
    ) -> LedgerlineError | None:
        """Each receipt under its own Idempotency-Key (a repeat attaches nothing twice) and a file name of its own
        (`file_names`); those `skip` names (the document has them) are not sent again. None once the document has
        them (a file refused for good is logged, and the document stands without it); else the document's outcome
        (`receipts_incomplete`), the first failure that may pass stopping the rest until the item's next attempt."""
        attached = {name.lower() for name in skip}
        for index, (attachment, file_name) in enumerate(zip(document.attachments, file_names(document), strict=True)):
            if file_name.lower() in attached:
                continue
            try:
                await self.request(
                    "PUT",
                    self._url(attachment_path(document.kind, remote_id, file_name)),
                    idempotent=False,
                    headers=self._headers(
                        **{
                            names.IDEMPOTENCY_HEADER: attachment_key(document, attachment, index),
                            "Content-Type": attachment.content_type,
                        }
                    ),
                    content=attachment.content,
                )
            except LedgerlineError as error:
                if attachment.source_id is not None and _key_reused(error):  # this file's key: it went, named otherwise
                    continue
                log.warning(
                    "receipt not attached",
                    reference=document.reference,
                    remote_id=remote_id,
                    error_class=error.error_class,
                    error=error.message,
                )
                incomplete = receipts_incomplete(document, remote_id, error)
                if incomplete is not None:
                    return incomplete
        return None


def _missing(document: Document, why: str | None = None) -> OutcomeUnknown:
    said = f", and looking it up failed ({why})" if why else ""
    return OutcomeUnknown(
        f"{names.DISPLAY_NAME}'s answer to the batch does not mention {document.reference}{said}.",
        code=names.CODE_MISSING_FROM_ANSWER,
        hint="Before sending again, Ledgerline looks the document up by its reference.",
    )


def _key_reused(error: LedgerlineError) -> bool:
    """Refused for a key another request used. Not a 409: that request is still running, so its documents are
    unknown (`errors.classify_response`) and go again only under the same key."""
    return error.code == names.CODE_KEY_REUSED
