"""The retry dashboard's reads: which export items failed, why, and everything known about one of them.

Service surface (every function async, keyword-only after the session; works in a tenant session — an admin, who
sees one tenant — and in a cross-tenant session — support staff, who see every tenant; row-level security decides):

    ItemFilter(tenant_id=None, connection_id=None, provider=None, error_class=None,
               state=ExportState.NEEDS_ACTION,           # None: every state
               created_from=None, created_to=None, updated_from=None, updated_to=None,
               search=None,        # words of the error message ("closed period"), each matched as a prefix
               expense_id=None,    # an expense id or a report id (source_records.remote_id / parent_remote_id)
               reference=None)     # a document reference: the idempotency key or the destination's remote id
    ItemSort: UPDATED_AT (newest first, default) | CREATED_AT (newest first) | TENANT (grouped by tenant) |
              ERROR_CLASS (grouped by error class)

    list_items(session, filter, *, sort=ItemSort.UPDATED_AT, cursor=None, limit=50) -> (list[ItemRow], str | None)
        A keyset page; pass the returned cursor back for the next one (None: no more).
        Raises InvalidCursorError for a cursor this module did not issue (or issued for another sort).
    count_items(session, filter, *, group_by=ItemFacet.STATE) -> list[FacetCount]
        Counts of the filtered items by state | tenant | provider | error_class | connection, largest first.
        For counts by state, pass a filter with state=None.
    failures_by_hour(session, *, since, tenant_id=None) -> list[HourCount]
        Failed attempts (failed or outcome unknown) per UTC hour from `since` to now, every hour present.
    item_detail(session, item_id) -> ItemDetail | None
        The item with its tenant and connection names, its source records (remote ids, data, released or not), its
        attempts (oldest first, with redacted excerpts), its audit events and its missing mappings.

    total_items(session, filter) -> ItemTotal
        How many items the filter matches, for a page's heading: exact, except a broad word search, counted up to
        ITEM_WORD_SEARCH_MAX_MATCHES ("more than …").

Every list and count is shaped for an index (migrations 0006, 0007). Words are checked on every row a query walks,
so a search is exact in any order, filter and page; when they match few items, an owner-run function that applies
the row-level security policy itself first narrows the rows to those through the words' index (the policy keeps a
non-leakproof operator such as `@@` from using an index in the service's own queries). A broad search needs no
narrowing: its matches are dense, and the list's own index reaches a page of them after a few rows.
"""

import base64
import binascii
import json
import re
import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    Uuid,
    and_,
    any_,
    bindparam,
    false,
    func,
    literal_column,
    or_,
    select,
    true,
    tuple_,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from core.audit import write_appended_events
from core.db import SESSION_TENANT
from core.document_codec import document_from_json
from core.models import (
    Attempt,
    AuditEvent,
    Connection,
    ExportItem,
    ExportItemRecord,
    ExportState,
    SourceRecord,
    Tenant,
)
from sync.constants import (
    FAILURE_OUTCOMES,
    ITEM_DETAIL_AUDIT_EVENTS,
    ITEM_MESSAGE_EXCERPT_CHARS,
    ITEM_WORD_SEARCH_MAX_MATCHES,
    ITEM_WORD_SEARCH_MAX_TERMS,
)
from sync.item_counts import summed_items

__all__ = [
    "FacetCount",
    "HourCount",
    "InvalidCursorError",
    "ItemDetail",
    "ItemFacet",
    "ItemFilter",
    "ItemRow",
    "ItemSort",
    "ItemTotal",
    "count_items",
    "failures_by_hour",
    "item_detail",
    "list_items",
    "matching_items",
    "total_items",
]

_WORD = re.compile(r"\w+")
_SIMPLE: ColumnElement[Any] = literal_column("'simple'::regconfig")


class InvalidCursorError(ValueError):
    """A cursor this module did not issue, or issued for another sort."""


