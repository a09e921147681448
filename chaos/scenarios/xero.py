"""Fyle → Xero under commit-then-fail, a 429 storm and a worker SIGKILL loop at once (issue 21).

The run is a full sync (import, pull, group, export, write back, payments) of reimbursable expenses as ACCPAY bills
per report and card expenses as SPEND bank transactions, with reports Fyle has already reimbursed recorded in Xero as
Payments from the organisation's bank account. While it runs:

- every Xero write path is applied by the simulator and then answered 503 (`commit_then_fail`): `PUT Invoices`,
  `PUT BankTransactions`, the receipts' `PUT …/Attachments/…` and `PUT Payments`; each lost answer must be adopted
  through the Idempotency-Key or the lookup by InvoiceNumber/Reference, never sent as a second document;
- once the first document is exported, a storm of 429s with Retry-After on every Xero call (`rate_limit`), which
  must defer the connection's work, not burn attempts or lose items;
- `KILLS` worker SIGKILLs paced over the export (`chaos.kills`).

Counted from the simulators alone: a reference twice or an expense in two documents (duplicates), an exportable
expense in no document (missing), and here also a bill with two payments or a reimbursed report's bill with none, and
a document with fewer or more files attached than its expenses carry receipts.
"""

import time
from collections import Counter
from decimal import Decimal
from typing import Any

import httpx

from bench.destinations import (
    XERO,
    XERO_BANK_ACCOUNT,
    XERO_CARD_ACCOUNT,
    XERO_CONTROL_PATH,
    XERO_GONE,
    xero_account,
    xero_listed,
)
from bench.e2e_setup import fyle_grant, fyle_listing
from chaos.constants import (
    CONTROL_TIMEOUT_SECONDS,
    KILL_SEED,
    KILLS,
    RATE_LIMIT_RETRY_AFTER,
    WORKERS,
    XERO_DEADLINE_SECONDS,
    XERO_EXPENSES,
    XERO_REIMBURSED_EXPENSES,
    XERO_STORM_CALLS,
)
from chaos.counting import CENT, exportable
from chaos.faults import Armed, arm, budgeted, disarm, hold
from chaos.kills import paced_kills
from chaos.scenario import Injected, Options, Scenario
from chaos.world import CHAOS_SETTINGS, World, configure_destination
from mappings.constants import DEFAULT_EXPORTABLE_STATES
from mappings.settings import ExportSettings
from sandbox.constants import CONTROL_PREFIX
from sync.constants import RECORD_SOURCE_PAYMENTS_SETTING
from sync.runs import RunKind

SYSTEM = {"system": XERO}
WRITES = {
    "bills": "PUT Invoices",
    "spend money": "PUT BankTransactions",
    "receipts": "PUT */{id}/Attachments",
    "payments": "PUT Payments",
}
"""The simulator's operation names of the export's writes (receipts: a glob over both kinds), by what they carry."""
COMMIT_THEN_FAIL: list[dict[str, Any]] = [
    fault
    for operation in WRITES.values()
    for fault in budgeted(SYSTEM | {"mode": "commit_then_fail", "status": 503, "operation": operation})
]
STORM: dict[str, Any] = SYSTEM | {
    "mode": "rate_limit",
    "retry_after": RATE_LIMIT_RETRY_AFTER,
    "operation": "*",
    "times": XERO_STORM_CALLS,
}
XERO_ID_FIELDS = {"Invoices": "InvoiceID", "BankTransactions": "BankTransactionID"}
"""The collections the export creates in, and the field holding each document's id (its attachments' `document_id`)."""
CARD_CREDITS = {"name": "card credits", "conditions": [{"field": "amount", "operator": "less_than", "value": "0"}]}
"""A card credit (a refund) totals below zero: nothing a spend-money transaction can post, so it is kept out."""


def xero_settings(url: str) -> ExportSettings:
    """Bills per report (lines naming their expense, as every chaos tenant's) and a spend-money transaction per card
    expense from the organisation's credit card."""
    return ExportSettings.model_validate(
        CHAOS_SETTINGS.model_dump(mode="json", exclude_none=True)
        | {
            "card": {"export_type": "charge_card_transaction", "grouping": {"by": "expense"}, "date": "spent"},
            "defaults": {"charge_card_account": xero_account(url, XERO_CARD_ACCOUNT)},
            "skip_rules": [CARD_CREDITS],
        }
    )


def exported(expense: dict[str, Any]) -> bool:
    """Reimbursable expenses as the other scenarios count them, and card expenses above zero (credits skipped)."""
    if expense.get("is_reimbursable"):
        return exportable(expense)
    amount = Decimal(str(expense.get("amount") or 0)).quantize(CENT)
    return expense.get("state") in DEFAULT_EXPORTABLE_STATES and amount > 0


def fired_by_write(armed: list[Armed], fired: list[int]) -> dict[str, int]:
    names = {operation: name for name, operation in WRITES.items()}
    totals: dict[str, int] = {}
    for fault, count in zip(armed, fired, strict=True):
        name = names.get(fault.spec["operation"], "429 storm")
        totals[name] = totals.get(name, 0) + count
    return totals


