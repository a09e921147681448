"""The Xero simulator's demo hooks (`sandbox.demo`): the seeded grant (its first connection is the US
organisation, which the demo connects to), bills per report and card expenses as spend money on the company card,
and the US organisation's expense accounts (by code, as line items name them) and suppliers in its base currency.
Books close through a day with the organisation's PeriodLockDate; a deactivated value is archived."""

from typing import Any

from fastapi import APIRouter, HTTPException

from sandbox.demo import BooksClosed, CloseBooks, Connect, Deactivate, DemoSeed
from sandbox.xero.constants import CLIENT_ID, CLIENT_SECRET, MAIN_TENANT, SEEDED_REFRESH_TOKEN
from sandbox.xero.state import XeroState

DEMO_ACCOUNTS = 12
DEMO_CONTACTS = 20
CARD_ACCOUNT_CODE = "091"
BANK_ACCOUNT_CODE = "090"
DEACTIVATABLE = {
    "account": ("Accounts", "Status"),
    "contact": ("Contacts", "ContactStatus"),
    "item": ("Items", "Status"),
}
"""The connector's attribute types (`connectors/xero/spec.yaml`) → collection and status field."""
CARD_CREDITS_SKIPPED = {
    "name": "card credits",
    "conditions": [{"field": "amount", "operator": "less_than", "value": "0"}],
}


def demo_seed(state: XeroState) -> DemoSeed:
    store = state.orgs[MAIN_TENANT]
    accounts = [
        str(acc["Code"]) for acc in store.all("Accounts") if acc["Type"] == "EXPENSE" and acc["Status"] == "ACTIVE"
    ]
    contacts = [
        str(c["ContactID"])
        for c in store.all("Contacts")
        if c["ContactStatus"] == "ACTIVE" and c.get("DefaultCurrency", store.base_currency) == store.base_currency
    ]
    return DemoSeed(
        app={"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET},
        connect=Connect(refresh_token=SEEDED_REFRESH_TOKEN, callback={}),
        export_settings={
            "reimbursable": {"export_type": "bill", "grouping": {"by": "report"}, "date": "last_spent"},
            "card": {"export_type": "charge_card_transaction", "grouping": {"by": "expense"}, "date": "spent"},
            "employee_as": "contact",
            "defaults": {"charge_card_account": CARD_ACCOUNT_CODE, "payment_account": BANK_ACCOUNT_CODE},
            "skip_rules": [CARD_CREDITS_SKIPPED],
        },
        mapping_choices={"account": accounts[:DEMO_ACCOUNTS], "contact": contacts[:DEMO_CONTACTS]},
    )


def build_demo_router(state: XeroState) -> APIRouter:
    router = APIRouter()

    @router.get("")
    async def seed() -> DemoSeed:
        return demo_seed(state)

    @router.post("/close_books")
    async def close_books(request: CloseBooks) -> BooksClosed:
        """Xero locks through any day (the organisation's period lock date)."""
        if not request.dry_run:
            state.orgs[MAIN_TENANT].organisation["PeriodLockDate"] = request.through
        return BooksClosed(closed_through=request.through)

    @router.post("/deactivate")
    async def deactivate(request: Deactivate) -> dict[str, str]:
        store = state.orgs[MAIN_TENANT]
        target = DEACTIVATABLE.get(request.attribute_type)
        obj: dict[str, Any] | None = None
        if target is not None:
            collection, _ = target
            obj = store.get(collection, request.remote_id)
            if obj is None and collection == "Accounts":
                obj = next((acc for acc in store.all("Accounts") if acc.get("Code") == request.remote_id), None)
        if target is None or obj is None:
            raise HTTPException(404, f"no {request.attribute_type} {request.remote_id!r} in {MAIN_TENANT}")
        collection, status_field = target
        obj[status_field] = "ARCHIVED"
        store.touch(collection, obj)
        return {"attribute_type": request.attribute_type, "remote_id": request.remote_id, "status": "inactive"}

    return router
