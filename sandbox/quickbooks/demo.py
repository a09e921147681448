"""The QuickBooks simulator's demo hooks (`sandbox.demo`): the main (US) company's seeded grant and the realm its
callback names, bills per report and card purchases on the company Visa, and its expense accounts and vendors in
the home currency (a bill's currency must be its vendor's) to map to."""

from typing import Any

from fastapi import APIRouter, HTTPException

from sandbox.demo import BooksClosed, CloseBooks, Connect, Deactivate, DemoSeed
from sandbox.quickbooks.constants import CLIENT_ID, CLIENT_SECRET, MAIN_REALM, SEEDED_REFRESH_TOKEN_PREFIX
from sandbox.quickbooks.seed import default_account
from sandbox.quickbooks.state import QboState
from sandbox.quickbooks.store import RealmStore

REALM_ID_CALLBACK = "realmId"
"""The callback parameter naming the company the person chose on the consent page."""
DEMO_ACCOUNTS = 12
DEMO_VENDORS = 25
DEACTIVATABLE = {"vendor": "Vendor", "employee": "Employee", "account": "Account", "customer": "Customer"}
"""The connector's attribute types (`connectors/quickbooks/spec.yaml`) and the entities they are imported from."""
CARD_CREDITS_SKIPPED = {
    "name": "card credits",
    "conditions": [{"field": "amount", "operator": "less_than", "value": "0"}],
}


def _active(store: RealmStore, entity: str) -> list[dict[str, Any]]:
    return sorted((obj for obj in store.all(entity) if obj.get("Active", True)), key=lambda obj: int(obj["Id"]))


def demo_seed(state: QboState) -> DemoSeed:
    store = state.realms[MAIN_REALM]
    home = store.home_currency
    accounts = [str(obj["Id"]) for obj in _active(store, "Account") if obj["AccountType"] == "Expense"]
    vendors = [
        str(obj["Id"]) for obj in _active(store, "Vendor") if (obj.get("CurrencyRef") or {}).get("value", home) == home
    ]
    card, bank = default_account(store, "Credit Card"), default_account(store, "Bank")
    assert card is not None and bank is not None
    return DemoSeed(
        app={"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET},
        connect=Connect(
            refresh_token=SEEDED_REFRESH_TOKEN_PREFIX + MAIN_REALM, callback={REALM_ID_CALLBACK: MAIN_REALM}
        ),
        export_settings={
            "reimbursable": {"export_type": "bill", "grouping": {"by": "report"}, "date": "last_spent"},
            "card": {"export_type": "charge_card_transaction", "grouping": {"by": "expense"}, "date": "spent"},
            "employee_as": "vendor",
            "defaults": {"charge_card_account": str(card["Id"]), "payment_account": str(bank["Id"])},
            "skip_rules": [CARD_CREDITS_SKIPPED],
        },
        mapping_choices={"account": accounts[:DEMO_ACCOUNTS], "vendor": vendors[:DEMO_VENDORS]},
    )


def build_demo_router(state: QboState) -> APIRouter:
    router = APIRouter()

    @router.get("")
    async def seed() -> DemoSeed:
        return demo_seed(state)

    @router.post("/close_books")
    async def close_books(request: CloseBooks) -> BooksClosed:
        """QuickBooks closes the books through a day (the company's closing date)."""
        if not request.dry_run:
            state.realms[MAIN_REALM].closing_date = request.through
        return BooksClosed(closed_through=request.through)

    @router.post("/deactivate")
    async def deactivate(request: Deactivate) -> dict[str, str]:
        store = state.realms[MAIN_REALM]
        entity = DEACTIVATABLE.get(request.attribute_type)
        obj = store.get(entity, request.remote_id) if entity else None
        if entity is None or obj is None:
            raise HTTPException(404, f"no {request.attribute_type} {request.remote_id!r} in realm {MAIN_REALM}")
        store.replace(entity, {**obj, "Active": False})
        return {"attribute_type": request.attribute_type, "remote_id": request.remote_id, "status": "inactive"}

    return router
