"""Traceability and the books check (issue 17, point 6), against PostgreSQL and the Intacct simulator over HTTP.

Every line Intacct stores names its source expense, every bill header its report and its item reference; the books
check compares the source's exportable expenses with the bills by those references and names each difference."""

import json
import subprocess
from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy import select

from core.db import Database
from core.domain import Document, DocumentKind, DocumentLine
from core.models import ExportItem
from core.settings import Settings
from sync.books_check import BooksReport, check_books
from sync.export_engine import ExportEngine
from tests.api.test_connecting import api, connecting_app  # noqa: F401 - the connecting tests' fixtures, reused here
from tests.conftest import LEDGERLINE_CLI, TenantFixture, settings_env
from tests.sandbox_fixtures import RunningSandbox
from tests.sync.conftest import Books, sandbox_settings
from tests.sync.intacct_bills import bills

SINCE, UNTIL = date(2024, 3, 1), date(2024, 3, 31)
EXPENSE_IDS = {f"tx-{report}-{n}" for report in ("rp-a", "rp-b", "rp-c") for n in range(2)}


async def _export(database: Database, books: Books) -> None:
    """Export the three reports as three bills."""
    report = await ExportEngine(database, owner="w1").run_batch(
        books.connector, tenant_id=books.tenant.id, connection_id=books.destination_id
    )
    assert report.succeeded == 3


async def _check(database: Database, books: Books) -> BooksReport:
    return await check_books(
        database=database,
        connector=books.connector,
        tenant_id=books.tenant.id,
        connection_id=books.destination_id,
        since=SINCE,
        until=UNTIL,
    )


def _bill_of(sandbox: RunningSandbox, expense_id: str) -> dict[str, Any]:
    [bill] = [bill for bill in bills(sandbox) if any(expense_id in line["ENTRYDESCRIPTION"] for line in bill["lines"])]
    return bill


async def _spoil_the_books(books: Books, sandbox: RunningSandbox) -> None:
    """rp-a's bill deleted; a person's own bill for tx-rp-b-0 besides ours; rp-c's bill re-entered for 10.00 less."""
    with sandbox.control() as control:
        control.delete(f"/intacct/documents/APBILL/{_bill_of(sandbox, 'tx-rp-a-0')['RECORDNO']}").raise_for_status()
        rp_c = _bill_of(sandbox, "tx-rp-c-0")
        control.delete(f"/intacct/documents/APBILL/{rp_c['RECORDNO']}").raise_for_status()
    line = DocumentLine(amount=Decimal("42.50"), account="70004", description="Taxi tx-rp-b-0 entered by hand")
    by_hand = Document(
        kind=DocumentKind.BILL,
        reference="AP-BY-HAND-1",
        transaction_date=date(2024, 3, 20),
        currency="USD",
        lines=(line,),
        counterparty="V00004",
    )
    re_entered = replace(
        by_hand,
        reference=rp_c["RECORDID"],
        generation=1,
        lines=tuple(
            DocumentLine(
                amount=Decimal(stored["TRX_AMOUNT"]) - (Decimal("10.00") if number == 0 else Decimal(0)),
                account="70004",
                description=stored["ENTRYDESCRIPTION"],
            )
            for number, stored in enumerate(rp_c["lines"])
        ),
    )
    outcomes = await books.connector.push([by_hand, re_entered])
    assert not any(isinstance(outcome, Exception) for outcome in outcomes), outcomes


async def test_every_stored_bill_line_names_its_expense_and_the_header_its_report_and_reference(
    database: Database, books: Books, sandbox: RunningSandbox
) -> None:
    await _export(database, books)
    async with database.tenant_session(books.tenant.id) as session:
        items = (await session.scalars(select(ExportItem))).all()
    stored = {bill["RECORDID"]: bill for bill in bills(sandbox)}
    assert set(stored) == {item.idempotency_key for item in items}
    named: set[str] = set()
    for item in items:
        bill = stored[item.idempotency_key]
        assert item.idempotency_key.startswith("ll-")
        report_id = item.group_key.split("report=")[1].split(";")[0]
        assert report_id in bill["DESCRIPTION"], bill["DESCRIPTION"]
        for line in bill["lines"]:
            [expense_id] = [word for word in EXPENSE_IDS if word in line["ENTRYDESCRIPTION"].split()]
            assert expense_id.startswith(f"tx-{report_id}-")
            named.add(expense_id)
    assert named == EXPENSE_IDS


async def test_the_books_agree_after_a_clean_export(database: Database, books: Books, sandbox: RunningSandbox) -> None:
    await _export(database, books)
    report = await _check(database, books)
    assert report.clean, report
    assert (report.expenses, report.documents) == (6, 3)
    [usd] = report.currencies
    assert (usd.currency, usd.source, usd.booked, usd.difference) == ("USD", Decimal("255.00"), Decimal("255.00"), 0)


