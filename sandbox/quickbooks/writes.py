"""Create, update (full or sparse, guarded by SyncToken) and delete, for every writable object.

A write either applies whole or raises a `QboFault` before touching the store. Paying a bill (a BillPayment
created, changed or deleted) updates the bills it names: their `Balance` and `LinkedTxn` change and their
SyncToken moves on, as in QuickBooks, so change data capture reports them.
"""

import copy
from decimal import Decimal
from typing import Any

from sandbox.quickbooks.constants import CODE_INVALID_ENUM, CODE_MALFORMED, CODE_NOT_FOUND, CODE_STALE, CODE_UNSUPPORTED
from sandbox.quickbooks.entities import Entity, Kind, entity_named
from sandbox.quickbooks.errors import QboFault
from sandbox.quickbooks.lists import prepare_list_object
from sandbox.quickbooks.store import Obj, RealmStore, public
from sandbox.quickbooks.transactions import (
    check_closed_books,
    payments_of,
    prepare_bill,
    prepare_bill_payment,
    prepare_header,
    prepare_journal,
    prepare_purchase,
)
from sandbox.quickbooks.validation import business, missing, present, resolve
from sandbox.quickbooks.values import money, parse_date

SYSTEM_KEYS = ("Id", "SyncToken", "MetaData", "domain", "sparse", "status")
COMPUTED = {
    "Bill": ("TotalAmt", "Balance", "HomeTotalAmt", "LinkedTxn"),
    "Purchase": ("TotalAmt", "HomeTotalAmt"),
    "JournalEntry": ("TotalAmt", "HomeTotalAmt"),
    "BillPayment": (),
}
NOT_FOUND_DETAIL = "Object Not Found : Another user has deleted this transaction."


def _cleaned(body: Any, entity: Entity) -> Obj:
    if not isinstance(body, dict):
        raise QboFault(CODE_MALFORMED, f"Request body must be a {entity.name} object")
    obj = {
        key: copy.deepcopy(value) for key, value in body.items() if key not in SYSTEM_KEYS and not key.startswith("_")
    }
    for key in COMPUTED.get(entity.name, ()):
        obj.pop(key, None)
    for key in [key for key, value in obj.items() if value == "" or value is None]:
        del obj[key]
    return obj


def _prepare(store: RealmStore, entity: Entity, obj: Obj, own_id: str | None, allow_dup: bool) -> list[str]:
    """Validate and complete `obj`; returns the bills a payment touches."""
    if entity.kind is Kind.LIST:
        prepare_list_object(store, entity.name, obj, own_id)
        return []
    if entity.kind is Kind.ATTACHABLE:
        prepare_attachable(store, obj)
        return []
    prepare_header(store, entity.name, obj, own_id, allow_dup)
    if entity.name == "Bill":
        prepare_bill(store, obj)
    elif entity.name == "Purchase":
        prepare_purchase(store, obj)
    elif entity.name == "JournalEntry":
        prepare_journal(store, obj)
    elif entity.name == "BillPayment":
        return prepare_bill_payment(store, obj, own_id)
    return []


def prepare_attachable(store: RealmStore, obj: Obj) -> None:
    refs = obj.get("AttachableRef") or []
    if not isinstance(refs, list):
        raise missing("AttachableRef")
    for ref in refs:
        entity_ref = ref.get("EntityRef") if isinstance(ref, dict) else None
        if not isinstance(entity_ref, dict) or not present(entity_ref.get("type")):
            raise missing("AttachableRef.EntityRef")
        target = entity_named(str(entity_ref["type"]))
        if target is None or target.kind is not Kind.TRANSACTION:
            raise QboFault(
                CODE_INVALID_ENUM, f"The entity reference type {entity_ref['type']} is unsupported for Attachable"
            )
        resolve(store, entity_ref, target.name, "AttachableRef.EntityRef", required=True)
        entity_ref.pop("name", None)
        entity_ref["type"] = target.name
    if not present(obj.get("FileName")) and not present(obj.get("Note")):
        raise missing("Note")


def _unsupported(entity: Entity, operation: str) -> QboFault:
    return QboFault(CODE_UNSUPPORTED, f"Operation {operation} is not supported for {entity.name}.")


def create(store: RealmStore, entity: Entity, body: Any, *, allow_duplicate_doc: bool = False) -> Obj:
    if not entity.writable:
        raise _unsupported(entity, "Create")
    obj = _cleaned(body, entity)
    bills = _prepare(store, entity, obj, None, allow_duplicate_doc)
    stored = store.insert(entity.name, obj)
    _sync_bills(store, bills)
    return public(stored)


