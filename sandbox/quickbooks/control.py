"""`/_sandbox/quickbooks/…`: what tests and the demo use to steer the simulator and see what a client did.

- `GET  /credentials`                         client id and secret, the discovery URL and wire URLs, the realms
                                              with each one's seeded refresh token
- `GET  /settings`, `PUT /settings`           token lifetimes, refresh rotation and grace, throttles, webhooks
- `GET  /realms`                              each company's currency, closing date and DocNumber preference
- `PUT  /realms/{realm}/closing_date`         `{"closing_date": "2024-12-31" | null}`: books closed through it
- `PUT  /realms/{realm}/preferences`          `{"duplicate_doc_number_check": bool}`
- `GET  /realms/{realm}/documents?entity=Bill&doc_number=…`, `GET /realms/{realm}/documents/{entity}/{id}`
- `POST /realms/{realm}/bills/{id}/paid`      `{"amount"?, "paid_on"?}`: a BillPayment as if made in QuickBooks
- `GET  /realms/{realm}/attachments/{id}`     an uploaded file's metadata, size and sha256
- `GET  /realms/{realm}/counts`               objects of each kind
- `POST /tokens/expire`                       every access token expires now (the next call gets 401 code 3200)
- `POST /grants/revoke`                       `{"refresh_token"}`: disconnect that grant, as a user would
- `POST /webhooks`, `GET /webhooks`, `DELETE /webhooks/{id}`, `GET /webhooks/deliveries`
"""

from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field

from sandbox.quickbooks.api import preferences_of
from sandbox.quickbooks.constants import (
    AUTHORIZE_PATH,
    CLIENT_ID,
    CLIENT_SECRET,
    DISCOVERY_PATHS,
    NAME,
    REVOKE_PATH,
    SEEDED_REFRESH_TOKEN_PREFIX,
    TOKEN_PATH,
)
from sandbox.quickbooks.demo import build_demo_router
from sandbox.quickbooks.entities import ENTITIES, entity_named
from sandbox.quickbooks.errors import QboFault
from sandbox.quickbooks.seed import default_account
from sandbox.quickbooks.settings import QboSettings, QboSettingsUpdate
from sandbox.quickbooks.state import QboState
from sandbox.quickbooks.store import RealmStore, public
from sandbox.quickbooks.transactions import bill_open_balance
from sandbox.quickbooks.writes import create


class ClosingDate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    closing_date: date | None


class Preferences(BaseModel):
    model_config = ConfigDict(extra="forbid")

    duplicate_doc_number_check: bool


