"""readByQuery result sets that readMore continues: a snapshot of the matching rows taken by the first call, so
pages neither repeat nor skip rows when data changes between calls (as `resultId` promises)."""

import secrets
from collections import OrderedDict
from dataclasses import dataclass

from sandbox.intacct.constants import MAX_OPEN_RESULT_SETS
from sandbox.intacct.seed import Record


@dataclass
class ResultSet:
    result_id: str
    owner: str
    """Company, user and entity that ran the query; only they may continue it."""
    object_name: str
    fields: tuple[str, ...]
    rows: list[Record]
    pagesize: int
    position: int = 0

    @property
    def remaining(self) -> int:
        return len(self.rows) - self.position

    def next_page(self) -> list[Record]:
        page = self.rows[self.position : self.position + self.pagesize]
        self.position += len(page)
        return page


class ResultSets:
    def __init__(self) -> None:
        self._sets: OrderedDict[str, ResultSet] = OrderedDict()

    def open(
        self, *, owner: str, object_name: str, fields: tuple[str, ...], rows: list[Record], pagesize: int
    ) -> ResultSet:
        result = ResultSet(secrets.token_hex(16), owner, object_name, fields, rows, pagesize)
        self._sets[result.result_id] = result
        while len(self._sets) > MAX_OPEN_RESULT_SETS:
            self._sets.popitem(last=False)
        return result

    def find(self, owner: str, *, result_id: str = "", object_name: str = "") -> ResultSet | None:
        """By id, or the owner's latest open set on the object (readMore accepts either)."""
        if result_id:
            found = self._sets.get(result_id)
            return found if found is not None and found.owner == owner else None
        for candidate in reversed(self._sets.values()):
            if candidate.owner == owner and candidate.object_name == object_name.upper():
                return candidate
        return None

    def close(self, result: ResultSet) -> None:
        self._sets.pop(result.result_id, None)

    def clear(self) -> None:
        self._sets.clear()
