"""The chaos counters read QuickBooks too: fed the QuickBooks simulator holding a bill sent twice under one DocNumber
(its duplicate check turned off, as a company may), an expense in a bill and a card purchase, and expenses never sent,
they report each one."""

from typing import Any

import httpx

from bench.destinations import QUICKBOOKS_DESTINATION, quickbooks_account, quickbooks_tokens
from bench.e2e_setup import fyle_grant, fyle_listing
from chaos.counting import exportable, tally_sandbox
from sandbox.quickbooks.constants import MAIN_REALM
from tests.sandbox_fixtures import RunningSandbox


def create(url: str, token: str, entity: str, body: dict[str, Any]) -> None:
    answer = httpx.post(
        f"{url}/quickbooks/v3/company/{MAIN_REALM}/{entity.lower()}",
        params={"minorversion": "75"},
        json=body,
        headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text


def lines(account: str, expense_ids: list[str]) -> list[dict[str, Any]]:
    """Lines naming their expenses, as the chaos tenant's memo template makes them."""
    return [
        {
            "Amount": 1.0,
            "DetailType": "AccountBasedExpenseLineDetail",
            "Description": expense_id,
            "AccountBasedExpenseLineDetail": {"AccountRef": {"value": account}},
        }
        for expense_id in expense_ids
    ]


def allow_duplicate_doc_numbers(url: str) -> None:
    with httpx.Client(base_url=f"{url}/_sandbox/quickbooks", timeout=30) as control:
        control.put(f"/realms/{MAIN_REALM}/preferences", json={"duplicate_doc_number_check": False}).raise_for_status()


async def test_the_counters_see_quickbooks_duplicates_a_shared_expense_and_the_missing_ones(
    sandbox: RunningSandbox,
) -> None:
    tokens, _ = fyle_grant(sandbox.url)
    wanted = [row["id"] for row in fyle_listing(sandbox.url, tokens["access_token"], "expenses") if exportable(row)]
    assert len(wanted) > 10
    token = quickbooks_tokens(sandbox.url)["access_token"]
    travel, card = quickbooks_account(sandbox.url, "Travel"), quickbooks_account(sandbox.url, "Corporate Visa")
    vendor = QUICKBOOKS_DESTINATION.vendor(sandbox.url)
    assert vendor is not None

    def bill(doc_number: str, expense_ids: list[str]) -> dict[str, Any]:
        return {"VendorRef": {"value": vendor}, "DocNumber": doc_number, "Line": lines(travel, expense_ids)}

    create(sandbox.url, token, "Bill", bill("chaos-1", wanted[:-3]))
    clean = await tally_sandbox(sandbox.url, QUICKBOOKS_DESTINATION)
    assert (clean.expenses, clean.duplicates, clean.missing) == (len(wanted), 0, 3)
    seeded = clean.documents

    allow_duplicate_doc_numbers(sandbox.url)
    create(sandbox.url, token, "Bill", bill("chaos-1", wanted[:2]))  # the same DocNumber again: one bill too many
    purchase = {
        "PaymentType": "CreditCard",
        "AccountRef": {"value": card},
        "DocNumber": "chaos-2",
        "Line": lines(travel, [wanted[5]]),  # an expense already in chaos-1
    }
    create(sandbox.url, token, "Purchase", purchase)
    broken = await tally_sandbox(sandbox.url, QUICKBOOKS_DESTINATION)
    assert (broken.documents - seeded, broken.duplicates, broken.missing) == (2, 2, 3)