async def payment_counts(world: World) -> tuple[int, int, int]:
    """(payments, bills paid more than once counted beyond the first, bills of reports Fyle paid with no payment)."""
    payments = [row for row in xero_listed(world.sandbox_url, "Payments") if row.get("Status") != "DELETED"]
    bills = xero_listed(world.sandbox_url, "Invoices")
    tokens, _ = fyle_grant(world.sandbox_url)
    expenses = fyle_listing(world.sandbox_url, tokens["access_token"], "expenses")
    paid_in_fyle = {str(row["id"]) for row in expenses if row.get("state") == "PAID" and row.get("is_reimbursable")}
    per_bill = Counter(str((payment.get("Invoice") or {}).get("InvoiceID")) for payment in payments)
    owed = {
        str(bill["InvoiceID"])
        for bill in bills
        if bill.get("Status") not in XERO_GONE
        and paid_in_fyle & {str(line.get("Description")) for line in bill.get("LineItems", [])}
    }
    return len(payments), sum(count - 1 for count in per_bill.values()), len(owed - per_bill.keys())


def receipt_counts(world: World) -> tuple[int, int, int]:
    """(receipts the exported expenses carry, documents with fewer files attached than their expenses' receipts,
    documents with more): a receipt lost, or attached twice, under the faults. Read from the simulators alone."""
    tokens, _ = fyle_grant(world.sandbox_url)
    files = {
        str(row["id"]): len(row.get("file_ids") or [])
        for row in fyle_listing(world.sandbox_url, tokens["access_token"], "expenses")
    }
    with httpx.Client(base_url=f"{world.sandbox_url}{CONTROL_PREFIX}", timeout=CONTROL_TIMEOUT_SECONDS) as control:
        listed = control.get(f"{XERO_CONTROL_PATH}/attachments")
    listed.raise_for_status()
    attached = Counter(str(row["document_id"]) for row in listed.json()["items"])
    wanted, short, over = 0, 0, 0
    for collection, id_field in XERO_ID_FIELDS.items():
        for document in xero_listed(world.sandbox_url, collection):
            if document.get("Status") in XERO_GONE:
                continue
            expected = sum(files.get(str(line.get("Description")), 0) for line in document.get("LineItems", []))
            found = attached[str(document[id_field])]
            wanted += expected
            short += int(found < expected)
            over += int(found > expected)
    return wanted, short, over


async def storm_once_exporting(world: World, control: httpx.AsyncClient) -> list[Armed]:
    """The 429 storm, armed once the first document is exported so it strikes the export rather than the import."""
    await world.wait_for_export()
    return await arm(control, [STORM])


async def act(world: World, options: Options) -> Injected:
    bank = xero_account(world.sandbox_url, XERO_BANK_ACCOUNT)
    settings = xero_settings(world.sandbox_url)
    await configure_destination(world, export=settings, **{RECORD_SOURCE_PAYMENTS_SETTING: {"account": bank}})
    async with httpx.AsyncClient(base_url=world.control().base_url, timeout=CONTROL_TIMEOUT_SECONDS) as control:
        reimbursed = await control.post(
            "/fyle/generate", json={"expenses": XERO_REIMBURSED_EXPENSES, "state": "PAID", "per_report": 1}
        )
        reimbursed.raise_for_status()
        armed = await arm(control, COMMIT_THEN_FAIL)
        await world.start_workers(WORKERS)
        await world.start_run(RunKind.SYNC)
        armed += await storm_once_exporting(world, control)
        kills = await paced_kills(world, kills=KILLS, seed=KILL_SEED, deadline_seconds=XERO_DEADLINE_SECONDS)
        # Held for the whole run, not the usual window: the payments phase comes minutes after the first export.
        await hold(world, control, armed, window_seconds=XERO_DEADLINE_SECONDS)
        fired = fired_by_write(armed, await disarm(control, armed))
    fault_end = time.monotonic()
    recovery = await world.recover(fault_end, XERO_DEADLINE_SECONDS)
    payments, paid_twice, unpaid = await payment_counts(world)
    receipts, without_receipts, receipts_twice = receipt_counts(world)
    problems = kills.problems() + [f"{name} never fired" for name, count in fired.items() if not count]
    if paid_twice:
        problems.append(f"{paid_twice} payments beyond the first on a bill")
    if unpaid:
        problems.append(f"{unpaid} bills of reports Fyle reimbursed have no payment in Xero")
    if without_receipts:
        problems.append(f"{without_receipts} documents lack receipts their expenses carry")
    if receipts_twice:
        problems.append(f"{receipts_twice} documents have a receipt attached twice")
    return Injected(
        recovery,
        {
            "fired": fired,
            "kills": kills.landed,
            "succeeded_at_kills": kills.succeeded_at,
            "payments": payments,
            "paid_twice": paid_twice,
            "unpaid": unpaid,
            "receipts": receipts,
        },
        problems=problems,
    )


SCENARIO = Scenario(
    name="xero: commit-then-fail + 429 storm + SIGKILL loop",
    fault=f"Xero commit_then_fail on {', '.join(WRITES.values())} + a storm of {XERO_STORM_CALLS} 429s "
    f"(Retry-After {RATE_LIMIT_RETRY_AFTER} s) + {KILLS} SIGKILLs of {WORKERS} workers paced over the export",
    act=act,
    expenses=XERO_EXPENSES,
    destination=XERO,
    exportable=exported,
)

__all__ = ["SCENARIO"]
