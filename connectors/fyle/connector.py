"""Fyle as a source: expenses, reports and employees in; export summaries, payments and dimensions back out.

The worked example of a source connector. `spec.yaml` says how to talk to Fyle (OAuth2 with PKCE, pages of 200
continued from the last `updated_at` seen, Retry-After); this class only names Fyle's paths and shapes. The base
class owns the client, token refresh, paging and the transport-failure classes; `records.py`, `writes.py` and
`errors.py` translate Fyle's JSON.
"""

from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import datetime
from functools import cached_property
from typing import Any

import httpx

from connectors.base import SourceConnector
from connectors.fyle import webhook_payloads
from connectors.fyle.cluster import api_base
from connectors.fyle.constants import (
    CHECK_PATH,
    CLUSTER_DOMAIN_SETTING,
    CURSOR_FIELD,
    DIMENSION_PATHS,
    EXPORT_SUMMARY_PATH,
    FILE_URLS_PATH,
    LIST_ORDER,
    MARK_PAID_PATH,
    STREAM_KINDS,
    STREAM_PATH,
)
from connectors.fyle.errors import refusal
from connectors.fyle.expenses import fyle_expense
from connectors.fyle.records import FyleObject, keyset_token, page_of, parse_keyset, since_filter, source_item
from connectors.fyle.writes import Row, batches, dimension_rows, export_summary_rows, mark_paid_rows
from connectors.http import response_excerpt
from connectors.pagination import Page, PageRequest, Paginator
from core.domain import Attachment, DimensionValue, Expense, ExportStatus, RecordsReachedState, SourceItem
from core.errors import LedgerlineError, Transient

HANDLED_BY_BASE = frozenset({httpx.codes.UNAUTHORIZED, httpx.codes.FORBIDDEN, httpx.codes.TOO_MANY_REQUESTS})


class FyleConnector(SourceConnector):
    """One Fyle organisation, reached on its own cluster with the connection's OAuth2 tokens."""

    system = "fyle"

    @cached_property
    def api(self) -> str:
        """`…/platform/v1` on the organisation's cluster."""
        return api_base(self.spec, self.context.urls, self.context.settings)

    async def settings_after_authorization(self, callback: Mapping[str, str]) -> dict[str, Any]:
        """The org's data cluster, so that every later call goes to the right region (`cluster.api_base`)."""
        answer = await self.request("POST", self.context.urls["cluster"], idempotent=True)
        return {CLUSTER_DOMAIN_SETTING: answer.json()["cluster_domain"]}

    async def check(self) -> None:
        await self.request("GET", self.api + CHECK_PATH, idempotent=True, params={"limit": 1})

    @classmethod
    def webhook_event_type(cls, payload: Mapping[str, Any]) -> str | None:
        return webhook_payloads.event_type(payload)

    @classmethod
    def webhook_events(cls, payload: Mapping[str, Any]) -> list[RecordsReachedState]:
        return webhook_payloads.events(payload)

    async def stream(self, stream: str, *, since: datetime | None) -> AsyncIterator[SourceItem]:
        """Fyle's admin list of that name, filtered `updated_at=gte.<since>` and ordered oldest first."""
        if stream not in STREAM_KINDS:
            raise ValueError(f"Fyle has no stream {stream!r}; it has {', '.join(STREAM_KINDS)}")
        kind, url = STREAM_KINDS[stream], self.api + STREAM_PATH.format(stream=stream)

        async def fetch(page: PageRequest) -> Page[FyleObject]:
            boundary, skipped = parse_keyset(page.token) if page.token else (since, 0)
            params = {"order": LIST_ORDER, "offset": skipped, "limit": page.limit}
            if boundary is not None:
                params[CURSOR_FIELD] = since_filter(boundary)
            answer = page_of(await self.request("GET", url, idempotent=True, params=params))
            records = list(answer.records)
            token = keyset_token(records, boundary=boundary, skipped=skipped, limit=page.limit)
            return Page(records, next_token=token, total=answer.total)

        paginator = Paginator[FyleObject](self.spec.pagination, key=lambda record: record["id"])
        async for raw in paginator.records(fetch):
            yield source_item(kind, raw)

    @cached_property
    def app_origin(self) -> str:
        """The org's cluster origin, where people open an expense (parsed once: `to_expense` runs per record)."""
        return self.api.removesuffix(httpx.URL(self.spec.urls["api"]).path)

    def to_expense(self, item: SourceItem) -> Expense:
        """`expense_out` → `Expense` (`expenses.fyle_expense`), linked back to the expense on the org's cluster."""
        return fyle_expense(item, app_origin=self.app_origin)

    async def fetch_attachment(self, file_id: str, *, max_bytes: int) -> Attachment:
        """Fyle hands out a short-lived signed URL for a file's bytes (generating one is a read); it is followed only
        to Fyle's storage hosts (`answer_hosts`), and read up to `max_bytes`."""
        answer = await self.request(
            "POST", self.api + FILE_URLS_PATH, idempotent=True, json={"data": [{"id": file_id}]}
        )
        [file] = answer.json()["data"]
        url = self.answered_url(file["download_url"], what="a file download URL")
        # The signed URL is its own authorization: the bearer token must not travel with it (S3 refuses both).
        _, content = await self.download(url, name=file["name"], max_bytes=max_bytes, auth=None)
        return Attachment(name=file["name"], content_type=file["content_type"], content=content, source_id=file_id)

    async def push_dimensions(self, attribute_type: str, values: Sequence[DimensionValue]) -> None:
        """`attribute_type` is Fyle's name for the dimension: categories, projects or cost_centers."""
        if attribute_type not in DIMENSION_PATHS:
            raise ValueError(f"Fyle takes no {attribute_type!r}; it takes {', '.join(DIMENSION_PATHS)}")
        await self._post_bulk(DIMENSION_PATHS[attribute_type], dimension_rows(values))

    async def write_export_status(self, statuses: Sequence[ExportStatus]) -> None:
        await self._post_bulk(EXPORT_SUMMARY_PATH, export_summary_rows(statuses))

    async def mark_paid(self, report_ids: Sequence[str]) -> None:
        await self._post_bulk(MARK_PAID_PATH, mark_paid_rows(report_ids))

    def classify(self, response: httpx.Response) -> LedgerlineError | None:
        """Fyle's 4xx bodies carry the reason (`errors.refusal`); auth, throttling and 5xx are the base's."""
        status = response.status_code
        if status == httpx.codes.FORBIDDEN and not str(response.request.url).startswith(self.api):
            # A signed storage URL that expired or was refused says nothing about the connection's credentials;
            # asking again signs a fresh one.
            return Transient(
                "Fyle's file storage refused a signed URL.",
                provider_code=str(status),
                response=response_excerpt(response),
            )
        if response.is_client_error and status not in HANDLED_BY_BASE:
            return refusal(response)
        return super().classify(response)

    async def _post_bulk(self, path: str, rows: Sequence[Row]) -> None:
        """Fyle's bulk writes are upserts by natural key, so a repeated batch changes nothing: they are sent as
        idempotent, and a lost answer is retried as `Transient` instead of being looked up as `OutcomeUnknown`."""
        for batch in batches(rows, self.spec.batch_size):
            await self.request("POST", self.api + path, idempotent=True, json={"data": batch})
