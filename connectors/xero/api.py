"""The Xero API as one organisation's connection sees it: every call names the organisation (`xero-tenant-id`),
reads JSON, and finds documents by the reference they hold. `XeroConnector` builds its hooks on these."""

import json
from collections.abc import Sequence
from datetime import date
from functools import cached_property
from typing import Any

import httpx

from connectors.base import DestinationConnector
from connectors.http import response_excerpt
from connectors.xero import constants as names
from connectors.xero.dimensions import tracking_options
from connectors.xero.documents import TrackingOption
from connectors.xero.references import stored_reference
from connectors.xero.wire import any_equal, date_of, is_guid
from core.domain import DocumentKind, RemoteDocument
from core.errors import AuthError, EngineAction, LedgerlineError, Transient

Found = RemoteDocument | LedgerlineError | None
REFERENCE_FIELDS = {
    DocumentKind.BILL: "InvoiceNumber",
    DocumentKind.CHARGE_CARD_TRANSACTION: "Reference",
    DocumentKind.JOURNAL_ENTRY: "Narration",
    DocumentKind.PAYMENT: "Reference",
}


class XeroApi(DestinationConnector):
    """Calls to one organisation, and what they read that several hooks share (read once per connector)."""

    _organisation_cache: dict[str, Any] | None = None
    _tracking_cache: dict[str, TrackingOption] | None = None

    @cached_property
    def tenant(self) -> str:
        """The organisation every call of this connection goes to."""
        tenant = str(self.context.settings.get(names.TENANT_ID_SETTING) or "")
        if not is_guid(tenant):
            raise AuthError(
                f"The connection names no {names.DISPLAY_NAME} organisation.",
                code=names.CODE_NO_TENANT,
                hint="Connect Xero again and tick the organisation to export to.",
            )
        return tenant

    def _url(self, path: str) -> str:
        return self.context.urls[names.API_URL] + path

    def _headers(self, **extra: str) -> dict[str, str]:
        return {names.TENANT_HEADER: self.tenant, "Accept": "application/json", **extra}

    def document_url(self, kind: DocumentKind, remote_id: str) -> str | None:
        path = names.DOCUMENT_URL_PATHS.get(kind)
        return self.context.urls[names.APP_URL] + path.format(id=remote_id) if path else None

    async def _get(self, path: str, *, params: dict[str, str] | None = None, **headers: str) -> dict[str, Any]:
        response = await self.request(
            "GET", self._url(path), idempotent=True, params=params or {}, headers=self._headers(**headers)
        )
        return self._json(response)

    def _json(self, response: httpx.Response) -> dict[str, Any]:
        if response.status_code == httpx.codes.NOT_MODIFIED:  # If-Modified-Since: nothing changed
            return {}
        try:
            body = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise Transient(
                f"{names.DISPLAY_NAME} answered with something unreadable.",
                code=names.CODE_UNREADABLE,
                response=response_excerpt(response),
            ) from exc
        if not isinstance(body, dict):
            raise Transient(f"{names.DISPLAY_NAME} answered with something unreadable.", code=names.CODE_UNREADABLE)
        return body

    @staticmethod
    def _rows(body: dict[str, Any], collection: str) -> list[dict[str, Any]]:
        rows = body.get(collection)
        return [row for row in rows if isinstance(row, dict)] if isinstance(rows, list) else []

    async def organisation(self) -> dict[str, Any]:
        """GET Organisation: the cheap call that proves the connection, and its lock dates and base currency."""
        if self._organisation_cache is None:
            rows = self._rows(await self._get(names.ORGANISATION_PATH), "Organisations")
            self._organisation_cache = rows[0] if rows else {}
        return self._organisation_cache

    async def lock_dates(self) -> list[date]:
        """The organisation's period and end-of-year lock dates; none when it has none or they cannot be read (a
        refusal then keeps the day its message named)."""
        try:
            found = await self.organisation()
        except LedgerlineError:
            return []
        days = [date_of(found.get(field)) for field in ("PeriodLockDate", "EndOfYearLockDate")]
        return [day for day in days if day is not None]

    async def tracking(self) -> dict[str, TrackingOption]:
        """Every tracking option by id (a line must name its category and option): one read per connector."""
        if self._tracking_cache is None:
            body = await self._get(names.TRACKING_PATH, params={"includeArchived": "true"})
            self._tracking_cache = tracking_options(self._rows(body, "TrackingCategories"))
        return self._tracking_cache

    # -- lookups ------------------------------------------------------------------------------------------------

    async def _find_batch(self, kind: DocumentKind, references: Sequence[str]) -> list[Found]:
        """The documents of `kind` holding these references, one call (deleted and voided ones hold none)."""
        collection, path, id_field = names.OBJECTS[kind]
        field = REFERENCE_FIELDS[kind]
        stored = [stored_reference(reference) for reference in references]
        if kind is DocumentKind.BILL:
            params = {"InvoiceNumbers": ",".join(stored), "Statuses": ",".join(names.LIVE_BILL_STATUSES)}
        else:
            params = {"where": any_equal(field, stored)}
        response = await self.request("GET", self._url(path), idempotent=True, params=params, headers=self._headers())
        body = self._json(response)
        if collection not in body:
            raise Transient(f"{names.DISPLAY_NAME} answered a lookup without its {collection}.", code="lookup_unread")
        rows = [row for row in self._rows(body, collection) if row.get("Status") not in names.GONE_STATUSES]
        if kind is DocumentKind.BILL:
            rows = [row for row in rows if row.get("Type") == names.BILL_TYPE]
        found: list[Found] = []
        for value in stored:
            matches = [row for row in rows if row.get(field) == value and row.get(id_field)]
            if not matches:
                found.append(None)
                continue
            remote_id = str(matches[0][id_field])
            found.append(RemoteDocument(remote_id, url=self.document_url(kind, remote_id), adopted=True))
        return found

    async def find_by_reference(self, kind: DocumentKind, reference: str) -> RemoteDocument | None:
        [found] = await self.find_by_references([(kind, reference)])
        if isinstance(found, LedgerlineError):
            raise found
        return found

    async def find_by_references(self, wanted: Sequence[tuple[DocumentKind, str]]) -> list[Found]:
        """Up to 25 references of one kind per call. A failed call fails its references only; an error that stops
        the connection (auth, rate limit) stops the lookup."""
        found: dict[int, Found] = {}
        by_kind: dict[DocumentKind, list[int]] = {}
        for position, (kind, _) in enumerate(wanted):
            by_kind.setdefault(kind, []).append(position)
        for kind, positions in by_kind.items():
            for start in range(0, len(positions), names.LOOKUP_BATCH):
                chunk = positions[start : start + names.LOOKUP_BATCH]
                try:
                    answers = await self._find_batch(kind, [wanted[position][1] for position in chunk])
                except LedgerlineError as error:
                    if error.action is not EngineAction.RETRY:
                        raise
                    answers = [error] * len(chunk)
                found.update(zip(chunk, answers, strict=True))
        return [found[position] for position in range(len(wanted))]
