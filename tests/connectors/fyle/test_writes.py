"""Write-backs: export summaries, mark-paid and dimensions, as Fyle keeps them, in batches, and safe to repeat."""

from typing import Any

import pytest

from connectors.fyle import FyleConnector
from connectors.fyle.writes import batches
from core.domain import DimensionValue, ExportOutcome, ExportStatus, RecordKind, SourceItem
from core.errors import Transient, ValidationError
from sandbox.fyle.constants import FYLE_SANDBOX_CLIENT_ID
from tests.connectors.conformance import inject
from tests.connectors.fyle.conftest import sandbox_counts, sandbox_writes
from tests.sandbox_fixtures import RunningSandbox

EXPORT_SUMMARY = "POST /platform/v1/admin/expenses/accounting_export_summary/bulk"
BILL_URL = "https://intacct.example/bill/{}"


async def expenses(connector: FyleConnector) -> list[SourceItem]:
    return [item async for item in connector.stream("expenses", since=None)]


async def listed(connector: FyleConnector, resource: str, names: list[str]) -> list[dict[str, Any]]:
    """What Fyle's own list answers for these names (read through the connector's authenticated client)."""
    quoted = ",".join(f'"{name}"' for name in names)
    answer = await connector.request(
        "GET", f"{connector.api}/admin/{resource}", idempotent=True, params={"name": f"in.({quoted})", "limit": 200}
    )
    rows: list[dict[str, Any]] = answer.json()["data"]
    return rows


def operations(sandbox: RunningSandbox, operation: str) -> int:
    with sandbox.control() as control:
        count: int = control.get("/requests", params={"system": "fyle", "operation": operation}).json()["count"]
    return count


async def test_export_statuses_become_fyle_export_summaries(connector: FyleConnector, sandbox: RunningSandbox) -> None:
    done, failed, skipped = (item.remote_id for item in (await expenses(connector))[:3])
    statuses = [
        ExportStatus(done, RecordKind.EXPENSE, ExportOutcome.COMPLETE, url=BILL_URL.format(1)),
        ExportStatus(failed, RecordKind.EXPENSE, ExportOutcome.ERROR, error="Vendor is inactive"),
        ExportStatus(skipped, RecordKind.EXPENSE, ExportOutcome.SKIPPED, url="https://ledgerline.example/items/3"),
    ]

    await connector.write_export_status(statuses)

    assert sandbox_writes(sandbox, "expense_export_summaries") == [
        {
            "id": done,
            "state": "COMPLETE",
            "error_type": None,
            "url": BILL_URL.format(1),
            "tpa_id": FYLE_SANDBOX_CLIENT_ID,
        },
        {
            "id": failed,
            "state": "ERROR",
            "error_type": "ACCOUNTING_INTEGRATION_ERROR",
            "url": "",
            "tpa_id": FYLE_SANDBOX_CLIENT_ID,
        },
        {
            "id": skipped,
            "state": "SKIPPED",
            "error_type": None,
            "url": "https://ledgerline.example/items/3",
            "tpa_id": FYLE_SANDBOX_CLIENT_ID,
        },
    ]
    summaries = {item.remote_id: item.data["accounting_export_summary"] for item in await expenses(connector)}
    assert summaries[done]["state"] == "COMPLETE" and summaries[done]["url"] == BILL_URL.format(1)
    assert summaries[failed]["state"] == "ERROR"


async def test_a_write_whose_answer_is_lost_is_transient_and_safe_to_send_again(
    connector: FyleConnector, sandbox: RunningSandbox
) -> None:
    expense = (await expenses(connector))[0].remote_id
    status = ExportStatus(expense, RecordKind.EXPENSE, ExportOutcome.COMPLETE, url=BILL_URL.format(7))
    inject(sandbox, system="fyle", operation=EXPORT_SUMMARY, mode="commit_then_fail", status=502, times=1)

    with pytest.raises(Transient):
        await connector.write_export_status([status])
    await connector.write_export_status([status])

    written = sandbox_writes(sandbox, "expense_export_summaries")
    assert [row["id"] for row in written] == [expense, expense]  # applied twice, to the same effect
    summaries = {item.remote_id: item.data["accounting_export_summary"] for item in await expenses(connector)}
    assert summaries[expense]["state"] == "COMPLETE"


async def test_a_refused_bulk_write_carries_fyles_message(connector: FyleConnector) -> None:
    status = ExportStatus("txNoSuchThing", RecordKind.EXPENSE, ExportOutcome.COMPLETE, url=BILL_URL.format(1))

    with pytest.raises(ValidationError) as raised:
        await connector.write_export_status([status])

    assert raised.value.provider_code == "BulkError"
    assert "expense txNoSuchThing not found" in raised.value.message


async def test_an_export_status_for_a_report_is_refused_before_any_call(connector: FyleConnector) -> None:
    status = ExportStatus("rpOne", RecordKind.REPORT, ExportOutcome.COMPLETE, url=BILL_URL.format(1))

    with pytest.raises(ValueError, match="per expense"):
        await connector.write_export_status([status])


async def test_mark_paid_pays_the_reports_and_a_repeat_is_harmless(
    connector: FyleConnector, sandbox: RunningSandbox
) -> None:
    reports = [item async for item in connector.stream("reports", since=None)]
    payable = [item.remote_id for item in reports if item.state == "PAYMENT_PROCESSING"][:2]
    cursor = reports[-1].updated_at
    assert payable

    await connector.mark_paid(payable)
    await connector.mark_paid(payable)

    assert [row["id"] for row in sandbox_writes(sandbox, "reports_mark_paid")] == [*payable, *payable]
    changed = {item.remote_id: item.state async for item in connector.stream("reports", since=cursor)}
    assert {report_id: changed.get(report_id) for report_id in payable} == dict.fromkeys(payable, "PAID")


@pytest.mark.parametrize("resource", ["categories", "projects", "cost_centers"])
async def test_pushed_dimensions_are_listed_by_fyle(connector: FyleConnector, resource: str) -> None:
    values = [
        DimensionValue("account", "6100", "Ledgerline Travel", active=True, code="6100-TRV"),
        DimensionValue("account", "6200", "Ledgerline Meals", active=False),
    ]

    await connector.push_dimensions(resource, values)

    rows = await listed(connector, resource, [value.name for value in values])
    assert sorted((row["name"], row["code"], row["is_enabled"]) for row in rows) == [
        ("Ledgerline Meals", "6200", False),
        ("Ledgerline Travel", "6100-TRV", True),
    ]


async def test_dimensions_go_in_batches_and_a_repeat_creates_nothing(
    connector: FyleConnector, sandbox: RunningSandbox
) -> None:
    batch_size = connector.spec.batch_size
    values = [DimensionValue("account", str(n), f"Account {n}", active=True) for n in range(2 * batch_size + 50)]
    before = sandbox_counts(sandbox)["categories"]

    await connector.push_dimensions("categories", values)
    await connector.push_dimensions("categories", values)

    assert operations(sandbox, "POST /platform/v1/admin/categories/bulk") == 2 * 3
    assert sandbox_counts(sandbox)["categories"] == before + len(values)


async def test_an_unknown_dimension_is_refused(connector: FyleConnector) -> None:
    with pytest.raises(ValueError, match="takes no 'vendors'"):
        await connector.push_dimensions("vendors", [])


def test_batches_cut_rows_without_losing_any() -> None:
    rows = [{"id": n} for n in range(5)]

    assert list(batches(rows, 2)) == [[{"id": 0}, {"id": 1}], [{"id": 2}, {"id": 3}], [{"id": 4}]]
    assert list(batches([], 2)) == []