class ItemSort(StrEnum):
    UPDATED_AT = "updated_at"
    CREATED_AT = "created_at"
    TENANT = "tenant"
    ERROR_CLASS = "error_class"


class ItemFacet(StrEnum):
    STATE = "state"
    TENANT = "tenant"
    PROVIDER = "provider"
    ERROR_CLASS = "error_class"
    CONNECTION = "connection"


@dataclass(frozen=True, slots=True)
class ItemFilter:
    """Which export items to show, count or replay. Every field narrows; None means "any"."""

    tenant_id: uuid.UUID | None = None
    connection_id: uuid.UUID | None = None
    provider: str | None = None
    error_class: str | None = None
    state: ExportState | None = ExportState.NEEDS_ACTION
    created_from: datetime | None = None
    created_to: datetime | None = None
    updated_from: datetime | None = None
    updated_to: datetime | None = None
    search: str | None = None
    expense_id: str | None = None
    reference: str | None = None

    def as_json(self) -> dict[str, Any]:
        """The form kept in `replays.filter` (and shown back to people)."""
        values: dict[str, Any] = {}
        for name in self.__slots__:
            value = getattr(self, name)
            if value is None:
                continue
            values[name] = value.isoformat() if isinstance(value, datetime) else str(value)
        if self.state is None:
            values["state"] = None
        return values

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "ItemFilter":
        def moment(name: str) -> datetime | None:
            return datetime.fromisoformat(data[name]) if data.get(name) else None

        def ident(name: str) -> uuid.UUID | None:
            return uuid.UUID(data[name]) if data.get(name) else None

        return cls(
            tenant_id=ident("tenant_id"),
            connection_id=ident("connection_id"),
            provider=data.get("provider"),
            error_class=data.get("error_class"),
            state=ExportState(data["state"]) if data.get("state", ExportState.NEEDS_ACTION.value) else None,
            created_from=moment("created_from"),
            created_to=moment("created_to"),
            updated_from=moment("updated_from"),
            updated_to=moment("updated_to"),
            search=data.get("search"),
            expense_id=data.get("expense_id"),
            reference=data.get("reference"),
        )


@dataclass(frozen=True, slots=True)
class ItemRow:
    """One line of the dashboard's list: enough to see what failed and why, nothing heavy."""

    id: uuid.UUID
    tenant_id: uuid.UUID
    tenant_name: str
    tenant_slug: str
    connection_id: uuid.UUID
    connection_name: str
    provider: str
    document_type: str
    state: str
    error_class: str | None
    error_code: str | None
    error_message: str | None
    """The first ITEM_MESSAGE_EXCERPT_CHARS characters."""
    attempt_count: int
    outcome_unknown: bool
    group_key: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class FacetCount:
    key: str | None
    """The state, tenant id, provider, error class or connection id (as text); None for items without one."""
    label: str | None
    """A name for people: the tenant's or the connection's name; the key itself otherwise."""
    count: int


@dataclass(frozen=True, slots=True)
class ItemTotal:
    count: int
    exact: bool
    """False: more than `count` items match; a broad word search stops counting there."""


@dataclass(frozen=True, slots=True)
class HourCount:
    hour: datetime
    failures: int


@dataclass(frozen=True, slots=True)
class TraceLine:
    amount: Decimal
    expense_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ItemTrace:
    reference: str
    report_ids: tuple[str, ...]
    lines: tuple[TraceLine, ...]


