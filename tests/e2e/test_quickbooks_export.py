"""Fyle → QuickBooks Online through the product's own doors (issue 19, "must be shown"): a real worker exports the
Fyle simulator's approved expenses to the QuickBooks simulator's main company, reimbursable ones as one bill per
report and card ones as a card purchase each, with their receipts as Attachables linked to the documents; the export
summary goes back to Fyle; a bill paid in QuickBooks marks its report paid in Fyle, and a report reimbursed in Fyle
becomes one BillPayment in QuickBooks, however many runs follow; and `ledgerline books check` finds no difference."""

import json
import secrets
import uuid
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from connectors.quickbooks.references import doc_number
from core.crypto import CredentialVault
from core.db import Database
from core.models import Connection, ConnectionRole, DestinationAttribute, SourceRecord
from core.repository import TenantRepository
from core.settings import Settings
from mappings.mapping_store import MappingChange, set_mappings
from mappings.settings import ExportSettings
from mappings.settings_store import save_settings
from sandbox.quickbooks.constants import MAIN_REALM
from sync.constants import RECORD_SOURCE_PAYMENTS_SETTING
from tests.connectors.quickbooks.conftest import sandbox_tokens
from tests.e2e.conftest import exported_items, fyle_writes, reports_of, tail
from tests.e2e.test_books_agree import books_check
from tests.e2e.test_sync_run import sync
from tests.sandbox_fixtures import RunningSandbox
from tests.sync.fyle_source import FyleSource, make_source, move_report
from tests.vocabularies import QUICKBOOKS

HOME_CURRENCY = "USD"
CARD_ACCOUNT = "Corporate Visa"
BANK_ACCOUNT = "Checking"
OBJECTS = {"bill": "Bill", "charge_card_transaction": "Purchase"}
"""The QuickBooks object each exported kind is created as."""


def company(sandbox: RunningSandbox) -> httpx.Client:
    """The control API of the simulator's main company."""
    return httpx.Client(base_url=f"{sandbox.url}/_sandbox/quickbooks/realms/{MAIN_REALM}", timeout=30)


def listed(sandbox: RunningSandbox, entity: str) -> list[dict[str, Any]]:
    with company(sandbox) as control:
        answer = control.get("/documents", params={"entity": entity})
    answer.raise_for_status()
    rows: list[dict[str, Any]] = answer.json()["data"]
    return rows


def named(sandbox: RunningSandbox, name: str) -> str:
    [account] = [row for row in listed(sandbox, "Account") if row["Name"] == name]
    return str(account["Id"])


async def add_quickbooks(
    database: Database, settings: Settings, sandbox: RunningSandbox, tenant_id: uuid.UUID
) -> uuid.UUID:
    """A QuickBooks destination as the connect flow leaves one: tokens of a real grant, the company's realm id, and
    the opt-in to record in QuickBooks the reports Fyle reimbursed, paid from the company's checking account."""
    vault = CredentialVault(settings.vault_key_list())
    destination_id = uuid.uuid4()
    async with database.tenant_session(tenant_id) as session:
        session.add(
            Connection(
                id=destination_id,
                tenant_id=tenant_id,
                name="quickbooks",
                provider="quickbooks",
                role=ConnectionRole.DESTINATION.value,
                credentials=vault.encrypt(sandbox_tokens(sandbox)),
                settings={
                    "realm_id": MAIN_REALM,
                    RECORD_SOURCE_PAYMENTS_SETTING: {"account": named(sandbox, BANK_ACCOUNT)},
                },
                webhook_key=secrets.token_hex(8),
            )
        )
    return destination_id


