"""`/_sandbox/xero/…`: what tests, chaos and the demo use to steer the simulator and see what a client did.

- `GET  /credentials`                           client id/secret, the seeded refresh token, wire paths, organisations
- `POST /grants`                                `{"tenant_ids"?, "scopes"?}`: a new consent without a browser; answers
                                                the token endpoint's body (access and refresh token)
- `POST /tokens/expire`                         every access token expires now (the next call gets 401)
- `GET  /organisations`                         id, name, currency, lock dates, limits and usage of each
- `PUT  /organisations/{tenant}/lock_dates`     `{"period_lock_date"?, "end_of_year_lock_date"?}` (null clears)
- `PUT  /organisations/{tenant}/limits`         `{"enabled", "per_minute", "per_day", "concurrent"}`
- `PUT  /limits/app`                            `{"per_minute"}`: the app's calls a minute across organisations
- `GET  /organisations/{tenant}/documents`      `?collection=Invoices&reference=…&invoice_number=…`: stored documents
                                                with their lines, as Xero would answer them
- `GET  /organisations/{tenant}/attachments`    every file: document, name, type, size, sha256
- `GET  /organisations/{tenant}/counts`         creates per collection, runs/replays per Idempotency-Key, documents
                                                per InvoiceNumber and per Reference (duplicates show as > 1)
- `POST /organisations/{tenant}/invoices/{id}/paid`  `{"amount"?, "paid_on"?, "account_code"?}`: a payment a person
                                                made in Xero
- `POST /organisations/{tenant}/dimensions/{collection}`       `{"name", "code"?}`: a new account/contact/item
- `PATCH /organisations/{tenant}/dimensions/{collection}/{id}`  `{"name"?, "status"?}`: rename or archive
- `POST /organisations/{tenant}/tracking`                      `{"name"}`: a category (two active at most)
- `PATCH /organisations/{tenant}/tracking/{category_id}`       `{"name"?, "status"?}`
- `POST /organisations/{tenant}/tracking/{category_id}/options`  `{"name"}`
- `PATCH /organisations/{tenant}/tracking/{category_id}/options/{option_id}`  `{"name"?, "status"?}`
- `…/webhooks…` (`sandbox.xero.webhook_control`) and `…/demo…` (`sandbox.xero.demo`)
"""

import hashlib
from collections import Counter
from datetime import date
from decimal import Decimal
from typing import Any, Literal

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, ConfigDict, Field

from sandbox.xero.constants import (
    API_PREFIX,
    AUTHORIZE_PATH,
    CLIENT_ID,
    CLIENT_SECRET,
    CONNECTIONS_PATH,
    NAME,
    REVOKE_PATH,
    SEEDED_REFRESH_TOKEN,
    TOKEN_PATH,
)
from sandbox.xero.demo import build_demo_router
from sandbox.xero.errors import XeroError
from sandbox.xero.lines import account_by_code
from sandbox.xero.org_limits import OrgLimits
from sandbox.xero.payments import apply_payment, build_payment
from sandbox.xero.render import render
from sandbox.xero.settings_writes import add_category, add_option, set_category_status
from sandbox.xero.state import SEEDED_SCOPES, XeroState
from sandbox.xero.store import ID_FIELDS, OrgStore
from sandbox.xero.webhook_control import build_webhook_router

Status = Literal["ACTIVE", "ARCHIVED"]


class GrantRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tenant_ids: list[str] | None = None
    scopes: list[str] | None = None


class LockDates(BaseModel):
    model_config = ConfigDict(extra="forbid")

    period_lock_date: date | None = None
    end_of_year_lock_date: date | None = None


class AppLimits(BaseModel):
    model_config = ConfigDict(extra="forbid")

    per_minute: int = Field(ge=1)


