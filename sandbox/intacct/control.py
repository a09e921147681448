"""The Intacct control API (`/_sandbox/intacct/…`): inspect what clients created, pay documents, close periods,
expire sessions and see which control ids were used — everything a test or the demo needs to steer the simulator."""

from dataclasses import asdict
from datetime import date, timedelta
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import BaseModel, ConfigDict, Field

from sandbox.intacct.auth import COMPANIES, SENDERS
from sandbox.intacct.constants import SENDER_ID, SINGLE_ENTITY_COMPANY
from sandbox.intacct.demo import build_demo_router
from sandbox.intacct.documents import amount_due, apply_payment
from sandbox.intacct.schema import Kind
from sandbox.intacct.seed import Record
from sandbox.intacct.state import SimulatorState
from sandbox.intacct.store import CompanyStore, OpenPeriods, Table
from sandbox.intacct.values import format_date, format_timestamp

PAYABLE = ("APBILL", "EEXPENSES", "CCTRANSACTION")
"""Documents the control API can mark paid (payment sync reads their STATE, TOTALPAID and WHENPAID)."""


class PeriodsUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    company: str = SINGLE_ENTITY_COMPANY
    entity: str = Field(default="", description="An entity with its own periods; empty for the company's.")
    open_from: date = Field(description="First open month (any day in it).")
    open_to: date | None = Field(default=None, description="Last open month; none means no end.")


class SessionTtl(BaseModel):
    model_config = ConfigDict(extra="forbid")

    seconds: int = Field(ge=1, le=7 * 24 * 3600, description="Sessions expire after this much inactivity.")


class MarkPaid(BaseModel):
    model_config = ConfigDict(extra="forbid")

    company: str = SINGLE_ENTITY_COMPANY
    amount: Decimal | None = Field(default=None, gt=0, description="Defaults to the whole amount due.")
    paid_on: date | None = Field(default=None, description="Defaults to today on the sandbox clock.")


def _document(table: Table, row: Record) -> dict[str, Any]:
    return {**row, "lines": list(table.lines(int(row["RECORDNO"])))}


