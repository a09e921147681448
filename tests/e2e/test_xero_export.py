"""Fyle → Xero through the product's own doors (issue 21, "must be shown"): a real worker exports the Fyle simulator's
approved expenses to the Xero simulator's main organisation, reimbursable ones as an ACCPAY bill per report and card
ones as a SPEND bank transaction each, with their receipts attached once each; the export summary goes back to Fyle;
a bill paid in Xero by a person marks its report paid in Fyle, and a report reimbursed in Fyle becomes one Xero
Payment, however many runs follow; `ledgerline books check` finds no difference. And an import run started while an
export backlog fills Xero's 60-calls-a-minute allowance waits its turn in the connection's shared budget: no 429."""

import asyncio
import json
import secrets
import subprocess
import time
import uuid
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from bench.destinations import (
    XERO_BANK_ACCOUNT,
    XERO_CARD_ACCOUNT,
    XERO_CONTROL_PATH,
    xero_account,
    xero_listed,
    xero_tokens,
)
from connectors.registry import destination_vocabulary
from connectors.xero.references import stored_reference
from core.crypto import CredentialVault
from core.db import Database
from core.models import Connection, ConnectionRole, DestinationAttribute, SourceRecord
from core.repository import TenantRepository
from core.settings import Settings
from mappings.mapping_store import MappingChange, set_mappings
from mappings.settings import ExportSettings
from mappings.settings_store import save_settings
from sandbox.constants import CONTROL_PREFIX
from sandbox.xero.constants import MAIN_TENANT, PER_MINUTE
from sync.constants import RECORD_SOURCE_PAYMENTS_SETTING
from sync.runs import set_paused
from tests.e2e.conftest import exported_items, fyle_writes, ledgerline, reports_of, source_ids, tail
from tests.e2e.test_books_agree import books_check
from tests.e2e.test_sync_run import sync
from tests.sandbox_fixtures import RunningSandbox
from tests.sync.fyle_source import FyleSource, make_source, move_report

XERO = destination_vocabulary("xero")
COLLECTIONS = {
    "bill": ("Invoices", "InvoiceNumber", "ACCPAY"),
    "charge_card_transaction": ("BankTransactions", "Reference", "SPEND"),
}
"""Each exported kind: the Xero collection it is created in, the field holding its reference, its Type."""
ID_FIELDS = {"Invoices": "InvoiceID", "BankTransactions": "BankTransactionID"}
CARD_CREDITS = {"name": "card credits", "conditions": [{"field": "amount", "operator": "less_than", "value": "0"}]}
FAST_PER_MINUTE = 10 * PER_MINUTE
BACKLOG_EXPENSES = 3200
"""Expenses exported one document each while the import runs: 64 PUTs of 50, more than a minute of the allowance."""
BACKLOG_DEADLINE_SECONDS = 420.0
CALLS_AFTER_IMPORT = 5
"""Export calls seen after the import finished: the backlog was still going, not over before the import."""
POLL_SECONDS = 0.5


def control(sandbox: RunningSandbox) -> httpx.Client:
    return httpx.Client(base_url=f"{sandbox.url}{CONTROL_PREFIX}", timeout=60)


def listed(sandbox: RunningSandbox, collection: str) -> list[dict[str, Any]]:
    return xero_listed(sandbox.url, collection)