async def map_and_configure(
    database: Database, sandbox: RunningSandbox, source: FyleSource, destination_id: uuid.UUID
) -> ExportSettings:
    """What an admin does after the first import and pull: categories spread over the company's expense accounts,
    employees over its vendors in the home currency (a bill's currency must be its vendor's), then bills per report,
    a card purchase per card expense from the company card (card credits skipped), payments from the checking
    account."""
    expense_accounts = sorted(str(row["Id"]) for row in listed(sandbox, "Account") if row["AccountType"] == "Expense")
    vendors = sorted(
        str(row["Id"])
        for row in listed(sandbox, "Vendor")
        if row.get("Active", True) and (row.get("CurrencyRef") or {}).get("value", HOME_CURRENCY) == HOME_CURRENCY
    )
    assert len(expense_accounts) > 1 and len(vendors) > 1, (expense_accounts, vendors)
    export = ExportSettings.model_validate(
        {
            "reimbursable": {"export_type": "bill", "grouping": {"by": "report"}, "date": "last_spent"},
            "card": {"export_type": "charge_card_transaction", "grouping": {"by": "expense"}, "date": "spent"},
            "employee_as": "vendor",
            "defaults": {
                "charge_card_account": named(sandbox, CARD_ACCOUNT),
                "payment_account": named(sandbox, BANK_ACCOUNT),
            },
            # A card credit (a refund) totals below zero: nothing a purchase can post, so the admin keeps it out.
            "skip_rules": [
                {"name": "card credits", "conditions": [{"field": "amount", "operator": "less_than", "value": "0"}]}
            ],
        }
    )
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
                    MappingChange(
                        "category", value, "account", attributes["account", expense_accounts[n % len(expense_accounts)]]
                    )
                    for n, value in enumerate(categories)
                ),
                *(
                    MappingChange("employee", value, "vendor", attributes["vendor", vendors[n % len(vendors)]])
                    for n, value in enumerate(employees)
                ),
            ],
            vocabulary=QUICKBOOKS,
        )
        destination = await session.get(Connection, destination_id)
        assert destination is not None
        await save_settings(repository, destination=destination, settings=export, vocabulary=QUICKBOOKS)
    return export


def bill_payments_of(sandbox: RunningSandbox, bill_id: str) -> list[dict[str, Any]]:
    return [
        payment
        for payment in listed(sandbox, "BillPayment")
        if any(
            linked.get("TxnId") == bill_id for line in payment.get("Line", []) for linked in line.get("LinkedTxn", [])
        )
    ]