def build_router(state: SimulatorState) -> APIRouter:
    router = APIRouter()

    def company_store(company: str = SINGLE_ENTITY_COMPANY) -> CompanyStore:
        if company not in state.stores:
            raise HTTPException(404, f"no company {company!r}; choose from {sorted(state.stores)}")
        return state.stores[company]

    StoreDep = Annotated[CompanyStore, Depends(company_store)]  # noqa: N806 - a type alias, named as one

    def document_table(store: CompanyStore, object_name: str) -> Table:
        table = store.table(object_name)
        if table is None or table.definition.kind is not Kind.DOCUMENT:
            documents = [name for name, table in store.tables.items() if table.definition.kind is Kind.DOCUMENT]
            raise HTTPException(404, f"no document object {object_name!r}; choose from {documents}")
        return table

    @router.get("/companies")
    async def companies() -> list[dict[str, Any]]:
        """The seeded companies and the credentials that open them."""
        return [
            {
                "company_id": spec.company_id,
                "multi_entity": spec.multi_entity,
                "entities": list(spec.entities),
                "sender_id": SENDER_ID,
                "sender_password": SENDERS[SENDER_ID],
                "users": [{"user_id": user, "password": password} for user, password in spec.users.items()],
            }
            for spec in COMPANIES.values()
        ]

    @router.get("/documents")
    async def documents(
        store: StoreDep,
        object_name: Annotated[str, Query(alias="object", description="APBILL, GLBATCH, EEXPENSES, …")] = "APBILL",
        record_id: Annotated[str | None, Query(description="Only documents with this RECORDID.")] = None,
    ) -> dict[str, Any]:
        table = document_table(store, object_name)
        rows = [row for row in table.rows() if record_id is None or row.get("RECORDID") == record_id]
        return {"object": table.definition.name, "count": len(rows), "data": [_document(table, row) for row in rows]}

    @router.get("/documents/{object_name}/{recordno}")
    async def document(store: StoreDep, object_name: str, recordno: int) -> dict[str, Any]:
        table = document_table(store, object_name)
        row = table.get(recordno)
        if row is None:
            raise HTTPException(404, f"no {table.definition.name} {recordno}")
        return _document(table, row)

    @router.delete("/documents/{object_name}/{recordno}")
    async def delete_document(store: StoreDep, object_name: str, recordno: int) -> dict[str, Any]:
        """Delete a document a client created, as a person may in Intacct (to export it again, say): lookups by its
        reference find nothing afterwards, while the control ids that created it stay spent."""
        table = document_table(store, object_name)
        if not table.delete(recordno):
            raise HTTPException(404, f"no {table.definition.name} {recordno} created through the API")
        return {"deleted": {"object": table.definition.name, "recordno": recordno}}

    @router.post("/documents/{object_name}/{recordno}/paid")
    async def mark_paid(object_name: str, recordno: int, payment: MarkPaid) -> dict[str, Any]:
        """Pay a bill, expense report or card transaction as if someone did it in Intacct (`amount` in the document's
        own currency; by default all it owes)."""
        table = document_table(company_store(payment.company), object_name)
        if table.definition.name not in PAYABLE:
            raise HTTPException(422, f"{table.definition.name} cannot be paid; choose from {list(PAYABLE)}")
        row = table.get(recordno)
        if row is None:
            raise HTTPException(404, f"no {table.definition.name} {recordno}")
        due = amount_due(row)
        amount = payment.amount if payment.amount is not None else due
        if due == 0:
            raise HTTPException(409, f"{table.definition.name} {recordno} is already paid")
        if amount > due:
            raise HTTPException(422, f"amount {amount} exceeds the amount due {due}")
        now = state.clock.now()
        paid = apply_payment(table, row, amount, payment.paid_on or now.date(), format_timestamp(now))
        return _document(table, paid)

    @router.get("/periods")
    async def periods(store: StoreDep, entity: str = "") -> OpenPeriods:
        return store.periods_of(entity)

    @router.put("/periods")
    async def set_periods(update: PeriodsUpdate) -> OpenPeriods:
        """Months before `open_from` and after `open_to` are closed: postings dated in them are refused. With an
        entity, only postings in that entity follow these periods."""
        store = company_store(update.company)
        if update.open_to is not None and update.open_to < update.open_from:
            raise HTTPException(422, "open_to is before open_from")
        periods = OpenPeriods(update.open_from, update.open_to)
        if not update.entity:
            store.periods = periods
        elif update.entity not in store.entities:
            raise HTTPException(422, f"{update.company} has no entity {update.entity!r}")
        else:
            store.entity_periods[update.entity] = periods
        return periods

    @router.get("/sessions")
    async def sessions() -> dict[str, int]:
        return {"count": len(state.sessions), "ttl_seconds": int(state.sessions.ttl.total_seconds())}

    @router.put("/sessions/ttl")
    async def set_ttl(ttl: SessionTtl) -> dict[str, int]:
        state.sessions.ttl = timedelta(seconds=ttl.seconds)
        return {"ttl_seconds": ttl.seconds}

    @router.delete("/sessions")
    async def expire_sessions() -> dict[str, int]:
        return {"expired": state.sessions.expire_all()}

    @router.get("/control_ids")
    async def control_ids(
        company: str | None = None,
        control_id: str | None = None,
        limit: Annotated[int, Query(ge=1)] = 100,
    ) -> dict[str, Any]:
        """Requests seen, newest last: control id, sender, company, uniqueid and what happened to each function."""
        entries = [
            entry.as_dict()
            for entry in state.control_log
            if (company is None or entry.company_id == company)
            and (control_id is None or entry.control_id == control_id)
        ]
        return {"count": len(entries), "data": entries[-limit:]}

    @router.get("/attachments")
    async def attachments(store: StoreDep) -> dict[str, Any]:
        return {
            "folders": sorted(store.folders),
            "count": len(store.supdocs),
            "data": [asdict(document) for document in store.supdocs.values()],
        }

    @router.get("/counts")
    async def counts(store: StoreDep) -> dict[str, Any]:
        by_kind: dict[str, dict[str, int]] = {kind.value: {} for kind in Kind}
        for name, table in store.tables.items():
            by_kind[table.definition.kind.value][name] = len(table)
        return {
            "company": store.company_id,
            "objects": by_kind,
            "attachments": len(store.supdocs),
            "sessions": len(state.sessions),
            "control_ids": len(state.control_log),
            "today": format_date(state.clock.now().date()),
        }

    router.include_router(build_demo_router(state), prefix="/demo")
    return router