@dataclass(frozen=True, slots=True)
class ItemDetail:
    item: ExportItem
    tenant_name: str
    tenant_slug: str
    connection_name: str
    records: list[dict[str, Any]] = field(default_factory=list)
    """Each: id, connection_id, kind, remote_id (the expense id), parent_remote_id (its report id), remote_state,
    data, skip_reason, changed_after_export, released_at (set once the expense left this item)."""
    attempts: list[Attempt] = field(default_factory=list)
    audit_events: list[AuditEvent] = field(default_factory=list)

    @property
    def missing_mappings(self) -> list[Any]:
        return list(self.item.missing_mappings or [])

    @property
    def trace(self) -> ItemTrace:
        """What the destination's document names (issue 17, point 6): the item's reference, its reports, and per line
        of the document as first sent the expenses it carries. No lines before the document is first built."""
        live = [record for record in self.records if record["released_at"] is None]
        reports = sorted({record["parent_remote_id"] for record in live if record["parent_remote_id"]})
        stored = self.item.document
        lines = document_from_json(stored).lines if stored is not None else ()
        return ItemTrace(
            reference=self.item.idempotency_key,
            report_ids=tuple(reports),
            lines=tuple(TraceLine(amount=line.amount, expense_ids=line.source_ids) for line in lines),
        )


def word_query(search: str) -> str | None:
    """`closed per` → `closed:* & per:*`: every word must start a word of the message. None when there are none.
    Only the first `ITEM_WORD_SEARCH_MAX_TERMS` distinct words count: each prefix term walks the index of every
    tenant's messages, so a long query of short words would cost a hundred walks."""
    words = list(dict.fromkeys(_WORD.findall(search.lower())))[:ITEM_WORD_SEARCH_MAX_TERMS]
    return " & ".join(f"{word}:*" for word in words) or None


def _conditions(item_filter: ItemFilter) -> list[ColumnElement[bool]]:
    f = item_filter
    where: list[ColumnElement[bool]] = []
    if f.tenant_id is not None:
        where.append(ExportItem.tenant_id == f.tenant_id)
    if f.connection_id is not None:
        where.append(ExportItem.destination_connection_id == f.connection_id)
    if f.provider is not None:
        where.append(ExportItem.destination_provider == f.provider)
    if f.error_class is not None:
        where.append(ExportItem.error_class == f.error_class)
    if f.state is not None:
        where.append(ExportItem.state == f.state.value)
    if f.created_from is not None:
        where.append(ExportItem.created_at >= f.created_from)
    if f.created_to is not None:
        where.append(ExportItem.created_at < f.created_to)
    if f.updated_from is not None:
        where.append(ExportItem.updated_at >= f.updated_from)
    if f.updated_to is not None:
        where.append(ExportItem.updated_at < f.updated_to)
    if f.search is not None and f.search.strip():
        words = word_query(f.search)
        where.append(false() if words is None else _words_match(words))
    if f.expense_id is not None and f.expense_id.strip():
        expense = f.expense_id.strip()
        linked = (
            select(ExportItemRecord.export_item_id)
            .join(
                SourceRecord,
                and_(
                    SourceRecord.tenant_id == ExportItemRecord.tenant_id,
                    SourceRecord.id == ExportItemRecord.source_record_id,
                ),
            )
            .where(or_(SourceRecord.remote_id == expense, SourceRecord.parent_remote_id == expense))
        )
        where.append(ExportItem.id.in_(linked))
    if f.reference is not None and f.reference.strip():
        reference = f.reference.strip()
        where.append(or_(ExportItem.idempotency_key == reference, ExportItem.remote_id == reference))
    return where


def _words_match(words: str) -> ColumnElement[bool]:
    """The words' check on one row, written as the function behind `@@`: under row-level security the planner may not
    read the operator's statistics and guesses almost nothing matches (then sorts every item in view to find a page),
    while a function call is guessed to match a third, and a broad search walks the list's index in its order."""
    return func.ts_match_vq(func.to_tsvector(_SIMPLE, ExportItem.error_message), func.to_tsquery(_SIMPLE, words))


_BROAD = "broad"
_WORD_MATCHES_INFO = "ledgerline.word_matches"