def _current(store: RealmStore, entity: Entity, body: Any) -> Obj:
    if not isinstance(body, dict) or not present(body.get("Id")):
        raise missing("Id")
    existing = store.get(entity.name, str(body["Id"]))
    if existing is None:
        raise QboFault(CODE_NOT_FOUND, NOT_FOUND_DETAIL, element="Id")
    if not present(body.get("SyncToken")) and body.get("SyncToken") != 0:
        raise missing("SyncToken")
    if str(body["SyncToken"]) != existing["SyncToken"]:
        raise QboFault(
            CODE_STALE,
            "Stale Object Error : You and another user were working on this at the same time. They finished before "
            f"you did, so your work was not saved. (SyncToken {body['SyncToken']} is not {existing['SyncToken']})",
            element="SyncToken",
        )
    return existing


def _check_old_date(store: RealmStore, entity: Entity, existing: Obj) -> None:
    if entity.kind is Kind.TRANSACTION:
        old_date = parse_date(existing.get("TxnDate"))
        if old_date is not None:
            check_closed_books(store, old_date)


def update(store: RealmStore, entity: Entity, body: Any, *, allow_duplicate_doc: bool = False) -> Obj:
    if not entity.writable:
        raise _unsupported(entity, "Update")
    existing = _current(store, entity, body)
    _check_old_date(store, entity, existing)
    changes = _cleaned(body, entity)
    if body.get("sparse") is True:
        obj = {key: copy.deepcopy(value) for key, value in public(existing).items() if key not in SYSTEM_KEYS}
        for key in COMPUTED.get(entity.name, ()):
            obj.pop(key, None)
        obj.update(changes)
    else:
        obj = changes
    if entity.name == "Bill" and payments_of(store, existing["Id"]):
        obj["LinkedTxn"] = existing.get("LinkedTxn", [])
    obj["Id"] = existing["Id"]
    touched = [str(line["LinkedTxn"][0]["TxnId"]) for line in existing.get("Line", []) if line.get("LinkedTxn")]
    bills = _prepare(store, entity, obj, existing["Id"], allow_duplicate_doc)
    if entity.name == "Bill":
        balance = Decimal(str(obj["TotalAmt"])) - sum(
            (paid for _, paid in payments_of(store, existing["Id"])), Decimal(0)
        )
        if balance < 0:
            raise business("The bill total can't be less than what was paid on it.", "Line")
        obj["Balance"] = money(balance)
    stored = store.replace(entity.name, obj)
    if entity.name == "BillPayment":
        _sync_bills(store, [*bills, *touched])
    return public(stored)


def delete(store: RealmStore, entity: Entity, body: Any) -> Obj:
    if not entity.deletable:
        raise _unsupported(entity, "Delete")
    existing = _current(store, entity, body)
    _check_old_date(store, entity, existing)
    if entity.name == "Bill" and payments_of(store, existing["Id"]):
        raise business("This bill has payments; delete the payments first.")
    touched = [str(line["LinkedTxn"][0]["TxnId"]) for line in existing.get("Line", []) if line.get("LinkedTxn")]
    store.delete(entity.name, existing["Id"])
    if entity.name == "BillPayment":
        _sync_bills(store, touched)
    return {"domain": "QBO", "status": "Deleted", "Id": existing["Id"]}


def _sync_bills(store: RealmStore, bill_ids: list[str] | set[str]) -> None:
    """Bring each bill's Balance and LinkedTxn in line with the payments that name it."""
    for bill_id in dict.fromkeys(bill_ids):
        bill = store.get("Bill", bill_id)
        if bill is None:
            continue
        payments = payments_of(store, bill_id)
        balance = money(Decimal(str(bill["TotalAmt"])) - sum((amount for _, amount in payments), Decimal(0)))
        linked = [{"TxnId": payment_id, "TxnType": "BillPayment"} for payment_id, _ in payments]
        if balance == bill.get("Balance") and linked == bill.get("LinkedTxn", []):
            continue
        new = {key: copy.deepcopy(value) for key, value in bill.items() if key not in SYSTEM_KEYS}
        new["Id"], new["Balance"] = bill_id, balance
        if linked:
            new["LinkedTxn"] = linked
        else:
            new.pop("LinkedTxn", None)
        store.replace("Bill", new)
