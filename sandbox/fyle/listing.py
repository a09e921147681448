"""Answer a parsed list query from a collection, cheaply for the sync pattern Ledgerline uses.

`updated_at` ranges ordered by `updated_at[,id]` (ascending or descending) are bisected on the collection's index:
a page costs O(log n + page), with `count` for free. `id=eq.`/`id=in.` look records up directly. Anything else
scans once and caches the matching records until the next change, so the following pages are O(page) too.
"""

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sandbox.fyle.collection import Collection, IndexKey, R
from sandbox.fyle.filters import Condition, Fields, ListQuery, OrderTerm

INDEX_FIELD = "updated_at"
ID_FIELD = "id"
_ID_TOP = "\U0010ffff"
"""Sorts after every string id, so (t, _ID_TOP) bounds all keys at time t."""
_ASCENDING = ((), (OrderTerm(INDEX_FIELD),), (OrderTerm(INDEX_FIELD), OrderTerm(ID_FIELD)))
_DESCENDING = ((OrderTerm(INDEX_FIELD, True),), (OrderTerm(INDEX_FIELD, True), OrderTerm(ID_FIELD, True)))


def _after_all_ids(moment: datetime, sample_id: Any) -> IndexKey:
    return (moment, _ID_TOP if isinstance(sample_id, str) else float("inf"))


def _before_all_ids(moment: datetime, sample_id: Any) -> IndexKey:
    return (moment, "" if isinstance(sample_id, str) else float("-inf"))


def _index_range(
    collection: Collection[R], conditions: tuple[Condition, ...]
) -> tuple[int, int, tuple[Condition, ...]]:
    """Bisect the `updated_at` conditions; return the index range and the conditions left to check."""
    if len(collection) == 0:
        return 0, 0, conditions
    sample = collection.at(0).id
    lower: IndexKey | None = None
    upper: IndexKey | None = None
    residual = []
    for condition in conditions:
        if condition.field != INDEX_FIELD or condition.negate or condition.op not in ("gte", "gt", "lte", "lt", "eq"):
            residual.append(condition)
            continue
        moment = condition.value
        if condition.op in ("gte", "gt", "eq"):
            bound = _before_all_ids(moment, sample) if condition.op != "gt" else _after_all_ids(moment, sample)
            lower = bound if lower is None else max(lower, bound)
        if condition.op in ("lte", "lt", "eq"):
            bound = _after_all_ids(moment, sample) if condition.op != "lt" else _before_all_ids(moment, sample)
            upper = bound if upper is None else min(upper, bound)
    start, stop = collection.bounds(lower, upper)
    return start, stop, tuple(residual)


def _matching(records: Iterable[R], conditions: tuple[Condition, ...], fields: Fields[R]) -> list[R]:
    checks = [(fields[condition.field].get, condition) for condition in conditions]
    return [record for record in records if all(condition.matches(get(record)) for get, condition in checks)]


def _sorted(records: list[R], order: tuple[OrderTerm, ...], fields: Fields[R]) -> list[R]:
    """Stable sorts from the last term to the first; nulls sort last ascending and first descending, as in SQL."""
    result = list(records)
    for term in reversed(order):
        get = fields[term.field].get
        result.sort(key=lambda record: (get(record) is None, get(record)), reverse=term.descending)
    return result


def _direct_ids(conditions: tuple[Condition, ...]) -> frozenset[Any] | None:
    for condition in conditions:
        if condition.field == ID_FIELD and not condition.negate and condition.op in ("eq", "in"):
            return condition.value if condition.op == "in" else frozenset({condition.value})
    return None


def run_query(collection: Collection[R], query: ListQuery, fields: Fields[R]) -> tuple[int, list[R]]:
    """The total number of matches and the requested page of them."""
    window = slice(query.offset, query.offset + query.limit)
    ids = _direct_ids(query.conditions)
    if ids is not None:
        found = (record for record in map(collection.get, ids) if record is not None)
        order = query.order or _ASCENDING[2]
        matched = _sorted(_matching(found, query.conditions, fields), order, fields)
        return len(matched), matched[window]
    key = (query.order, query.conditions)
    if query.order in _ASCENDING or query.order in _DESCENDING:
        descending = query.order in _DESCENDING
        start, stop, residual = _index_range(collection, query.conditions)
        if not residual:
            total = stop - start
            first, last = window.start, min(window.stop, total)
            if first >= last:
                return total, []
            if descending:
                return total, [collection.at(stop - 1 - i) for i in range(first, last)]
            return total, [collection.at(start + i) for i in range(first, last)]
        cached = collection.cached(key)
        if cached is None:
            cached = _matching(collection.in_index_order(start, stop), residual, fields)
            if descending:
                cached.reverse()
            collection.remember(key, cached)
        return len(cached), cached[window]
    cached = collection.cached(key)
    if cached is None:
        cached = _sorted(_matching(collection, query.conditions, fields), query.order, fields)
        collection.remember(key, cached)
    return len(cached), cached[window]
