"""One company (realm): its objects, preferences, exchange rates, change log and `requestid` answers."""

import copy
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sandbox.quickbooks.constants import CHANGE_LOG_SIZE, CURRENCY_NAMES, REQUEST_ID_CACHE_SIZE
from sandbox.quickbooks.values import format_meta_time

Obj = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Change:
    entity: str
    id: str
    operation: str
    """`create`, `update` or `delete`."""
    at: datetime


@dataclass(frozen=True, slots=True)
class StoredAnswer:
    status: int
    body: bytes
    media_type: str


@dataclass
class RealmStore:
    realm_id: str
    company_name: str
    country: str
    home_currency: str
    multicurrency: bool
    now: Callable[[], datetime]
    closing_date: date | None = None
    duplicate_doc_number_check: bool = True
    """The company's "warn if duplicate bill/check/journal number is used" preference: on, a reused DocNumber
    within one transaction type is refused with 6140 (unless the call says `include=allowduplicatedocnum`)."""
    rates: dict[str, Decimal] = field(default_factory=dict)
    """Home-currency value of one unit of each active foreign currency."""
    objects: dict[str, dict[str, Obj]] = field(default_factory=dict)
    deleted: dict[str, dict[str, datetime]] = field(default_factory=dict)
    changes: deque[Change] = field(default_factory=lambda: deque(maxlen=CHANGE_LOG_SIZE))
    answers: OrderedDict[str, StoredAnswer] = field(default_factory=OrderedDict)
    listener: Callable[["RealmStore", Change], None] | None = None
    _next_id: int = 1

    # -- reading -------------------------------------------------------------------------------------------------

    def get(self, entity: str, object_id: str) -> Obj | None:
        return self.objects.get(entity, {}).get(str(object_id))

    def all(self, entity: str) -> Iterator[Obj]:
        return iter(self.objects.get(entity, {}).values())

    def snapshot(self, entity: str, object_id: str) -> Obj:
        found = self.get(entity, object_id)
        assert found is not None
        return copy.deepcopy(found)

    def currency_ref(self, code: str) -> Obj:
        return {"value": code, "name": CURRENCY_NAMES.get(code, code)}

    def rate_of(self, code: str) -> Decimal | None:
        return Decimal(1) if code == self.home_currency else self.rates.get(code)

    # -- writing -------------------------------------------------------------------------------------------------

    def new_id(self) -> str:
        identifier = str(self._next_id)
        self._next_id += 1
        return identifier

    def insert(self, entity: str, obj: Obj, *, quiet: bool = False) -> Obj:
        """Store a new object, stamping Id (unless seeded with one), SyncToken and MetaData."""
        now = self.now()
        obj["Id"] = str(obj.get("Id") or self.new_id())
        if int(obj["Id"]) >= self._next_id:
            self._next_id = int(obj["Id"]) + 1
        obj["SyncToken"] = "0"
        obj["MetaData"] = {"CreateTime": format_meta_time(now), "LastUpdatedTime": format_meta_time(now)}
        obj.setdefault("domain", "QBO")
        obj.setdefault("sparse", False)
        obj["_updated"] = now
        self.objects.setdefault(entity, {})[obj["Id"]] = obj
        if not quiet:
            self._changed(entity, obj["Id"], "create", now)
        return obj

    def replace(self, entity: str, obj: Obj) -> Obj:
        """Store a new version of an existing object: SyncToken + 1, LastUpdatedTime now."""
        now = self.now()
        old = self.objects[entity][obj["Id"]]
        obj["SyncToken"] = str(int(old["SyncToken"]) + 1)
        obj["MetaData"] = {"CreateTime": old["MetaData"]["CreateTime"], "LastUpdatedTime": format_meta_time(now)}
        obj["domain"], obj["sparse"] = "QBO", False
        obj["_updated"] = now
        self.objects[entity][obj["Id"]] = obj
        self._changed(entity, obj["Id"], "update", now)
        return obj

    def delete(self, entity: str, object_id: str) -> None:
        now = self.now()
        del self.objects[entity][object_id]
        self.deleted.setdefault(entity, {})[object_id] = now
        self._changed(entity, object_id, "delete", now)

    def _changed(self, entity: str, object_id: str, operation: str, at: datetime) -> None:
        change = Change(entity, object_id, operation, at)
        self.changes.append(change)
        if self.listener is not None:
            self.listener(self, change)

    # -- requestid -----------------------------------------------------------------------------------------------

    def remember(self, request_key: str, answer: StoredAnswer) -> None:
        self.answers[request_key] = answer
        while len(self.answers) > REQUEST_ID_CACHE_SIZE:
            self.answers.popitem(last=False)


def public(obj: Obj) -> Obj:
    """The object as the wire shows it: without the simulator's own `_` keys."""
    return {key: value for key, value in obj.items() if not key.startswith("_")}