async def test_a_deleted_a_duplicated_and_a_changed_bill_are_each_reported(
    database: Database, books: Books, sandbox: RunningSandbox
) -> None:
    await _export(database, books)
    await _spoil_the_books(books, sandbox)
    report = await _check(database, books)
    assert not report.clean
    assert sorted(missing.expense_id for missing in report.missing) == ["tx-rp-a-0", "tx-rp-a-1"]
    assert all(missing.reference and missing.reference.startswith("ll-") for missing in report.missing)
    [duplicated] = report.duplicated
    assert duplicated.expense_id == "tx-rp-b-0"
    assert "AP-BY-HAND-1" in duplicated.references and len(duplicated.references) == 2
    [changed] = report.differences
    assert (changed.expense_id, changed.currency) == ("tx-rp-c-0", "USD")
    assert changed.source - changed.booked == Decimal("10.00")
    [usd] = report.currencies
    # 255.00 expected; 85.00 of rp-a missing, 42.50 of tx-rp-b-0 twice, 10.00 less on rp-c.
    assert (usd.source, usd.booked, usd.difference) == (Decimal("255.00"), Decimal("202.50"), Decimal("-52.50"))


async def test_the_cli_exits_1_on_any_difference_and_0_on_none(
    database: Database, books: Books, sandbox: RunningSandbox, settings: Settings
) -> None:
    await _export(database, books)
    configured = sandbox_settings(settings, sandbox)
    args = ("books", "check", "--connection", str(books.destination_id), "--from", "2024-03-01", "--to", "2024-03-31")
    agreed = _run(configured, *args)
    assert agreed.returncode == 0, agreed.stdout + agreed.stderr
    assert "0 differences" in agreed.stdout
    await _spoil_the_books(books, sandbox)
    differs = _run(configured, *args)
    assert differs.returncode == 1, differs.stdout + differs.stderr
    for expected in ("tx-rp-a-0", "tx-rp-a-1", "tx-rp-b-0", "AP-BY-HAND-1", "tx-rp-c-0", "-52.50"):
        assert expected in differs.stdout, differs.stdout
    as_json = json.loads(_run(configured, *args, "--json").stdout)
    assert as_json["clean"] is False and len(as_json["missing"]) == 2


def _run(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    """`ledgerline …` in a process that reaches the sandbox with Ledgerline's sandbox sender credentials."""
    apps = {
        system: {name: value.get_secret_value() for name, value in app.items()}
        for system, app in settings.connector_apps.items()
    }
    env = {
        **settings_env(settings),
        "LEDGERLINE_SANDBOX_URL": settings.sandbox_url or "",
        "LEDGERLINE_CONNECTOR_APPS": json.dumps(apps),
        "COLUMNS": "200",
    }
    return subprocess.run([LEDGERLINE_CLI, *args], env=env, capture_output=True, text=True, timeout=60)


async def test_the_api_answers_the_same_and_hides_other_tenants_connections(
    database: Database,
    books: Books,
    sandbox: RunningSandbox,
    api: httpx.AsyncClient,  # noqa: F811 - the fixture imported above
    other_tenant: TenantFixture,
) -> None:
    await _export(database, books)
    await _spoil_the_books(books, sandbox)
    path = f"/v1/connections/{books.destination_id}/reconciliation"
    query = {"from": "2024-03-01", "to": "2024-03-31"}
    answered = await api.get(path, params=query, headers=books.tenant.headers)
    assert answered.status_code == 200, answered.text
    body = answered.json()
    assert body["clean"] is False
    assert sorted(missing["expense_id"] for missing in body["missing"]) == ["tx-rp-a-0", "tx-rp-a-1"]
    assert [duplicated["expense_id"] for duplicated in body["duplicated"]] == ["tx-rp-b-0"]
    assert [changed["expense_id"] for changed in body["differences"]] == ["tx-rp-c-0"]
    assert body["currencies"] == [{"currency": "USD", "source": "255.00", "booked": "202.50", "difference": "-52.50"}]
    hidden = await api.get(path, params=query, headers=other_tenant.headers)
    assert hidden.status_code == 404 and hidden.headers["content-type"] == "application/problem+json"
    backwards = await api.get(path, params={"from": "2024-03-31", "to": "2024-03-01"}, headers=books.tenant.headers)
    assert backwards.status_code == 422 and backwards.headers["content-type"] == "application/problem+json"
    garbled = await api.get(path, params={"from": "March"}, headers=books.tenant.headers)
    assert garbled.status_code == 422


async def test_an_export_item_lists_its_reference_report_and_expense_per_line(
    database: Database,
    books: Books,
    sandbox: RunningSandbox,
    api: httpx.AsyncClient,  # noqa: F811 - the fixture imported above
) -> None:
    await _export(database, books)
    async with database.tenant_session(books.tenant.id) as session:
        item = (await session.scalars(select(ExportItem).where(ExportItem.group_key.contains("report=rp-b")))).one()
    detail = await api.get(f"/v1/export-items/{item.id}", headers=books.tenant.headers)
    assert detail.status_code == 200, detail.text
    trace = detail.json()["trace"]
    assert trace["reference"] == item.idempotency_key
    assert trace["report_ids"] == ["rp-b"]
    assert [line["expense_ids"] for line in trace["lines"]] == [["tx-rp-b-0"], ["tx-rp-b-1"]]
    assert [line["amount"] for line in trace["lines"]] == ["42.50", "42.50"]
