"""Expenses already read, by the fingerprint of their stored JSON, so grouping and previews skip decoding them.

A record's `fingerprint` is the SHA-256 of its `data` (the pull writes both in one statement, and nothing else
writes `data`): equal fingerprints, equal data, equal `Expense`. So an entry can never be stale, whoever changed the
record: a change is a new fingerprint. The pull fills the cache as it translates; a first grouping in the same
worker then reads no record's JSON at all. Bounded, least recently used first out.
"""

from collections import OrderedDict

from core.domain import Expense
from mappings.constants import EXPENSE_CACHE_ENTRIES


class ExpenseCache:
    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._entries: OrderedDict[str, Expense] = OrderedDict()

    def get(self, fingerprint: str) -> Expense | None:
        expense = self._entries.get(fingerprint)
        if expense is not None:
            self._entries.move_to_end(fingerprint)
        return expense

    def put(self, fingerprint: str, expense: Expense) -> None:
        self._entries[fingerprint] = expense
        self._entries.move_to_end(fingerprint)
        if len(self._entries) > self.capacity:
            self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)


EXPENSES = ExpenseCache(EXPENSE_CACHE_ENTRIES)
"""The process's cache: a worker's pull, grouping and previews share it."""
