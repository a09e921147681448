"""Failures: the filterable list of export items, and one item's whole story (expenses, document, attempts, audit).

The reads are `sync.item_queries`; this module turns a query string into its `ItemFilter` and renders the answers.
"""

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from sqlalchemy import select

from core.errors import ERROR_CLASSES
from core.models import Connection, ExportState
from dashboard.constants import PAGE_SIZE, SEARCH_MAX_LENGTH, TIMELINE_EXCERPT_CHARS
from dashboard.item_reads import document_label, item_summaries, mapping_fixes, system_label
from dashboard.pages.common import drop_empty, parse_uuid, tenant_names
from dashboard.scope import NotFoundPage, Scope, ScopeDep
from dashboard.templating import render
from sync.item_queries import (
    InvalidCursorError,
    ItemFilter,
    ItemSort,
    item_detail,
    list_items,
    total_items,
)

router = APIRouter()

ALL_STATES = "any"
SORT_LABELS = {
    ItemSort.UPDATED_AT: "Last change, newest first",
    ItemSort.CREATED_AT: "Created, newest first",
    ItemSort.TENANT: "Grouped by tenant",
    ItemSort.ERROR_CLASS: "Grouped by error class",
}


def _day(value: str | None, *, end: bool = False) -> datetime | None:
    """A date field as the UTC instant it starts (or, for the end of a range, the next day's start)."""
    try:
        day = date.fromisoformat(value) if value else None
    except ValueError:
        return None
    if day is None:
        return None
    return datetime.combine(day + timedelta(days=1) if end else day, time.min, UTC)


def _text(value: str | None) -> str | None:
    return (value or "").strip()[:SEARCH_MAX_LENGTH] or None


@dataclass(frozen=True)
class FilterForm:
    """The list's query string, parsed leniently: a bad value is dropped, never an error page."""

    tenant: str | None = None
    connection: str | None = None
    provider: str | None = None
    error_class: str | None = None
    state: str | None = None
    since: str | None = None
    until: str | None = None
    q: str | None = None
    expense: str | None = None
    ref: str | None = None
    sort: str | None = None

    @property
    def state_value(self) -> ExportState | None:
        if self.state == ALL_STATES:
            return None
        try:
            return ExportState(self.state or ExportState.NEEDS_ACTION)
        except ValueError:
            return ExportState.NEEDS_ACTION

    def item_filter(self, scope: Scope) -> ItemFilter:
        """The filter as asked, confined to the user's tenant whatever the query string said."""
        tenant_id = scope.tenant_id if scope.tenant_id is not None else parse_uuid(self.tenant)
        return ItemFilter(
            tenant_id=tenant_id,
            connection_id=parse_uuid(self.connection),
            provider=_text(self.provider),
            error_class=_text(self.error_class),
            state=self.state_value,
            updated_from=_day(self.since),
            updated_to=_day(self.until, end=True),
            search=_text(self.q),
            expense_id=_text(self.expense),
            reference=_text(self.ref),
        )

    @property
    def sort_order(self) -> ItemSort:
        try:
            return ItemSort(self.sort or ItemSort.UPDATED_AT)
        except ValueError:
            return ItemSort.UPDATED_AT

    def query(self) -> dict[str, str]:
        return drop_empty({name: getattr(self, name) for name in self.__dataclass_fields__})


def filter_form(
    tenant: str | None = None,
    connection: str | None = None,
    provider: str | None = None,
    error_class: str | None = None,
    state: str | None = None,
    since: str | None = None,
    until: str | None = None,
    q: Annotated[str | None, Query(max_length=SEARCH_MAX_LENGTH)] = None,
    expense: Annotated[str | None, Query(max_length=SEARCH_MAX_LENGTH)] = None,
    ref: Annotated[str | None, Query(max_length=SEARCH_MAX_LENGTH)] = None,
    sort: str | None = None,
) -> FilterForm:
    return FilterForm(tenant, connection, provider, error_class, state, since, until, q, expense, ref, sort)


FilterDep = Annotated[FilterForm, Depends(filter_form)]


async def filter_choices(session: Any, scope: Scope) -> dict[str, Any]:
    """What the filter's selects offer: the tenants, connections, systems and error classes in view."""
    names = await tenant_names(session)
    connections = (
        await session.execute(
            select(Connection.id, Connection.name, Connection.tenant_id, Connection.provider).order_by(Connection.name)
        )
    ).all()
    # From the connections and the closed list of error classes, not by counting every item: at a million items
    # that count was most of the page's time.
    return {
        "tenants": sorted(names.items(), key=lambda pair: pair[1]),
        "connections": [
            (row.id, row.name if len(names) <= 1 else f"{row.name} — {names.get(row.tenant_id, '')}")
            for row in connections
        ],
        "providers": sorted(((p, system_label(p)) for p in {row.provider for row in connections}), key=lambda p: p[1]),
        "error_classes": sorted(ERROR_CLASSES),
        "states": [s.value for s in ExportState],
    }


@router.get("/items", name="dashboard_items")
async def items_page(request: Request, scope: ScopeDep, form: FilterDep, cursor: str | None = None) -> Response:
    item_filter = form.item_filter(scope)
    async with scope.reading("failures list") as session:
        try:
            rows, next_cursor = await list_items(
                session, item_filter, sort=form.sort_order, cursor=cursor or None, limit=PAGE_SIZE
            )
        except InvalidCursorError:  # a stale link: start from the first page
            cursor = None
            rows, next_cursor = await list_items(session, item_filter, sort=form.sort_order, limit=PAGE_SIZE)
        summaries = await item_summaries(session, rows)
        total = await total_items(session, item_filter)
        choices = await filter_choices(session, scope)
    query = form.query()
    return render(
        request,
        "items.html",
        {
            "rows": rows,
            "summaries": summaries,
            "total": total,
            "form": form,
            "query": query,
            "next_query": {**query, "cursor": next_cursor} if next_cursor else None,
            "first_query": query if cursor else None,
            "sort_labels": SORT_LABELS,
            "sort": form.sort_order,
            "all_states": ALL_STATES,
            "replayable": ExportState.NEEDS_ACTION.value,
            "live": True,
            **choices,
        },
    )


def excerpt(value: Any) -> str:
    from dashboard.templating import templates

    text: str = templates.env.filters["pretty"](value) if value is not None else ""
    return text if len(text) <= TIMELINE_EXCERPT_CHARS else text[:TIMELINE_EXCERPT_CHARS] + "\n… (cut)"


@router.get("/items/{item_id}", name="dashboard_item")
async def item_page(request: Request, item_id: uuid.UUID, scope: ScopeDep) -> Response:
    async with scope.reading(f"export item {item_id}") as session:
        detail = await item_detail(session, item_id)
        if detail is None or not scope.allows(detail.item.tenant_id):
            raise NotFoundPage("export item")
        fixes = await mapping_fixes(session, detail.item, detail.missing_mappings)
    return render(
        request,
        "item.html",
        {
            "d": detail,
            "item": detail.item,
            "fixes": fixes,
            "document_label": document_label(detail.item.destination_provider, detail.item.document_type),
            "system_label": system_label(detail.item.destination_provider),
            "excerpt": excerpt,
            "can_fix_mappings": not scope.user.is_support,
            "live": detail.item.state in (ExportState.PENDING.value, ExportState.RUNNING.value),
            "refresh_seconds": 3,
        },
    )
