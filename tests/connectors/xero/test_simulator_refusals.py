"""What the Xero simulator refuses, as the connector names it: lock dates (PeriodClosed from the first open day), the
minute's and the day's limits (RateLimited, the day's until it returns), an organisation disconnected from the app
(AuthError), a write that committed then failed whose lookup fails too (unknown, then adopted), and the organisations
one consent covers."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest

from connectors.xero import XeroConnector
from core.domain import RemoteDocument
from core.errors import AuthError, OutcomeUnknown, PeriodClosed, RateLimited
from sandbox.xero.constants import MAIN_TENANT, UK_TENANT
from tests.connectors.conformance import inject
from tests.connectors.xero.conftest import XeroWorld, bill_of


def control(world: XeroWorld, method: str, path: str, body: dict[str, Any]) -> None:
    with httpx.Client(base_url=f"{world.sandbox.url}/_sandbox/xero", timeout=30) as client:
        client.request(method, path, json=body).raise_for_status()


async def test_a_date_before_the_lock_dates_is_period_closed_from_the_first_open_day(
    connector: XeroConnector, world: XeroWorld
) -> None:
    today = date.today()
    lock = {"period_lock_date": (today - timedelta(days=5)).isoformat(), "end_of_year_lock_date": None}
    control(world, "PUT", f"/organisations/{MAIN_TENANT}/lock_dates", lock)
    refused_on = today - timedelta(days=9)
    outcomes = await connector.push(
        [bill_of(world.seeded, "sim-lock-1", transaction_date=refused_on), bill_of(world.seeded, "sim-lock-2")]
    )
    closed, created = outcomes
    assert isinstance(closed, PeriodClosed), closed
    assert closed.closed_on == refused_on and closed.first_open_day == today - timedelta(days=4)
    assert not closed.retriable
    assert isinstance(created, RemoteDocument)


async def test_the_minute_limit_and_the_day_limit_say_different_retry_times(
    connector: XeroConnector, world: XeroWorld
) -> None:
    control(world, "PUT", f"/organisations/{MAIN_TENANT}/limits", {"per_minute": 1, "per_day": 5000})
    with pytest.raises(RateLimited) as minute:
        for _ in range(3):
            await connector.check()
    assert minute.value.code != "day_limit" and minute.value.retry_at is not None
    assert minute.value.retry_at - datetime.now(UTC) <= timedelta(seconds=61)

    control(world, "PUT", f"/organisations/{MAIN_TENANT}/limits", {"per_minute": 600, "per_day": 6})
    with pytest.raises(RateLimited) as day:
        for _ in range(8):
            await connector.check()
    assert day.value.code == "day_limit" and day.value.retry_at is not None
    assert day.value.retry_at - datetime.now(UTC) > timedelta(minutes=5)


async def test_an_organisation_disconnected_from_the_app_needs_reconnecting(
    connector: XeroConnector, world: XeroWorld
) -> None:
    headers = {"Authorization": f"Bearer {world.tokens['access_token']}"}
    async with httpx.AsyncClient(base_url=f"{world.sandbox.url}/xero", headers=headers, timeout=10) as xero:
        listed = (await xero.get("/connections")).json()
        [main] = [row for row in listed if row["tenantId"] == MAIN_TENANT]
        (await xero.delete(f"/connections/{main['id']}")).raise_for_status()
    with pytest.raises(AuthError) as raised:
        await connector.check()
    assert raised.value.provider_code == "403" and "organisation" in raised.value.message


async def test_a_consent_covering_two_organisations_offers_both(connector: XeroConnector) -> None:
    accounts = await connector.authorized_accounts({})
    assert {account.account_id for account in accounts} == {MAIN_TENANT, UK_TENANT}
    assert all(account.name and account.settings == {"tenant_id": account.account_id} for account in accounts)


async def test_a_commit_then_fail_whose_lookup_fails_stays_unknown_then_is_adopted(
    connector: XeroConnector, world: XeroWorld
) -> None:
    inject(world.sandbox, system="xero", operation="PUT Invoices", mode="commit_then_fail", status=502, times=1)
    inject(world.sandbox, system="xero", operation="GET Invoices", mode="error", status=503, times=1)
    document = bill_of(world.seeded, "sim-ctf-1", lines=bill_of(world.seeded, "x").lines[:1])
    [outcome] = await connector.push([document])
    assert isinstance(outcome, OutcomeUnknown), outcome
    found = await connector.find_by_reference(document.kind, document.reference)
    assert found is not None and found.adopted
    rows = world.get("/Invoices", InvoiceNumbers="sim-ctf-1")["Invoices"]
    assert len(rows) == 1 and Decimal(str(rows[0]["Total"])) == Decimal("120.50")
