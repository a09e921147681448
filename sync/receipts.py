"""Receipts: the source's files fetched into each document between build and push.

Builders are pure, so a document only names its receipts (`Document.attachment_ids`, the source's file ids).
`ReceiptFetcher` fills `Document.attachments` with their bytes, asking the source connection that pulled the
expenses (`SourceConnector.fetch_attachment`). One fetcher serves one export job: it opens a source connector only
when a document has receipts, keeps it for the job, and closes it with the job. The engine calls it once per push
chunk, so the bytes of one chunk are in memory at a time, and can drop them once the chunk is pushed.

What happens when a receipt cannot be fetched is decided per error class, as a finance user would expect:

- the source is down, slow or throttling us (`Transient`, `RateLimited`): the document is not pushed without it;
  the item gets that error and retries later like any other failure (`RateLimited` defers it to the source's
  Retry-After without using an attempt; later files of that connection are not asked for in this job);
- the source refuses our credentials, or its connection awaits re-authorization: the item gets a `Transient`
  (code `receipt_source_auth`) telling a person to re-connect the source. Not an `AuthError`: that would send the
  item straight back to pending, again and again, while it is the source and not the destination that needs a
  person; with backoff it waits, and after the retry window it needs action like any failure;
- the source says the file is not there or refuses it for good (any non-retriable error), the file is larger than
  `RECEIPT_MAX_BYTES`, or the document's receipts would pass `RECEIPT_DOCUMENT_MAX_BYTES`: waiting changes nothing,
  and a bill must not be held forever for a receipt. The document goes with the receipts it has, and never silently
  without the others: the memo says which are missing and why (people see it in the destination), a warning is
  logged, and an `export_item.receipts_missing` audit event records each file with the source's own answer.
"""

import asyncio
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from types import TracebackType
from typing import Self

from sqlalchemy import select

from connectors.base import SourceConnector, TooLarge
from connectors.factory import ConnectionNotFoundError, open_connector
from connectors.registry import UnknownSystemError, connector_class
from core.audit import append_event
from core.bulk import among
from core.crypto import CredentialVault
from core.db import Database
from core.domain import Attachment, Document
from core.errors import AuthError, LedgerlineError, OutcomeUnknown, RateLimited, Transient
from core.log import get_logger
from core.models import Connection, ConnectionStatus, ExportItemRecord, SourceRecord
from core.settings import Settings
from mappings.constants import MEMO_MAX_LENGTH
from sync.constants import (
    AUDIT_RECEIPTS_MISSING,
    CODE_RECEIPT_SOURCE_AUTH,
    CODE_RECEIPT_UNREADABLE,
    RECEIPT_DOCUMENT_MAX_BYTES,
    RECEIPT_FETCH_CONCURRENCY,
    RECEIPT_MAX_BYTES,
    RECEIPT_NOTE_SEPARATOR,
    RECEIPTS_MISSING_NOTE,
)

__all__ = ["MissingReceipt", "ReceiptFetcher"]

log = get_logger(__name__)

MEGABYTE = 1024 * 1024
ELLIPSIS = "…"


@dataclass(frozen=True, slots=True)
class MissingReceipt:
    """A receipt a document goes without: `note` for the memo, `detail` (the source's answer) for the audit."""

    file_id: str
    note: str
    detail: str | None = None


@dataclass(frozen=True, slots=True)
class _Source:
    """The source connection a file belongs to, as the item's linked records say."""

    connection_id: uuid.UUID
    display_name: str
    status: str


@dataclass(frozen=True, slots=True)
class _Unusable:
    """A source connection whose files cannot be had at all (disconnected): each goes missing for this reason."""

    reason: str


Fetched = Attachment | MissingReceipt | LedgerlineError
"""One file's outcome: its bytes, a reason to go without it, or an error the item retries on."""