class MarkPaid(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount: Decimal | None = Field(default=None, gt=0, description="Defaults to the amount due.")
    paid_on: date | None = None
    account_code: str = "090"
    reference: str = "Paid in Xero"


class NewDimension(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    code: str | None = None


class DimensionChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    status: Status | None = None


def _store(state: XeroState, tenant_id: str) -> OrgStore:
    store = state.orgs.get(tenant_id.lower())
    if store is None:
        raise HTTPException(404, f"no organisation {tenant_id}")
    return store


def _refused(error: XeroError) -> HTTPException:
    return HTTPException(error.response.status_code, bytes(error.response.body).decode())


def _summary(state: XeroState, store: OrgStore) -> dict[str, Any]:
    org = store.organisation
    return {
        "tenant_id": store.tenant_id,
        "name": org["Name"],
        "short_code": org["ShortCode"],
        "base_currency": store.base_currency,
        "period_lock_date": org.get("PeriodLockDate"),
        "end_of_year_lock_date": org.get("EndOfYearLockDate"),
        "limits": state.limits.of(store.tenant_id).model_dump(),
        "usage": state.limits.usage(store.tenant_id),
    }


def counts(state: XeroState, store: OrgStore) -> dict[str, Any]:
    def tally(collection: str, field: str) -> dict[str, int]:
        return dict(Counter(str(doc.get(field)) for doc in store.all(collection) if doc.get(field)))

    return {
        "creates": dict(store.creates),
        "idempotency_keys": state.idempotency.counts(store.tenant_id),
        "invoice_numbers": tally("Invoices", "InvoiceNumber"),
        "invoice_references": tally("Invoices", "Reference"),
        "bank_transaction_references": tally("BankTransactions", "Reference"),
        "manual_journal_narrations": tally("ManualJournals", "Narration"),
        "payment_references": tally("Payments", "Reference"),
    }


NEW_DIMENSIONS = {
    "Accounts": lambda name, code: {
        "Code": code,
        "Name": name,
        "Type": "EXPENSE",
        "Class": "EXPENSE",
        "Status": "ACTIVE",
        "TaxType": "NONE",
        "EnablePaymentsToAccount": False,
        "ShowInExpenseClaims": True,
        "HasAttachments": False,
    },
    "Contacts": lambda name, code: {
        "Name": name,
        "ContactStatus": "ACTIVE",
        "IsSupplier": True,
        "IsCustomer": False,
        "HasAttachments": False,
        "Addresses": [],
        "Phones": [],
        "ContactGroups": [],
        "ContactPersons": [],
        "HasValidationErrors": False,
    },
    "Items": lambda name, code: {
        "Code": code or name.upper()[:30],
        "Name": name,
        "Description": name,
        "IsSold": False,
        "IsPurchased": True,
        "IsTrackedAsInventory": False,
    },
}
STATUS_FIELDS = {"Accounts": "Status", "Contacts": "ContactStatus", "Items": "Status"}


def build_router(state: XeroState) -> APIRouter:
    router = APIRouter()
    router.include_router(build_demo_router(state), prefix="/demo")
    router.include_router(build_webhook_router(lambda: state.dispatcher))

    @router.get("/credentials")
    async def credentials() -> dict[str, Any]:
        return {
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "refresh_token": SEEDED_REFRESH_TOKEN,
            "scopes": list(SEEDED_SCOPES),
            "paths": {
                "authorize": f"/{NAME}{AUTHORIZE_PATH}",
                "token": f"/{NAME}{TOKEN_PATH}",
                "revoke": f"/{NAME}{REVOKE_PATH}",
                "connections": f"/{NAME}{CONNECTIONS_PATH}",
                "api": f"/{NAME}{API_PREFIX}",
            },
            "organisations": [_summary(state, store) for store in state.orgs.values()],
        }

    @router.post("/grants")
    async def new_grant(request: GrantRequest) -> dict[str, Any]:
        tenants = tuple(t.lower() for t in (request.tenant_ids or list(state.orgs)))
        for tenant in tenants:
            _store(state, tenant)
        scopes = tuple(request.scopes or SEEDED_SCOPES)
        identity = state.identity
        grant = identity._new_grant(
            CLIENT_ID, tenants, scopes, "control-" + hashlib.sha256(str(tenants).encode()).hexdigest()[:8]
        )
        refresh = identity._issue_refresh(grant) if "offline_access" in scopes else None
        return identity._answer(grant, refresh) | {"tenant_ids": list(tenants)}

    @router.post("/tokens/expire")
    async def expire_tokens() -> dict[str, int]:
        return {"expired": state.identity.expire_access_tokens()}

    @router.get("/organisations")
    async def organisations() -> list[dict[str, Any]]:
        return [_summary(state, store) for store in state.orgs.values()]

    @router.put("/organisations/{tenant_id}/lock_dates")
    async def lock_dates(tenant_id: str, request: LockDates) -> dict[str, Any]:
        store = _store(state, tenant_id)
        store.organisation["PeriodLockDate"] = request.period_lock_date
        store.organisation["EndOfYearLockDate"] = request.end_of_year_lock_date
        return _summary(state, store)

    @router.put("/organisations/{tenant_id}/limits")
    async def set_limits(tenant_id: str, request: OrgLimits) -> dict[str, Any]:
        store = _store(state, tenant_id)
        state.limits.limits[store.tenant_id] = request
        return _summary(state, store)

    @router.put("/limits/app")
    async def set_app_limit(request: AppLimits) -> AppLimits:
        state.limits.app_per_minute = request.per_minute
        return request

    @router.get("/organisations/{tenant_id}/documents")
    async def documents(
        tenant_id: str, collection: str = "Invoices", reference: str | None = None, invoice_number: str | None = None
    ) -> dict[str, Any]:
        store = _store(state, tenant_id)
        if collection not in ID_FIELDS:
            raise HTTPException(404, f"no collection {collection}")
        items = store.all(collection)
        if reference is not None:
            items = [doc for doc in items if doc.get("Reference") == reference]
        if invoice_number is not None:
            items = [doc for doc in items if doc.get("InvoiceNumber") == invoice_number]
        return {"items": render(items), "count": len(items)}

    @router.get("/organisations/{tenant_id}/attachments")
    async def attachment_list(tenant_id: str) -> dict[str, Any]:
        store = _store(state, tenant_id)
        items = [
            {
                "document_id": document_id,
                "attachment_id": item.id,
                "file_name": item.file_name,
                "mime_type": item.mime_type,
                "size": len(item.content),
                "sha256": hashlib.sha256(item.content).hexdigest(),
            }
            for document_id, files in store.attachments.items()
            for item in files
        ]
        return {"items": items, "count": len(items)}

    @router.get("/organisations/{tenant_id}/counts")
    async def count_endpoint(tenant_id: str) -> dict[str, Any]:
        return counts(state, _store(state, tenant_id))

    @router.post("/organisations/{tenant_id}/invoices/{invoice_id}/paid")
    async def mark_paid(tenant_id: str, invoice_id: str, request: MarkPaid) -> dict[str, Any]:
        store = _store(state, tenant_id)
        invoice = store.get("Invoices", invoice_id)
        if invoice is None:
            raise HTTPException(404, f"no invoice {invoice_id}")
        account = account_by_code(store, request.account_code)
        raw = {
            "Invoice": {"InvoiceID": invoice["InvoiceID"]},
            "Account": {"AccountID": (account or {}).get("AccountID", "")},
            "Amount": str(request.amount or invoice["AmountDue"]),
            "Date": (request.paid_on or state.clock.now().date()).isoformat(),
            "Reference": request.reference,
        }
        payment, errors = build_payment(store, raw, today=state.clock.now().date())
        if errors:
            raise HTTPException(409, "; ".join(errors))
        saved = store.put("Payments", payment, created=False)
        apply_payment(store, saved)
        return {"payment": render(saved), "invoice": render(store.get("Invoices", invoice_id))}

    @router.post("/organisations/{tenant_id}/dimensions/{collection}", status_code=201)
    async def add_dimension(tenant_id: str, collection: str, request: NewDimension) -> dict[str, Any]:
        store = _store(state, tenant_id)
        if collection not in NEW_DIMENSIONS:
            raise HTTPException(404, f"choose one of {sorted(NEW_DIMENSIONS)}")
        created = store.put(collection, NEW_DIMENSIONS[collection](request.name, request.code), created=False)
        return dict(render(created))

    @router.patch("/organisations/{tenant_id}/dimensions/{collection}/{object_id}")
    async def change_dimension(
        tenant_id: str, collection: str, object_id: str, request: DimensionChange
    ) -> dict[str, Any]:
        store = _store(state, tenant_id)
        obj = store.get(collection, object_id) if collection in STATUS_FIELDS else None
        if obj is None:
            raise HTTPException(404, f"no {collection} {object_id}")
        if request.name is not None:
            obj["Name"] = request.name
        if request.status is not None:
            obj[STATUS_FIELDS[collection]] = request.status
        store.touch(collection, obj)
        return dict(render(obj))

    @router.post("/organisations/{tenant_id}/tracking", status_code=201)
    async def add_tracking(tenant_id: str, request: NewDimension) -> dict[str, Any]:
        try:
            return dict(render(add_category(_store(state, tenant_id), request.name)))
        except XeroError as error:
            raise _refused(error) from error

    @router.patch("/organisations/{tenant_id}/tracking/{category_id}")
    async def change_tracking(tenant_id: str, category_id: str, request: DimensionChange) -> dict[str, Any]:
        store = _store(state, tenant_id)
        category = store.get("TrackingCategories", category_id)
        if category is None:
            raise HTTPException(404, f"no tracking category {category_id}")
        if request.name is not None:
            category["Name"] = request.name
        try:
            if request.status is not None:
                set_category_status(store, category, request.status)
        except XeroError as error:
            raise _refused(error) from error
        store.touch("TrackingCategories", category)
        return dict(render(category))

    @router.post("/organisations/{tenant_id}/tracking/{category_id}/options", status_code=201)
    async def add_tracking_option(tenant_id: str, category_id: str, request: NewDimension) -> dict[str, Any]:
        store = _store(state, tenant_id)
        category = store.get("TrackingCategories", category_id)
        if category is None:
            raise HTTPException(404, f"no tracking category {category_id}")
        try:
            return dict(render(add_option(store, category, request.name)))
        except XeroError as error:
            raise _refused(error) from error

    @router.patch("/organisations/{tenant_id}/tracking/{category_id}/options/{option_id}")
    async def change_tracking_option(
        tenant_id: str, category_id: str, option_id: str, request: DimensionChange
    ) -> dict[str, Any]:
        store = _store(state, tenant_id)
        category = store.get("TrackingCategories", category_id) or {"Options": []}
        option = next((opt for opt in category["Options"] if opt["TrackingOptionID"] == option_id), None)
        if option is None:
            raise HTTPException(404, f"no tracking option {option_id}")
        if request.name is not None:
            option["Name"] = request.name
        if request.status is not None:
            option["Status"] = request.status
        store.touch("TrackingCategories", category)
        return dict(render(option))

    return router
