"""Records of one kind, keyed by id and kept in (updated_at, id) order so an incremental sync pages in O(page)."""

import bisect
from collections import OrderedDict
from collections.abc import Hashable, Iterable, Iterator
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar

from sandbox.fyle.constants import QUERY_CACHE_SIZE

IndexKey = tuple[datetime, Any]


class Record(Protocol):
    @property
    def id(self) -> Any: ...

    @property
    def updated_at(self) -> datetime: ...

    @updated_at.setter
    def updated_at(self, value: datetime) -> None: ...


R = TypeVar("R", bound=Record)


class Revision:
    """A change counter shared by all collections of a store: filters reach across records (an expense's
    `report->state`), so a change anywhere must invalidate every cached result set."""

    def __init__(self) -> None:
        self.value = 0

    def bump(self) -> None:
        self.value += 1


class Collection(Generic[R]):
    """The records by id, plus a list of (updated_at, id) keys kept sorted for bisection.

    Every change goes through `add`, `touch` or `changed`, which bump the shared revision; list queries cache their
    filtered result sets under it, so a client paging a filtered list pays for one scan only.
    """

    def __init__(self, revision: Revision) -> None:
        self._by_id: dict[Any, R] = {}
        self._keys: list[IndexKey] = []
        self._revision = revision
        self._cache: OrderedDict[Hashable, list[R]] = OrderedDict()
        self._cache_revision = -1

    def __len__(self) -> int:
        return len(self._by_id)

    def __iter__(self) -> Iterator[R]:
        return iter(self._by_id.values())

    def get(self, record_id: Any) -> R | None:
        return self._by_id.get(record_id)

    def add(self, record: R) -> None:
        if record.id in self._by_id:
            raise KeyError(f"duplicate id {record.id!r}")
        self._by_id[record.id] = record
        bisect.insort(self._keys, (record.updated_at, record.id))
        self.changed()

    def add_many(self, records: Iterable[R]) -> None:
        """Add in bulk and sort the index once (generating 100,000 expenses must take seconds, not minutes)."""
        for record in records:
            if record.id in self._by_id:
                raise KeyError(f"duplicate id {record.id!r}")
            self._by_id[record.id] = record
            self._keys.append((record.updated_at, record.id))
        self._keys.sort()
        self.changed()

    def touch(self, record: R, at: datetime) -> None:
        """Set `updated_at` and move the record to its new place in the index."""
        old = (record.updated_at, record.id)
        position = bisect.bisect_left(self._keys, old)
        if position < len(self._keys) and self._keys[position] == old:
            del self._keys[position]
        record.updated_at = at
        bisect.insort(self._keys, (at, record.id))
        self.changed()

    def changed(self) -> None:
        self._revision.bump()

    def bounds(self, lower: IndexKey | None, upper: IndexKey | None) -> tuple[int, int]:
        """Index positions [start, stop) of keys with lower <= key < upper."""
        start = 0 if lower is None else bisect.bisect_left(self._keys, lower)
        stop = len(self._keys) if upper is None else bisect.bisect_left(self._keys, upper)
        return start, max(start, stop)

    def at(self, position: int) -> R:
        return self._by_id[self._keys[position][1]]

    def in_index_order(self, start: int, stop: int) -> Iterator[R]:
        by_id = self._by_id
        for _, record_id in self._keys[start:stop]:
            yield by_id[record_id]

    def cached(self, key: Hashable) -> list[R] | None:
        if self._cache_revision != self._revision.value:
            self._cache.clear()
            self._cache_revision = self._revision.value
        found = self._cache.get(key)
        if found is not None:
            self._cache.move_to_end(key)
        return found

    def remember(self, key: Hashable, records: list[R]) -> None:
        self._cache[key] = records
        while len(self._cache) > QUERY_CACHE_SIZE:
            self._cache.popitem(last=False)