def live(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [row for row in rows if row.get("Status") not in ("DELETED", "VOIDED")]


def xero_requests(sandbox: RunningSandbox) -> list[dict[str, Any]]:
    with control(sandbox) as client:
        count = client.get("/requests", params={"system": "xero", "limit": 1}).json()["count"]
        rows: list[dict[str, Any]] = client.get("/requests", params={"system": "xero", "limit": count}).json()["data"]
    return rows


async def add_xero(
    database: Database,
    settings: Settings,
    sandbox: RunningSandbox,
    tenant_id: uuid.UUID,
    *,
    per_minute: int | None = None,
) -> uuid.UUID:
    """A Xero destination as the connect flow leaves one: the consent's tokens, the organisation's tenant id, and the
    opt-in to record in Xero the reports Fyle reimbursed, paid from the organisation's bank account. `per_minute`:
    the organisation and the connection both allow that many calls a minute instead of Xero's 60."""
    limits: dict[str, Any] = {}
    if per_minute is not None:
        with control(sandbox) as client:
            client.put(f"{XERO_CONTROL_PATH}/limits", json={"per_minute": per_minute}).raise_for_status()
        limits = {"rate_limit": {"per_minute": per_minute}}
    vault = CredentialVault(settings.vault_key_list())
    destination_id = uuid.uuid4()
    async with database.tenant_session(tenant_id) as session:
        session.add(
            Connection(
                id=destination_id,
                tenant_id=tenant_id,
                name="xero",
                provider="xero",
                role=ConnectionRole.DESTINATION.value,
                credentials=vault.encrypt(xero_tokens(sandbox.url)),
                settings={
                    "tenant_id": MAIN_TENANT,
                    RECORD_SOURCE_PAYMENTS_SETTING: {"account": xero_account(sandbox.url, XERO_BANK_ACCOUNT)},
                    **limits,
                },
                webhook_key=secrets.token_hex(8),
            )
        )
    return destination_id


def export_settings(sandbox: RunningSandbox, *, by: str = "report") -> ExportSettings:
    """Bills for reimbursable expenses (per report unless told), a spend-money transaction per card expense from the
    organisation's credit card (card credits skipped), bills paid from its bank account."""
    return ExportSettings.model_validate(
        {
            "reimbursable": {"export_type": "bill", "grouping": {"by": by}, "date": "last_spent"},
            "card": {"export_type": "charge_card_transaction", "grouping": {"by": "expense"}, "date": "spent"},
            "employee_as": "contact",
            "defaults": {
                "charge_card_account": xero_account(sandbox.url, XERO_CARD_ACCOUNT),
                "payment_account": xero_account(sandbox.url, XERO_BANK_ACCOUNT),
            },
            "skip_rules": [CARD_CREDITS],
        }
    )


async def map_and_configure(
    database: Database, sandbox: RunningSandbox, source: FyleSource, destination_id: uuid.UUID, export: ExportSettings
) -> None:
    """What an admin does after the first import and pull: categories spread over the organisation's expense
    accounts, employees over its active suppliers in the base currency, then the export settings."""
    accounts = sorted(
        str(row["Code"])
        for row in listed(sandbox, "Accounts")
        if row["Type"] == "EXPENSE" and row["Status"] == "ACTIVE"
    )
    currency = base_currency(sandbox)
    contacts = sorted(
        str(row["ContactID"])
        for row in listed(sandbox, "Contacts")
        if row.get("ContactStatus") == "ACTIVE" and row.get("DefaultCurrency", currency) == currency
    )
    assert len(accounts) > 1 and len(contacts) > 1, (accounts, contacts)
    async with database.tenant_session(source.tenant_id) as session:
        data = (await session.scalars(select(SourceRecord.data))).all()
        attributes = {
            (row.attribute_type, row.remote_id): row.id
            for row in (
                await session.scalars(
                    select(DestinationAttribute).where(DestinationAttribute.connection_id == destination_id)
                )
            ).all()
        }
        categories = sorted({row["category"] for row in data})
        employees = sorted({row["employee_email"] for row in data})
        repository = TenantRepository(session, source.tenant_id, "admin")
        await set_mappings(
            repository,
            destination_connection_id=destination_id,
            changes=[
                *(
                    MappingChange("category", value, "account", attributes["account", accounts[n % len(accounts)]])
                    for n, value in enumerate(categories)
                ),
                *(
                    MappingChange("employee", value, "contact", attributes["contact", contacts[n % len(contacts)]])
                    for n, value in enumerate(employees)
                ),
            ],
            vocabulary=XERO,
        )
        destination = await session.get(Connection, destination_id)
        assert destination is not None
        await save_settings(repository, destination=destination, settings=export, vocabulary=XERO)


def base_currency(sandbox: RunningSandbox) -> str:
    with control(sandbox) as client:
        organisations = client.get("/xero/organisations").json()
    [main] = [row for row in organisations if row["tenant_id"] == MAIN_TENANT]
    return str(main["base_currency"])


def payments_of(sandbox: RunningSandbox, bill_id: str) -> list[dict[str, Any]]:
    return [
        payment
        for payment in live(listed(sandbox, "Payments"))
        if (payment.get("Invoice") or {}).get("InvoiceID") == bill_id
    ]


def attachments(sandbox: RunningSandbox) -> list[dict[str, Any]]:
    """Every file attached in the main organisation: document id, name, size."""
    with control(sandbox) as client:
        answer = client.get(f"{XERO_CONTROL_PATH}/attachments")
    answer.raise_for_status()
    rows: list[dict[str, Any]] = answer.json()["items"]
    return rows


def pay_in_xero(sandbox: RunningSandbox, bill_id: str) -> None:
    """A person pays the bill in Xero (not through the API the product uses)."""
    with control(sandbox) as client:
        client.post(f"{XERO_CONTROL_PATH}/invoices/{bill_id}/paid", json={}).raise_for_status()


async def test_approved_fyle_expenses_become_xero_bills_and_spend_money_with_receipts_paid_both_ways(
    database: Database,
    product_settings: Settings,
    product_env: dict[str, str],
    sandbox: RunningSandbox,
    worker: Path,
) -> None:
    source = await make_source(database, product_settings, sandbox)
    # What reaches Xero is tested here, not its pace (the backlog test below, the benchmark and the chaos scenario
    # run at Xero's 60 a minute): at ten times that, the runs take seconds instead of minutes of waiting.
    destination_id = await add_xero(database, product_settings, sandbox, source.tenant_id, per_minute=FAST_PER_MINUTE)
    for kind in ("import", "pull"):
        ran = sync(product_env, source.tenant_id, "--kind", kind)
        assert ran.returncode == 0, ran.stdout + ran.stderr + tail(worker)
    await map_and_configure(database, sandbox, source, destination_id, export_settings(sandbox))

    synced = sync(product_env, source.tenant_id)
    assert synced.returncode == 0, synced.stdout + synced.stderr + tail(worker)
    items = await exported_items(database, source.tenant_id, destination_id)
    assert items and {item.state for item in items} == {"succeeded"}, {(i.state, i.error_message) for i in items}
    kinds = Counter(item.document_type for item in items)
    assert kinds["bill"] and kinds["charge_card_transaction"] and set(kinds) == set(COLLECTIONS), kinds

    # Every item is exactly one live document of its type, under its reference, in its currency, each line
    # naming the expenses it carries.
    documents = {collection: live(listed(sandbox, collection)) for collection, _, _ in COLLECTIONS.values()}
    for item in items:
        collection, reference_field, document_type = COLLECTIONS[item.document_type]
        assert item.document is not None
        holding = [
            row for row in documents[collection] if row.get(reference_field) == stored_reference(item.idempotency_key)
        ]
        assert [row[ID_FIELDS[collection]] for row in holding] == [item.remote_id], (item.idempotency_key, holding)
        [document] = holding
        assert document["Type"] == document_type
        assert document["CurrencyCode"] == item.document["currency"], (document["CurrencyCode"], item.document)
        lines = document["LineItems"]
        assert len(lines) == len(item.document["lines"]), (lines, item.document["lines"])
        for line, built in zip(lines, item.document["lines"], strict=True):
            assert any(source_id in line["Description"] for source_id in built["source_ids"]), (line, built)
        if item.document_type == "charge_card_transaction":
            assert document["BankAccount"]["Code"] == xero_account(sandbox.url, XERO_CARD_ACCOUNT), document

    # Receipts: each document's files attached to it, once each, with their bytes.
    with_receipts = [item for item in items if item.document and item.document.get("attachment_ids")]
    assert {item.document_type for item in with_receipts} == set(COLLECTIONS), "both kinds carry receipts"
    files = attachments(sandbox)
    assert all(row["size"] > 0 for row in files), files
    per_document = Counter(row["document_id"] for row in files)
    assert max(Counter((row["document_id"], row["file_name"]) for row in files).values()) == 1, "a file twice"
    for item in with_receipts:
        assert item.document is not None and item.remote_id is not None
        assert per_document[item.remote_id] == len(item.document["attachment_ids"]), (item.id, per_document)
    assert sum(per_document.values()) == sum(
        len(item.document["attachment_ids"]) for item in with_receipts if item.document
    )

    # Written back: every exported expense's summary is COMPLETE in Fyle.
    exported = {source_id for item in items if item.document for source_id in source_ids(item)}
    complete = {
        entry["data"]["id"]
        for entry in fyle_writes(sandbox, "expense_export_summaries")
        if entry["data"]["state"] == "COMPLETE"
    }
    assert exported and exported <= complete

    # Payments back: one report's bill paid by a person in Xero, another report reimbursed in Fyle.
    records = [record.data for record in await source.records()]
    states = {str(row["report_id"]): row.get("report_state") for row in records if row.get("report_id")}
    single = [
        item
        for item in items
        if item.document_type == "bill"
        and len(reports := reports_of(records, item)) == 1
        and states[next(iter(reports))] == "APPROVED"
        and not payments_of(sandbox, str(item.remote_id))
    ]
    assert len(single) >= 2, "the seed must have two approved reports exported as unpaid bills"
    paid_there, reimbursed_here = single[0], single[1]
    [paid_report] = reports_of(records, paid_there)
    [reimbursed_report] = reports_of(records, reimbursed_here)
    pay_in_xero(sandbox, str(paid_there.remote_id))
    move_report(sandbox, reimbursed_report, "PAID")
    payments_before = len(live(listed(sandbox, "Payments")))

    for _ in range(2):  # the second run finds nothing more to do
        again = sync(product_env, source.tenant_id)
        assert again.returncode == 0, again.stdout + again.stderr + tail(worker)
    marked = {entry["data"]["id"] for entry in fyle_writes(sandbox, "reports_mark_paid")}
    assert paid_report in marked, "the bill paid in Xero marks its report paid in Fyle"
    assert reimbursed_report not in marked, "a report Fyle reimbursed itself is not marked again"
    [recorded] = payments_of(sandbox, str(reimbursed_here.remote_id))
    assert recorded["Account"]["Code"] == xero_account(sandbox.url, XERO_BANK_ACCOUNT), recorded
    [bill] = [row for row in listed(sandbox, "Invoices") if row["InvoiceID"] == reimbursed_here.remote_id]
    assert (bill["Status"], float(bill["AmountDue"])) == ("PAID", 0), bill
    assert len(payments_of(sandbox, str(paid_there.remote_id))) == 1, "paid in Xero, not paid again"
    assert len(live(listed(sandbox, "Payments"))) == payments_before + 1, "one Payment recorded, once"
    settled = {item.id: item for item in await exported_items(database, source.tenant_id, destination_id)}
    assert settled[paid_there.id].paid_at is not None and settled[reimbursed_here.id].paid_at is not None

    # The books agree: every bill and spend-money transaction read back, each expense once, for its amount.
    spent = sorted(date.fromisoformat(row["spent_on"]) for row in records)
    checked = books_check(product_env, destination_id, spent[0], spent[-1])
    assert checked.returncode == 0, checked.stdout + checked.stderr
    report = json.loads(checked.stdout)
    assert (report["clean"], report["difference_count"], report["documents"]) == (True, 0, len(items)), report
    assert report["expenses"] == len(exported), report


def request_run(env: dict[str, str], tenant_id: uuid.UUID, kind: str) -> subprocess.CompletedProcess[str]:
    """`ledgerline sync run` without `--wait`: the run is requested and the worker rung."""
    return ledgerline(env, "sync", "run", "--tenant", str(tenant_id), "--kind", kind)


async def test_an_import_during_an_export_backlog_waits_its_turn_in_the_shared_budget_and_meets_no_429(
    database: Database,
    product_settings: Settings,
    product_env: dict[str, str],
    sandbox: RunningSandbox,
    worker: Path,
) -> None:
    source = await make_source(database, product_settings, sandbox)
    destination_id = await add_xero(database, product_settings, sandbox, source.tenant_id)
    with control(sandbox) as client:
        client.post(
            "/fyle/generate", json={"expenses": BACKLOG_EXPENSES, "state": "APPROVED", "per_report": 1}
        ).raise_for_status()
    for kind in ("import", "pull"):
        ran = sync(product_env, source.tenant_id, "--kind", kind)
        assert ran.returncode == 0, ran.stdout + ran.stderr + tail(worker)
    await map_and_configure(database, sandbox, source, destination_id, export_settings(sandbox, by="expense"))

    # The export starts; once its calls have filled most of a minute's allowance, an import is asked for.
    started = request_run(product_env, source.tenant_id, "realtime")
    assert started.returncode == 0, started.stdout + started.stderr
    deadline = time.monotonic() + BACKLOG_DEADLINE_SECONDS
    before = len(xero_requests(sandbox))
    while len(xero_requests(sandbox)) - before < PER_MINUTE - 5:
        assert time.monotonic() < deadline, "the export made too few calls to fill the allowance"
        await asyncio.sleep(POLL_SECONDS)
    imported = sync(product_env, source.tenant_id, "--kind", "import")
    assert imported.returncode == 0, imported.stdout + imported.stderr + tail(worker)
    import_calls = len(xero_requests(sandbox))

    # The export goes on after the import (so they shared the minute), and nothing met a 429.
    while len(xero_requests(sandbox)) < import_calls + CALLS_AFTER_IMPORT:
        assert time.monotonic() < deadline, "the export was not still working when the import finished"
        await asyncio.sleep(POLL_SECONDS)
    statuses = Counter(call["status"] for call in xero_requests(sandbox))
    assert statuses[429] == 0, statuses
    items = await exported_items(database, source.tenant_id, destination_id)
    states = Counter(item.state for item in items)
    assert states["succeeded"] and set(states) <= {"succeeded", "pending", "running"}, states
    async with database.tenant_session(source.tenant_id) as session:  # the rest of the backlog is no one's now
        connection = await session.get(Connection, destination_id)
        assert connection is not None
        await set_paused(session, connection=connection, paused=True, actor="test")