class ReceiptFetcher:
    """Fills documents' receipts from their sources for one export job; an async context manager closing the
    source connectors it opened."""

    def __init__(
        self,
        database: Database,
        *,
        vault: CredentialVault,
        settings: Settings,
        tenant_id: uuid.UUID,
        actor: str = "receipts",
        concurrency: int = RECEIPT_FETCH_CONCURRENCY,
    ) -> None:
        self.database = database
        self.vault = vault
        self.settings = settings
        self.tenant_id = tenant_id
        self.actor = actor
        self._gate = asyncio.Semaphore(concurrency)
        self._connectors: dict[uuid.UUID, SourceConnector | _Unusable | LedgerlineError] = {}
        """Opened source connectors; or, for a connection that cannot be used, what each of its files gets."""
        self._stopped: dict[uuid.UUID, LedgerlineError] = {}
        """Connections that refused our credentials (not asked again in this job) or throttled us (not asked again
        before their Retry-After)."""

    @property
    def opened(self) -> frozenset[uuid.UUID]:
        """The source connections whose connectors this job opened (a document without receipts opens none)."""
        return frozenset(key for key, found in self._connectors.items() if isinstance(found, SourceConnector))

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        opened = [found for found in self._connectors.values() if isinstance(found, SourceConnector)]
        self._connectors.clear()
        for connector in opened:
            await connector.aclose()

    async def attach(self, documents: Sequence[tuple[uuid.UUID, Document]]) -> list[Document | LedgerlineError]:
        """Each `(export item id, document)` answered in order: the document with `attachments` filled (and its
        memo noting any receipt it goes without), or the error the item retries on. Documents without
        `attachment_ids`, or already carrying attachments, come back unchanged without a query or a call."""
        wanted = {item_id: document for item_id, document in documents if _needs_receipts(document)}
        if not wanted:
            return [document for _, document in documents]
        sources = await self._sources(list(wanted))
        files = {
            (sources[item_id][file_id].connection_id, file_id)
            for item_id, document in wanted.items()
            for file_id in document.attachment_ids
            if file_id in sources[item_id]
        }
        await self._open({connection_id for connection_id, _ in files}, sources)
        fetched = await self._fetch_all(files)
        answers: list[Document | LedgerlineError] = []
        missing_by_item: dict[uuid.UUID, tuple[Document, list[MissingReceipt]]] = {}
        for item_id, document in documents:
            if item_id not in wanted:
                answers.append(document)
                continue
            answer, missing = _assemble(document, sources[item_id], fetched)
            if missing and isinstance(answer, Document):
                missing_by_item[item_id] = (document, missing)
            answers.append(answer)
        if missing_by_item:
            await self._record_missing(missing_by_item)
        return answers

    async def _sources(self, item_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, dict[str, _Source]]:
        """Per item, the source connection of each file its expenses name, in one query. Released links count
        too: an item whose expenses moved on is still built from the ones it had."""
        query = (
            select(
                ExportItemRecord.export_item_id,
                SourceRecord.data["file_ids"],
                Connection.id,
                Connection.provider,
                Connection.status,
            )
            .join(
                SourceRecord,
                (SourceRecord.tenant_id == ExportItemRecord.tenant_id)
                & (SourceRecord.id == ExportItemRecord.source_record_id),
            )
            .join(
                Connection,
                (Connection.tenant_id == SourceRecord.tenant_id) & (Connection.id == SourceRecord.connection_id),
            )
            .where(ExportItemRecord.tenant_id == self.tenant_id, among(ExportItemRecord.export_item_id, item_ids))
        )
        found: dict[uuid.UUID, dict[str, _Source]] = defaultdict(dict)
        async with self.database.tenant_session(self.tenant_id) as session:
            rows = (await session.execute(query)).all()
        for item_id, file_ids, connection_id, provider, status in rows:
            source = _Source(connection_id, _display_name(provider), status)
            for file_id in file_ids if isinstance(file_ids, list) else ():
                found[item_id].setdefault(str(file_id), source)
        return found

    async def _open(self, connection_ids: set[uuid.UUID], sources: dict[uuid.UUID, dict[str, _Source]]) -> None:
        """Open (once per job) the source connectors this call needs; remember why one cannot be used."""
        by_id = {source.connection_id: source for files in sources.values() for source in files.values()}
        for connection_id in sorted(connection_ids - self._connectors.keys()):
            source = by_id[connection_id]
            self._connectors[connection_id] = await self._open_one(source)

    async def _open_one(self, source: _Source) -> SourceConnector | _Unusable | LedgerlineError:
        if source.status == ConnectionStatus.NEEDS_REAUTH.value:
            return _reconnect(source, None)
        if source.status != ConnectionStatus.ACTIVE.value:
            return _Unusable(f"{source.display_name} is disconnected")
        try:
            connector = await open_connector(
                database=self.database,
                vault=self.vault,
                settings=self.settings,
                tenant_id=self.tenant_id,
                connection_id=source.connection_id,
            )
        except AuthError as error:  # Ledgerline's app with the source is not configured
            return _reconnect(source, error)
        except ConnectionNotFoundError:
            return _Unusable(f"{source.display_name} is disconnected")
        if not isinstance(connector, SourceConnector):
            await connector.aclose()
            return _Unusable(f"{source.display_name} is not a source")
        return connector

    async def _fetch_all(self, files: set[tuple[uuid.UUID, str]]) -> dict[tuple[uuid.UUID, str], Fetched]:
        ordered = sorted(files)
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(self._fetch(connection_id, file_id)) for connection_id, file_id in ordered]
        return {key: task.result() for key, task in zip(ordered, tasks, strict=True)}

    async def _fetch(self, connection_id: uuid.UUID, file_id: str) -> Fetched:
        opened = self._connectors[connection_id]
        if isinstance(opened, _Unusable):
            return MissingReceipt(file_id, f"{file_id} ({opened.reason})")
        if isinstance(opened, LedgerlineError):
            return opened
        source = _Source(connection_id, opened.spec.display_name, ConnectionStatus.ACTIVE.value)
        async with self._gate:
            stopped = self._stopped.get(connection_id)
            if stopped is not None and not _expired(stopped):
                return stopped
            try:
                return await opened.fetch_attachment(file_id, max_bytes=RECEIPT_MAX_BYTES)
            except TooLarge as error:  # the connector stopped reading at the cap
                note = f"{error.file_name} (over the {_megabytes(error.max_bytes)} MB limit)"
                return MissingReceipt(file_id, note, error.message)
            except AuthError as error:
                self._stopped[connection_id] = _reconnect(source, error)
                return self._stopped[connection_id]
            except RateLimited as error:
                self._stopped[connection_id] = error
                return error
            except OutcomeUnknown as error:  # a read has no effect to look up: simply retry
                return Transient(error.message, code=error.code, request=error.request, response=error.response)
            except LedgerlineError as error:
                if error.retriable:
                    return error
                return MissingReceipt(file_id, f"{file_id} (not available from {source.display_name})", error.message)
            except (ValueError, KeyError, TypeError) as exc:  # an answer not shaped as the source documents
                return Transient(
                    f"{source.display_name} answered a receipt request unreadably ({type(exc).__name__}).",
                    code=CODE_RECEIPT_UNREADABLE,
                )

    async def _record_missing(self, missing_by_item: dict[uuid.UUID, tuple[Document, list[MissingReceipt]]]) -> None:
        async with self.database.tenant_session(self.tenant_id) as session:
            for item_id, (document, missing) in missing_by_item.items():
                files = [{"file_id": gone.file_id, "note": gone.note, "detail": gone.detail} for gone in missing]
                log.warning("receipts_missing", export_item_id=str(item_id), reference=document.reference, files=files)
                await append_event(
                    session,
                    tenant_id=self.tenant_id,
                    actor=self.actor,
                    action=AUDIT_RECEIPTS_MISSING,
                    entity_type="export_items",
                    entity_id=str(item_id),
                    data={"reference": document.reference, "files": files},
                )


