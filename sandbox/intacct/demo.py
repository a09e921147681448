"""The Intacct simulator's demo hooks (`sandbox.demo`): the single-entity company with the Web Services user, bills
per report, and its expense accounts and vendors to map to.

Card expenses are left out: Ledgerline records a document by its RECORDNO, which Intacct numbers per object, so a
card transaction and a bill can share one and the second is refused by the unique (connection, remote id) index."""

import calendar
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, HTTPException

from sandbox.demo import BooksClosed, CloseBooks, Connect, Deactivate, DemoSeed
from sandbox.intacct.constants import (
    BASE_CURRENCY,
    SENDER_ID,
    SENDER_PASSWORD,
    SINGLE_ENTITY_COMPANY,
    USER_ID,
    USER_PASSWORD,
)
from sandbox.intacct.state import SimulatorState
from sandbox.intacct.store import CompanyStore, OpenPeriods

DEMO_ACCOUNTS = 12
DEMO_VENDORS = 25
FIRST_EXPENSE_ACCOUNT = 70000
"""The seeded chart's expense accounts start here (its expense types point at them too)."""
DEACTIVATABLE = {"vendor": "VENDOR", "employee": "EMPLOYEE", "account": "GLACCOUNT", "project": "PROJECT"}
"""The connector's attribute types (`connectors/intacct/spec.yaml`) and the objects they are imported from."""


def _active(store: CompanyStore, object_name: str) -> list[dict[str, Any]]:
    table = store.table(object_name)
    assert table is not None
    return [row for row in table.rows() if row.get("STATUS", "active") == "active"]


def demo_seed(state: SimulatorState) -> DemoSeed:
    store = state.stores[SINGLE_ENTITY_COMPANY]
    accounts = [
        row["ACCOUNTNO"] for row in _active(store, "GLACCOUNT") if int(row["ACCOUNTNO"]) >= FIRST_EXPENSE_ACCOUNT
    ]
    vendors = [row["VENDORID"] for row in _active(store, "VENDOR") if row.get("CURRENCY") in ("", BASE_CURRENCY)]
    return DemoSeed(
        app={"sender_id": SENDER_ID, "sender_password": SENDER_PASSWORD},
        connect=Connect(
            credentials={"company_id": SINGLE_ENTITY_COMPANY, "user_id": USER_ID, "user_password": USER_PASSWORD}
        ),
        export_settings={
            "reimbursable": {"export_type": "bill", "grouping": {"by": "report"}, "date": "last_spent"},
            "employee_as": "vendor",
            "card": None,
        },
        mapping_choices={"account": accounts[:DEMO_ACCOUNTS], "vendor": vendors[:DEMO_VENDORS]},
    )


def build_demo_router(state: SimulatorState) -> APIRouter:
    router = APIRouter()

    @router.get("")
    async def seed() -> DemoSeed:
        return demo_seed(state)

    @router.post("/close_books")
    async def close_books(request: CloseBooks) -> BooksClosed:
        """Intacct closes whole months: every month up to and including the one `through` falls in."""
        last_day = request.through.replace(day=calendar.monthrange(request.through.year, request.through.month)[1])
        if not request.dry_run:
            state.stores[SINGLE_ENTITY_COMPANY].periods = OpenPeriods(last_day + timedelta(days=1), None)
        return BooksClosed(closed_through=last_day)

    @router.post("/deactivate")
    async def deactivate(request: Deactivate) -> dict[str, str]:
        object_name = DEACTIVATABLE.get(request.attribute_type)
        table = state.stores[SINGLE_ENTITY_COMPANY].table(object_name) if object_name else None
        row = table.find(request.remote_id) if table is not None else None
        if table is None or row is None:
            raise HTTPException(404, f"no {request.attribute_type} {request.remote_id!r} in {SINGLE_ENTITY_COMPANY}")
        table.replace({**row, "STATUS": "inactive"})
        return {"attribute_type": request.attribute_type, "remote_id": request.remote_id, "status": "inactive"}

    return router
