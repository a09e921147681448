"""PUT (create) and POST (create or update) on Invoices, BankTransactions, ManualJournals, Payments and Contacts.

A body is `{"Invoices": [...]}` (several documents) or one bare document. With `summarizeErrors=true` (the default)
one invalid document fails the whole request with a 400 and nothing is saved; with `summarizeErrors=false` the
valid ones are saved and the answer is a 200 in which each document carries `StatusAttributeString` (`OK` or
`ERROR`) and, when it failed, its `ValidationErrors`."""

from collections.abc import Callable
from datetime import date
from typing import Any

from starlette.responses import JSONResponse, Response

from sandbox.xero.api import Call
from sandbox.xero.collections import collection_named
from sandbox.xero.constants import MAX_DOCUMENTS_PER_REQUEST
from sandbox.xero.documents import (
    _lock_messages,
    build_bank_transaction,
    build_invoice,
    build_manual_journal,
)
from sandbox.xero.errors import XeroError, bad_request, not_found, validation_body
from sandbox.xero.payments import apply_payment, build_payment
from sandbox.xero.render import render
from sandbox.xero.store import OrgStore

Builder = Callable[[OrgStore, dict[str, Any]], tuple[dict[str, Any], list[str]]]
KEEP_ON_UPDATE = ("AmountPaid", "AmountCredited", "Payments", "FullyPaidOnDate")


def _contact(store: OrgStore, raw: dict[str, Any], *, today: date) -> tuple[dict[str, Any], list[str]]:
    errors: list[str] = []
    name = str(raw.get("Name") or "").strip()
    if not name:
        errors.append("The contact name must be specified.")
    elif any(
        str(c["Name"]).lower() == name.lower() and c["ContactID"] != raw.get("ContactID") for c in store.all("Contacts")
    ):
        errors.append(
            f"The contact name {name} is already assigned to another contact. The contact name must be unique "
            "across all active contacts."
        )
    contact = {
        "ContactStatus": "ACTIVE",
        "IsSupplier": True,
        "IsCustomer": False,
        "HasAttachments": False,
        "Addresses": [],
        "Phones": [],
        "ContactGroups": [],
        "ContactPersons": [],
        "HasValidationErrors": False,
        **{k: v for k, v in raw.items() if k not in ("UpdatedDateUTC", "ValidationErrors")},
    }
    return contact, errors


BUILDERS: dict[str, Callable[..., tuple[dict[str, Any], list[str]]]] = {
    "Invoices": build_invoice,
    "BankTransactions": build_bank_transaction,
    "ManualJournals": build_manual_journal,
    "Payments": build_payment,
    "Contacts": _contact,
}


def _documents(call: Call, name: str) -> list[dict[str, Any]]:
    body = call.json()
    if isinstance(body, dict) and isinstance(body.get(name), list):
        items = body[name]
    elif isinstance(body, dict) and name not in body and body:
        items = [body]
    else:
        raise bad_request(f"The request must name one or more {name}.")
    if not items:
        raise bad_request(f"The request must name one or more {name}.")
    if len(items) > MAX_DOCUMENTS_PER_REQUEST:
        raise bad_request(f"At most {MAX_DOCUMENTS_PER_REQUEST} {name} may be sent in one request (Xero advises 50).")
    if not all(isinstance(item, dict) for item in items):
        raise bad_request(f"Each of the {name} must be an object.")
    return list(items)


def _update(
    store: OrgStore, name: str, existing: dict[str, Any], raw: dict[str, Any], today: date
) -> tuple[dict[str, Any], list[str]]:
    """POST on an existing document: Xero's status rules, then the merged document rebuilt and checked again."""
    status = existing.get("Status")
    if name == "Invoices" and status == "PAID":
        return existing, ["This document cannot be edited as it has a payment or credit note allocated to it."]
    if status in ("VOIDED", "DELETED"):
        return existing, ["Document not of valid status for modification"]
    wanted = raw.get("Status")
    if wanted in ("DELETED", "VOIDED") and set(raw) <= {"Status", existing_id(name)}:
        if name == "Invoices" and wanted == "DELETED" and status not in ("DRAFT", "SUBMITTED"):
            return existing, ["Only draft or submitted invoices may be deleted; void an authorised one."]
        lock = existing.get("Date")
        errors = _lock_messages(store, lock) if isinstance(lock, date) else []
        return existing | {"Status": wanted}, errors
    merged = existing.get("_raw", {}) | raw
    if wanted is None and status is not None and name != "Payments":
        merged["Status"] = status
    document, errors = BUILDERS[name](store, merged, today=today)
    if name == "Invoices":
        for field in KEEP_ON_UPDATE:
            if field in existing:
                document[field] = existing[field]
        document["AmountDue"] = document["Total"] - document["AmountPaid"]
    document["_raw"] = merged
    return document, errors