async def test_approved_fyle_expenses_become_quickbooks_bills_and_card_purchases_with_receipts_paid_both_ways(
    database: Database,
    product_settings: Settings,
    product_env: dict[str, str],
    sandbox: RunningSandbox,
    worker: Path,
) -> None:
    source = await make_source(database, product_settings, sandbox)
    destination_id = await add_quickbooks(database, product_settings, sandbox, source.tenant_id)
    for kind in ("import", "pull"):
        ran = sync(product_env, source.tenant_id, "--kind", kind)
        assert ran.returncode == 0, ran.stdout + ran.stderr + tail(worker)
    await map_and_configure(database, sandbox, source, destination_id)

    synced = sync(product_env, source.tenant_id)
    assert synced.returncode == 0, synced.stdout + synced.stderr + tail(worker)
    items = await exported_items(database, source.tenant_id, destination_id)
    assert items and {item.state for item in items} == {"succeeded"}, {(i.state, i.error_message) for i in items}
    kinds = Counter(item.document_type for item in items)
    assert kinds["bill"] and kinds["charge_card_transaction"] and set(kinds) == set(OBJECTS), kinds

    # Every item is exactly one document of its kind, under its reference's DocNumber and holding the reference.
    documents = {name: listed(sandbox, name) for name in set(OBJECTS.values())}
    for item in items:
        name = OBJECTS[item.document_type]
        holding = [row for row in documents[name] if row.get("DocNumber") == doc_number(item.idempotency_key)]
        assert [row["Id"] for row in holding] == [item.remote_id], (item.idempotency_key, holding)
        assert item.idempotency_key in holding[0]["PrivateNote"]
    purchases = {row["Id"]: row for row in documents["Purchase"]}
    for item in items:
        if item.document_type == "charge_card_transaction":
            purchase = purchases[item.remote_id]
            assert purchase["PaymentType"] == "CreditCard"
            assert purchase["AccountRef"]["value"] == named(sandbox, CARD_ACCOUNT)

    # Receipts: each document's files as Attachables linked to it, once, with their bytes.
    attachables = listed(sandbox, "Attachable")
    linked: Counter[tuple[str, str]] = Counter(
        (ref["EntityRef"]["type"], ref["EntityRef"]["value"])
        for attachable in attachables
        for ref in attachable.get("AttachableRef", [])
    )
    with_receipts = [item for item in items if item.document and item.document.get("attachment_ids")]
    assert {item.document_type for item in with_receipts} == set(OBJECTS), "both kinds carry receipts"
    for item in with_receipts:
        assert item.document is not None and item.remote_id is not None
        assert linked[OBJECTS[item.document_type], item.remote_id] == len(item.document["attachment_ids"]), item.id
    with company(sandbox) as control:
        for attachable in attachables:
            stored = control.get(f"/attachments/{attachable['Id']}")
            stored.raise_for_status()
            assert stored.json()["file"]["size"] > 0, stored.json()

    # Written back: every exported expense's summary is COMPLETE in Fyle.
    exported = {
        source_id
        for item in items
        if item.document
        for line in item.document["lines"]
        for source_id in line["source_ids"]
    }
    complete = {
        entry["data"]["id"]
        for entry in fyle_writes(sandbox, "expense_export_summaries")
        if entry["data"]["state"] == "COMPLETE"
    }
    assert exported and exported <= complete

    # Payments back: one report's bill paid in QuickBooks, another report reimbursed in Fyle.
    records = [record.data for record in await source.records()]
    states = {str(row["report_id"]): row.get("report_state") for row in records if row.get("report_id")}
    single = [
        item
        for item in items
        if item.document_type == "bill"
        and len(reports := reports_of(records, item)) == 1
        and states[next(iter(reports))] == "APPROVED"
        and not bill_payments_of(sandbox, str(item.remote_id))
    ]
    assert len(single) >= 2, "the seed must have two approved reports exported as unpaid bills"
    paid_there, reimbursed_here = single[0], single[1]
    [paid_report] = reports_of(records, paid_there)
    [reimbursed_report] = reports_of(records, reimbursed_here)
    with company(sandbox) as control:
        control.post(f"/bills/{paid_there.remote_id}/paid", json={}).raise_for_status()
    move_report(sandbox, reimbursed_report, "PAID")
    payments_before = len(listed(sandbox, "BillPayment"))

    for _ in range(2):  # the second run finds nothing more to do
        again = sync(product_env, source.tenant_id)
        assert again.returncode == 0, again.stdout + again.stderr + tail(worker)
    marked = {entry["data"]["id"] for entry in fyle_writes(sandbox, "reports_mark_paid")}
    assert paid_report in marked, "the bill paid in QuickBooks marks its report paid in Fyle"
    assert reimbursed_report not in marked, "a report Fyle reimbursed itself is not marked again"
    [recorded] = bill_payments_of(sandbox, str(reimbursed_here.remote_id))
    assert recorded["CheckPayment"]["BankAccountRef"]["value"] == named(sandbox, BANK_ACCOUNT)
    with company(sandbox) as control:
        bill = control.get(f"/documents/Bill/{reimbursed_here.remote_id}").json()
    assert float(bill["Balance"]) == 0, bill
    assert len(bill_payments_of(sandbox, str(paid_there.remote_id))) == 1, "paid in QuickBooks, not paid again"
    assert len(listed(sandbox, "BillPayment")) == payments_before + 1, "one BillPayment recorded, once"
    settled = {item.id: item for item in await exported_items(database, source.tenant_id, destination_id)}
    assert settled[paid_there.id].paid_at is not None and settled[reimbursed_here.id].paid_at is not None

    # The books agree: every bill and card purchase read back, each expense once, for its amount.
    spent = sorted(date.fromisoformat(row["spent_on"]) for row in records)
    checked = books_check(product_env, destination_id, spent[0], spent[-1])
    assert checked.returncode == 0, checked.stdout + checked.stderr
    report = json.loads(checked.stdout)
    assert (report["clean"], report["difference_count"], report["documents"]) == (True, 0, len(items)), report
    assert report["expenses"] == len(exported), report