async def _word_matches(session: AsyncSession, item_filter: ItemFilter) -> list[uuid.UUID] | str | None:
    """The ids a word search can match when they are few, `_BROAD` when more, None without words.

    Asked once per transaction and search: a page's list and its total ask the same question, and the walk through
    the words' index is most of a search's time (50 ms for a broad one at a million items). Every query still checks
    the words on each row it reads, so the answer only narrows."""
    words = word_query(item_filter.search) if item_filter.search else None
    if words is None:
        return None
    state = item_filter.state.value if item_filter.state else None
    transaction = session.sync_session.get_transaction()
    held = session.info.get(_WORD_MATCHES_INFO)
    if held is None or held[0] is not transaction:
        held = (transaction, {})
        session.info[_WORD_MATCHES_INFO] = held
    known: dict[tuple[str, str | None], list[uuid.UUID] | str] = held[1]
    if (words, state) not in known:
        ids = await session.scalar(
            select(func.ledgerline_export_item_ids_with_words(words, state, ITEM_WORD_SEARCH_MAX_MATCHES))
        )
        known[words, state] = _BROAD if ids is None else list(ids)
    return known[words, state]


async def _narrowed(session: AsyncSession, item_filter: ItemFilter) -> list[ColumnElement[bool]]:
    """The items a word search can match, through the words' index, when they are few (nothing to add otherwise)."""
    ids = await _word_matches(session, item_filter)
    if ids is None or ids == _BROAD:  # broad: the words are checked along the query's own index
        return []
    return [ExportItem.id == any_(bindparam("word_matches", ids, type_=ARRAY(Uuid)))]


def _counted_ahead(item_filter: ItemFilter) -> bool:
    """Whether `export_item_counts` answers the filter: it narrows by the table's key columns only."""
    f = item_filter
    return (
        f.created_from is None
        and f.created_to is None
        and f.updated_from is None
        and f.updated_to is None
        and not (f.search or "").strip()
        and not (f.expense_id or "").strip()
        and not (f.reference or "").strip()
    )


def _only_words_and_state(session: AsyncSession, item_filter: ItemFilter) -> bool:
    """A word search narrowed by nothing but the state (and the tenant the session is confined to anyway): the words'
    own check, which applies the same row-level security, asks the same question."""
    own_tenant = item_filter.tenant_id is not None and item_filter.tenant_id == session.info.get(SESSION_TENANT)
    return _counted_ahead(replace(item_filter, search=None)) and (
        (item_filter.tenant_id is None or own_tenant)
        and item_filter.connection_id is None
        and item_filter.provider is None
        and item_filter.error_class is None
    )


async def _summed(session: AsyncSession, item_filter: ItemFilter, by: str | None) -> list[tuple[Any, int]]:
    f = item_filter
    return await summed_items(
        session,
        by=by,
        tenant_id=f.tenant_id,
        connection_id=f.connection_id,
        provider=f.provider,
        error_class=f.error_class,
        state=f.state.value if f.state else None,
    )


async def _summed_facets(session: AsyncSession, item_filter: ItemFilter, group_by: ItemFacet) -> list[FacetCount]:
    found = await _summed(session, item_filter, group_by.value)
    keys = [key for key, _ in found]
    labels: dict[Any, str] | None = None
    if group_by is ItemFacet.TENANT:
        rows = await session.execute(select(Tenant.id, Tenant.name).where(Tenant.id.in_(keys)))
        labels = {row.id: row.name for row in rows}
    elif group_by is ItemFacet.CONNECTION:
        rows = await session.execute(select(Connection.id, Connection.name).where(Connection.id.in_(keys)))
        labels = {row.id: row.name for row in rows}
    counts = [
        FacetCount(key=None if key is None else str(key), label=key if labels is None else labels[key], count=n)
        for key, n in found
        if labels is None or key in labels
    ]
    return sorted(counts, key=lambda facet: (-facet.count, facet.key or ""))


def matching_items(item_filter: ItemFilter) -> Select[uuid.UUID]:
    """The ids of the filtered items (unordered): what a bulk replay works through."""
    return select(ExportItem.id).where(*_conditions(item_filter))