def existing_id(name: str) -> str:
    collection = collection_named(name)
    assert collection is not None
    return collection.id_field


async def write(call: Call) -> Response:
    collection = collection_named(call.request.path_params["collection"])
    if collection is None or collection.name not in BUILDERS:
        raise not_found()
    name, id_field = collection.name, collection.id_field
    if call.request.method == "POST" and name == "Payments" and call.request.path_params.get("object_id"):
        return await _payment_status(call)
    raws = _documents(call, name)
    path_id = call.request.path_params.get("object_id")
    if path_id:
        raws = [raw | {id_field: path_id} for raw in raws[:1]]
    summarize = call.request.query_params.get("summarizeErrors", "true").lower() != "false"
    results: list[tuple[dict[str, Any], list[str], bool]] = []
    for raw in raws:
        existing = call.store.get(name, str(raw[id_field])) if raw.get(id_field) else None
        if raw.get(id_field) and existing is None:
            raise not_found()
        if existing is not None and call.request.method == "PUT":
            results.append(
                (raw, [f"A {collection.type_name} with this {id_field} already exists; use POST to update it."], False)
            )
            continue
        if existing is not None:
            document, errors = _update(call.store, name, existing, raw, call.today)
        else:
            document, errors = BUILDERS[name](call.store, raw, today=call.today)
            document["_raw"] = raw
        results.append((document, errors, existing is None))
    failed = any(errors for _, errors, _ in results)
    if failed and summarize:
        elements = [
            render(doc) | {"ValidationErrors": [{"Message": m} for m in errors]} for doc, errors, _ in results if errors
        ]
        raise XeroError(JSONResponse(validation_body(elements), 400))
    answered = []
    for document, errors, created in results:
        if errors:
            answered.append(
                document
                | {
                    "StatusAttributeString": "ERROR",
                    "HasErrors": True,
                    "ValidationErrors": [{"Message": m} for m in errors],
                }
            )
            continue
        saved = call.store.put(name, document, created=created)
        if name == "Payments" and created:
            apply_payment(call.store, saved)
        extra = {"StatusAttributeString": "OK"} | ({"HasErrors": False} if name == "Invoices" else {})
        answered.append(saved | extra if not summarize else saved)
    return call.answer({name: answered})


async def _payment_status(call: Call) -> Response:
    """POST /Payments/{id} `{"Status": "DELETED"}`: Xero's only change to a payment; the bill owes again. (POST
    /Payments without an id creates, as PUT does; the SDK's `create_payment` uses it.)"""
    payment_id = call.request.path_params.get("object_id")
    payment = call.store.get("Payments", payment_id or "")
    if payment is None:
        raise not_found()
    body = call.json()
    raw = (body.get("Payments") or [body])[0] if isinstance(body, dict) else {}
    if raw.get("Status") != "DELETED":
        raise bad_request("A payment may only be deleted (Status DELETED).")
    if payment["Status"] != "DELETED":
        payment["Status"] = "DELETED"
        invoice = call.store.get("Invoices", payment["Invoice"]["InvoiceID"])
        if invoice is not None:
            invoice["AmountPaid"] -= payment["Amount"]
            invoice["AmountDue"] += payment["Amount"]
            invoice["Status"] = "AUTHORISED"
            invoice.pop("FullyPaidOnDate", None)
            invoice["Payments"] = [p for p in invoice["Payments"] if p["PaymentID"] != payment["PaymentID"]]
            call.store.touch("Invoices", invoice)
        call.store.touch("Payments", payment)
    return call.answer({"Payments": [payment]})