def _expired(stopped: LedgerlineError) -> bool:
    """A throttle whose Retry-After has passed no longer stops this job (refused credentials do, for the job)."""
    return isinstance(stopped, RateLimited) and stopped.retry_at is not None and stopped.retry_at <= datetime.now(UTC)


def _needs_receipts(document: Document) -> bool:
    return bool(document.attachment_ids) and not document.attachments


def _display_name(provider: str) -> str:
    try:
        return connector_class(provider).spec.display_name
    except UnknownSystemError:
        return provider


def _reconnect(source: _Source, error: LedgerlineError | None) -> Transient:
    return Transient(
        f"{source.display_name} refused Ledgerline's credentials while its receipts were fetched.",
        code=CODE_RECEIPT_SOURCE_AUTH,
        provider_code=error.provider_code if error else None,
        hint=f"Re-connect {source.display_name}; the item retries on its own.",
        request=error.request if error else None,
        response=error.response if error else None,
    )


def _assemble(
    document: Document, sources: dict[str, _Source], fetched: dict[tuple[uuid.UUID, str], Fetched]
) -> tuple[Document | LedgerlineError, list[MissingReceipt]]:
    """The document with the receipts it can carry, in its order; or the first error the item must retry on."""
    attachments: list[Attachment] = []
    missing: list[MissingReceipt] = []
    carried = 0
    for file_id in document.attachment_ids:
        source = sources.get(file_id)
        found: Fetched = (
            fetched[(source.connection_id, file_id)]
            if source is not None
            else MissingReceipt(file_id, f"{file_id} (no expense of this document names it)")
        )
        if isinstance(found, LedgerlineError):
            return found, []
        if isinstance(found, MissingReceipt):
            missing.append(found)
        elif carried + len(found.content) > RECEIPT_DOCUMENT_MAX_BYTES:
            limit = _megabytes(RECEIPT_DOCUMENT_MAX_BYTES)
            missing.append(MissingReceipt(file_id, f"{found.name} (over {limit} MB of receipts per document)"))
        else:
            attachments.append(found)
            carried += len(found.content)
    return replace(document, attachments=tuple(attachments), memo=_noted(document.memo, missing)), missing


def _noted(memo: str | None, missing: Sequence[MissingReceipt]) -> str | None:
    """The memo followed by the missing receipts, cut to the memo's maximum length (the memo gives way first)."""
    if not missing:
        return memo
    note = RECEIPTS_MISSING_NOTE.format(files=", ".join(gone.note for gone in missing))
    if len(note) >= MEMO_MAX_LENGTH:
        return note[: MEMO_MAX_LENGTH - len(ELLIPSIS)] + ELLIPSIS
    if not memo:
        return note
    room = MEMO_MAX_LENGTH - len(note) - len(RECEIPT_NOTE_SEPARATOR)
    kept = memo if len(memo) <= room else memo[: max(room - len(ELLIPSIS), 0)] + ELLIPSIS
    return f"{kept}{RECEIPT_NOTE_SEPARATOR}{note}" if room > len(ELLIPSIS) else note


def _megabytes(size: int) -> str:
    return f"{size / MEGABYTE:.1f}".removesuffix(".0")