# Keyset order of each sort: (column, …, id), all in one direction so a row comparison continues the page.
def _order(sort: ItemSort) -> tuple[list[Any], bool]:
    """The key columns and whether the order is descending."""
    if sort is ItemSort.UPDATED_AT:
        return [ExportItem.updated_at, ExportItem.id], True
    if sort is ItemSort.CREATED_AT:
        return [ExportItem.created_at, ExportItem.id], True
    if sort is ItemSort.TENANT:
        return [ExportItem.tenant_id, ExportItem.id], False
    return [ExportItem.error_class, ExportItem.id], False


def _encode(sort: ItemSort, row: ItemRow) -> str:
    key: list[Any]
    if sort is ItemSort.UPDATED_AT:
        key = [row.updated_at.isoformat(), str(row.id)]
    elif sort is ItemSort.CREATED_AT:
        key = [row.created_at.isoformat(), str(row.id)]
    elif sort is ItemSort.TENANT:
        key = [str(row.tenant_id), str(row.id)]
    else:
        key = [row.error_class, str(row.id)]
    raw = json.dumps([sort.value, *key]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(sort: ItemSort, cursor: str) -> list[Any]:
    try:
        decoded = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(decoded, list) or len(decoded) != 3 or decoded[0] != sort.value:
            raise InvalidCursorError("the cursor belongs to another sort or is not ours")
        first, last = decoded[1], uuid.UUID(decoded[2])
        if sort in (ItemSort.UPDATED_AT, ItemSort.CREATED_AT):
            return [datetime.fromisoformat(first), last]
        if sort is ItemSort.TENANT:
            return [uuid.UUID(first), last]
        if first is not None and not isinstance(first, str):
            raise InvalidCursorError("the cursor is not ours")
        return [first, last]
    except (ValueError, TypeError, binascii.Error) as exc:
        raise InvalidCursorError("the cursor is not one we issued") from exc


def _after(sort: ItemSort, position: list[Any]) -> ColumnElement[bool]:
    columns, descending = _order(sort)
    first, last = position
    if sort is ItemSort.ERROR_CLASS:  # NULLs sort last (ascending): continue within them, or reach them
        if first is None:
            return and_(ExportItem.error_class.is_(None), ExportItem.id > last)
        return or_(
            ExportItem.error_class > first,
            and_(ExportItem.error_class == first, ExportItem.id > last),
            ExportItem.error_class.is_(None),
        )
    keys = tuple_(*columns)
    return keys < tuple_(first, last) if descending else keys > tuple_(first, last)


_LISTED = (
    ExportItem.id,
    ExportItem.tenant_id,
    ExportItem.destination_connection_id,
    ExportItem.destination_provider,
    ExportItem.document_type,
    ExportItem.state,
    ExportItem.error_class,
    ExportItem.error_code,
    ExportItem.error_message,
    ExportItem.attempt_count,
    ExportItem.outcome_unknown,
    ExportItem.group_key,
    ExportItem.created_at,
    ExportItem.updated_at,
)


def _row_query(page: Any) -> Select[*tuple[Any, ...]]:
    """The page's rows with their tenant and connection names, joined only after the page is cut.

    Row-level security makes the planner guess one row for `tenants` and `connections` (it cannot estimate the
    policy's `current_setting` comparison), so a join written around the whole filter became a nested loop over every
    tenant's items and a sort of all of them (seconds at 200,000 failed items). Cut first, the page is a walk down
    an index of `export_items` alone, and the names are looked up for its rows only.
    """
    return (
        select(
            page.c.id,
            page.c.tenant_id,
            Tenant.name.label("tenant_name"),
            Tenant.slug.label("tenant_slug"),
            page.c.destination_connection_id.label("connection_id"),
            Connection.name.label("connection_name"),
            page.c.destination_provider.label("provider"),
            page.c.document_type,
            page.c.state,
            page.c.error_class,
            page.c.error_code,
            func.left(page.c.error_message, ITEM_MESSAGE_EXCERPT_CHARS).label("error_message"),
            page.c.attempt_count,
            page.c.outcome_unknown,
            page.c.group_key,
            page.c.created_at,
            page.c.updated_at,
        )
        .join(Tenant, Tenant.id == page.c.tenant_id)
        .join(
            Connection,
            and_(Connection.tenant_id == page.c.tenant_id, Connection.id == page.c.destination_connection_id),
        )
    )


async def list_items(
    session: AsyncSession,
    item_filter: ItemFilter,
    *,
    sort: ItemSort = ItemSort.UPDATED_AT,
    cursor: str | None = None,
    limit: int = 50,
) -> tuple[list[ItemRow], str | None]:
    columns, descending = _order(sort)
    ordering = [col.desc() for col in columns] if descending else [col.asc() for col in columns]
    where = [*_conditions(item_filter), *await _narrowed(session, item_filter)]
    cut = select(*_LISTED).where(*where).order_by(*ordering).limit(limit + 1)
    if cursor is not None:
        cut = cut.where(_after(sort, _decode(sort, cursor)))
    page = cut.subquery("page")  # a subquery with LIMIT is planned on its own, never flattened into the join
    page_order = [page.c[col.key] for col in columns]
    query = _row_query(page).order_by(*(c.desc() if descending else c.asc() for c in page_order))
    rows = [ItemRow(**row._asdict()) for row in (await session.execute(query)).all()]
    if len(rows) <= limit:
        return rows, None
    return rows[:limit], _encode(sort, rows[limit - 1])


async def count_items(
    session: AsyncSession, item_filter: ItemFilter, *, group_by: ItemFacet = ItemFacet.STATE
) -> list[FacetCount]:
    keys: dict[ItemFacet, Any] = {
        ItemFacet.STATE: ExportItem.state,
        ItemFacet.TENANT: ExportItem.tenant_id,
        ItemFacet.PROVIDER: ExportItem.destination_provider,
        ItemFacet.ERROR_CLASS: ExportItem.error_class,
        ItemFacet.CONNECTION: ExportItem.destination_connection_id,
    }
    if _counted_ahead(item_filter):
        return await _summed_facets(session, item_filter, group_by)
    key = keys[group_by].label("key")
    where = [*_conditions(item_filter), *await _narrowed(session, item_filter)]
    counted = select(key, ExportItem.tenant_id).where(*where).subquery()
    if group_by is ItemFacet.CONNECTION:
        grouped = (
            select(counted.c.key, func.min(Connection.name).label("label"), func.count().label("n"))
            .select_from(counted)
            .join(Connection, and_(Connection.tenant_id == counted.c.tenant_id, Connection.id == counted.c.key))
            .group_by(counted.c.key)
        )
    elif group_by is ItemFacet.TENANT:
        # Counted before the names are joined, and kept apart (MATERIALIZED): row-level security makes the planner
        # guess one tenant, and it would otherwise re-count the items once per tenant in a nested loop.
        totals = (
            select(counted.c.key, func.count().label("n"))
            .group_by(counted.c.key)
            .cte("totals")
            .prefix_with("MATERIALIZED")
        )
        grouped = select(totals.c.key, Tenant.name.label("label"), totals.c.n).join(Tenant, Tenant.id == totals.c.key)
    else:
        grouped = select(counted.c.key, counted.c.key.label("label"), func.count().label("n")).group_by(counted.c.key)
    rows = (await session.execute(grouped)).all()
    counts = [FacetCount(key=None if row.key is None else str(row.key), label=row.label, count=row.n) for row in rows]
    return sorted(counts, key=lambda facet: (-facet.count, facet.key or ""))


async def total_items(session: AsyncSession, item_filter: ItemFilter) -> ItemTotal:
    if _counted_ahead(item_filter):
        [(_, count)] = await _summed(session, item_filter, None)
        return ItemTotal(count=count, exact=True)
    if _only_words_and_state(session, item_filter) and await _word_matches(session, item_filter) == _BROAD:
        return ItemTotal(count=ITEM_WORD_SEARCH_MAX_MATCHES, exact=False)  # the words' check counted past it
    narrowed = await _narrowed(session, item_filter)
    matching = select(ExportItem.id).where(*_conditions(item_filter), *narrowed)
    broad = word_query(item_filter.search or "") is not None and not narrowed
    if broad:  # counting every match would check the words of every row in view
        matching = matching.limit(ITEM_WORD_SEARCH_MAX_MATCHES + 1)
    count = await session.scalar(select(func.count()).select_from(matching.subquery())) or 0
    if count > ITEM_WORD_SEARCH_MAX_MATCHES and broad:
        return ItemTotal(count=ITEM_WORD_SEARCH_MAX_MATCHES, exact=False)
    return ItemTotal(count=count, exact=True)


async def failures_by_hour(
    session: AsyncSession, *, since: datetime, tenant_id: uuid.UUID | None = None
) -> list[HourCount]:
    hour = func.date_trunc("hour", func.timezone("UTC", Attempt.finished_at)).label("hour")
    query = (
        select(hour, func.count().label("n"))
        .where(Attempt.outcome.in_(FAILURE_OUTCOMES), Attempt.finished_at >= since)
        .where(Attempt.tenant_id == tenant_id if tenant_id is not None else true())
        .group_by(hour)
    )
    found = {row.hour.replace(tzinfo=UTC): row.n for row in (await session.execute(query)).all()}
    start = since.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    now = datetime.now(UTC)
    hours: list[HourCount] = []
    at = start
    while at <= now:
        hours.append(HourCount(hour=at, failures=found.get(at, 0)))
        at += timedelta(hours=1)
    return hours


async def item_detail(session: AsyncSession, item_id: uuid.UUID) -> ItemDetail | None:
    item = await session.get(ExportItem, item_id)
    if item is None:
        return None
    names = (
        await session.execute(
            select(Tenant.name, Tenant.slug, Connection.name)
            .select_from(Tenant)
            .join(Connection, Connection.tenant_id == Tenant.id)
            .where(Tenant.id == item.tenant_id, Connection.id == item.destination_connection_id)
        )
    ).one()
    records = (
        await session.execute(
            select(
                SourceRecord.id,
                SourceRecord.connection_id,
                SourceRecord.kind,
                SourceRecord.remote_id,
                SourceRecord.parent_remote_id,
                SourceRecord.remote_state,
                SourceRecord.data,
                SourceRecord.skip_reason,
                SourceRecord.changed_after_export,
                ExportItemRecord.released_at,
            )
            .join(
                ExportItemRecord,
                and_(
                    ExportItemRecord.tenant_id == SourceRecord.tenant_id,
                    ExportItemRecord.source_record_id == SourceRecord.id,
                ),
            )
            .where(ExportItemRecord.tenant_id == item.tenant_id, ExportItemRecord.export_item_id == item.id)
            .order_by(SourceRecord.remote_id)
        )
    ).all()
    attempts = (
        await session.scalars(
            select(Attempt)
            .where(Attempt.tenant_id == item.tenant_id, Attempt.export_item_id == item.id)
            .order_by(Attempt.number)
        )
    ).all()
    await write_appended_events(session)  # a replay answers with the history it has just added to
    events = (
        await session.scalars(
            select(AuditEvent)
            .where(
                AuditEvent.tenant_id == item.tenant_id,
                AuditEvent.entity_type == "export_items",
                AuditEvent.entity_id == str(item.id),
            )
            .order_by(AuditEvent.seq.desc())
            .limit(ITEM_DETAIL_AUDIT_EVENTS)
        )
    ).all()
    return ItemDetail(
        item=item,
        tenant_name=names[0],
        tenant_slug=names[1],
        connection_name=names[2],
        records=[row._asdict() for row in records],
        attempts=list(attempts),
        audit_events=list(reversed(events)),
    )