class MarkPaid(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount: Decimal | None = Field(default=None, gt=0, description="Defaults to the bill's open balance.")
    paid_on: date | None = Field(default=None, description="Defaults to today on the sandbox clock.")


class RevokeGrant(BaseModel):
    model_config = ConfigDict(extra="forbid")

    refresh_token: str


class SubscriptionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str
    verifier_token: str | None = None
    format: Literal["classic", "cloudevents"] = "classic"


def _listing(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {"count": len(items), "data": items}


def build_router(state: QboState) -> APIRouter:
    router = APIRouter()

    def realm(realm_id: str) -> RealmStore:
        if realm_id not in state.realms:
            raise HTTPException(404, f"no realm {realm_id}; choose from {sorted(state.realms)}")
        return state.realms[realm_id]

    RealmDep = Annotated[RealmStore, Depends(realm)]  # noqa: N806 - a type alias, named as one

    def describe(store: RealmStore) -> dict[str, Any]:
        return {
            "realm_id": store.realm_id,
            "company_name": store.company_name,
            "country": store.country,
            "home_currency": store.home_currency,
            "multicurrency": store.multicurrency,
            "currencies": {code: str(rate) for code, rate in store.rates.items()},
            "closing_date": store.closing_date,
            "duplicate_doc_number_check": store.duplicate_doc_number_check,
            "refresh_token": SEEDED_REFRESH_TOKEN_PREFIX + store.realm_id,
        }

    @router.get("/credentials")
    async def credentials(request: Request) -> dict[str, Any]:
        base = f"{request.url.scheme}://{request.url.netloc}/{NAME}"
        return {
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "discovery_url": base + DISCOVERY_PATHS[1],
            "authorize_url": base + AUTHORIZE_PATH,
            "token_url": base + TOKEN_PATH,
            "revoke_url": base + REVOKE_PATH,
            "api_base": f"{base}/v3",
            "realms": [describe(store) for store in state.realms.values()],
        }

    @router.get("/settings")
    async def read_settings() -> QboSettings:
        return state.settings

    @router.put("/settings")
    async def change_settings(update: QboSettingsUpdate) -> QboSettings:
        return state.update_settings(update)

    @router.get("/realms")
    async def realms() -> list[dict[str, Any]]:
        return [describe(store) for store in state.realms.values()]

    @router.put("/realms/{realm_id}/closing_date")
    async def set_closing_date(store: RealmDep, update: ClosingDate) -> dict[str, Any]:
        store.closing_date = update.closing_date
        return describe(store)

    @router.put("/realms/{realm_id}/preferences")
    async def set_preferences(store: RealmDep, update: Preferences) -> dict[str, Any]:
        store.duplicate_doc_number_check = update.duplicate_doc_number_check
        return preferences_of(store)

    @router.get("/realms/{realm_id}/documents")
    async def documents(store: RealmDep, entity: str = "Bill", doc_number: str | None = None) -> dict[str, Any]:
        kind = entity_named(entity)
        if kind is None:
            raise HTTPException(404, f"no entity {entity!r}; choose from {sorted(ENTITIES)}")
        found = [
            public(obj) for obj in store.all(kind.name) if doc_number is None or obj.get("DocNumber") == doc_number
        ]
        return _listing(found)

    @router.get("/realms/{realm_id}/documents/{entity}/{object_id}")
    async def document(store: RealmDep, entity: str, object_id: str) -> dict[str, Any]:
        kind = entity_named(entity)
        obj = store.get(kind.name, object_id) if kind else None
        if obj is None:
            raise HTTPException(404, f"no {entity} {object_id}")
        return public(obj)

    @router.post("/realms/{realm_id}/bills/{bill_id}/paid")
    async def mark_paid(store: RealmDep, bill_id: str, payment: MarkPaid) -> dict[str, Any]:
        """Pay a bill from the first bank account, as a person would in QuickBooks: a BillPayment appears, the
        bill's Balance drops and its SyncToken moves on (CDC and webhooks report both)."""
        bill = store.get("Bill", bill_id)
        if bill is None:
            raise HTTPException(404, f"no bill {bill_id}")
        due = bill_open_balance(store, bill)
        if due <= 0:
            raise HTTPException(409, f"bill {bill_id} is already paid")
        amount = payment.amount if payment.amount is not None else due
        bank = default_account(store, "Bank")
        assert bank is not None
        body = {
            "VendorRef": {"value": bill["VendorRef"]["value"]},
            "PayType": "Check",
            "CheckPayment": {"BankAccountRef": {"value": bank["Id"]}},
            "TotalAmt": str(amount),
            "TxnDate": (payment.paid_on or state.clock.now().date()).isoformat(),
            "CurrencyRef": {"value": bill["CurrencyRef"]["value"]},
            "ExchangeRate": bill.get("ExchangeRate"),
            "Line": [{"Amount": str(amount), "LinkedTxn": [{"TxnId": bill_id, "TxnType": "Bill"}]}],
        }
        try:
            created = create(store, ENTITIES["BillPayment"], body)
        except QboFault as fault:
            raise HTTPException(422, fault.fault()) from None
        return {"BillPayment": created, "Bill": public(store.snapshot("Bill", bill_id))}

    @router.get("/realms/{realm_id}/attachments/{attachable_id}")
    async def attachment(store: RealmDep, attachable_id: str) -> dict[str, Any]:
        stored = state.files.get((store.realm_id, attachable_id))
        obj = store.get("Attachable", attachable_id)
        if obj is None:
            raise HTTPException(404, f"no attachable {attachable_id}")
        file = {"size": len(stored.content), "sha256": stored.sha256} if stored else None
        return {"Attachable": public(obj), "file": file}

    @router.get("/realms/{realm_id}/counts")
    async def counts(store: RealmDep) -> dict[str, int]:
        return {name: len(objects) for name, objects in store.objects.items()}

    @router.post("/tokens/expire")
    async def expire_tokens() -> dict[str, int]:
        return {"expired": state.oauth.expire_access_tokens()}

    @router.post("/grants/revoke")
    async def revoke_grant(request: RevokeGrant) -> dict[str, bool]:
        grant = state.oauth.grant_of_refresh_token(request.refresh_token)
        if grant is None:
            raise HTTPException(404, "no such refresh token")
        return {"revoked": state.oauth.revoke_grant(grant.id)}

    @router.post("/webhooks", status_code=201)
    async def subscribe(request: SubscriptionCreate) -> dict[str, Any]:
        if not request.url.startswith(("http://", "https://")):
            raise HTTPException(422, "url must be an absolute http(s) URL")
        return state.dispatcher.subscribe(request.url, request.verifier_token, request.format).as_dict()

    @router.get("/webhooks")
    async def subscriptions() -> dict[str, Any]:
        return _listing([sub.as_dict() for sub in state.dispatcher.subscriptions.values()])

    @router.delete("/webhooks/{subscription_id}", status_code=204)
    async def unsubscribe(subscription_id: str) -> None:
        if not state.dispatcher.unsubscribe(subscription_id):
            raise HTTPException(404, f"no subscription {subscription_id}")

    @router.get("/webhooks/deliveries")
    async def deliveries() -> dict[str, Any]:
        return _listing([delivery.as_dict() for delivery in state.dispatcher.deliveries()])

    router.include_router(build_demo_router(state), prefix="/demo")
    return router
