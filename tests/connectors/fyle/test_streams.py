"""Streams: what a `SourceItem` carries, the order, the paging, and changes coming back incrementally."""

import math
from datetime import datetime

import pytest

from connectors.fyle import FyleConnector
from core.domain import RecordKind
from core.errors import Transient
from tests.connectors.conformance import inject
from tests.connectors.fyle.conftest import sandbox_counts
from tests.sandbox_fixtures import RunningSandbox

EXPENSE_LIST = "GET /platform/v1/admin/expenses"


def list_requests(sandbox: RunningSandbox, operation: str) -> int:
    with sandbox.control() as control:
        count: int = control.get("/requests", params={"system": "fyle", "operation": operation}).json()["count"]
    return count


async def test_an_expense_item_carries_its_report_state_and_the_raw_fyle_object(connector: FyleConnector) -> None:
    items = [item async for item in connector.stream("expenses", since=None)]

    assert all(item.kind is RecordKind.EXPENSE for item in items)
    assert all(item.updated_at.tzinfo is not None for item in items)
    assert all(item.remote_id == item.data["id"] and item.state == item.data["state"] for item in items)
    assert all(item.parent_remote_id == item.data["report_id"] for item in items)
    assert any(item.parent_remote_id is None for item in items)  # unreported expenses exist
    # Card or reimbursable is `source_account->type` in Fyle's own JSON; the raw object keeps it.
    card_or_cash = {item.data["source_account"]["type"] for item in items}
    assert card_or_cash == {"PERSONAL_CASH_ACCOUNT", "PERSONAL_CORPORATE_CREDIT_CARD_ACCOUNT"}


async def test_reports_and_employees_have_no_parent(connector: FyleConnector) -> None:
    reports = [item async for item in connector.stream("reports", since=None)]
    employees = [item async for item in connector.stream("employees", since=None)]

    assert {item.kind for item in reports} == {RecordKind.REPORT}
    assert {item.kind for item in employees} == {RecordKind.EMPLOYEE}
    assert all(item.parent_remote_id is None for item in [*reports, *employees])
    assert all(item.state for item in reports)


async def test_a_stream_comes_oldest_first(connector: FyleConnector) -> None:
    items = [item async for item in connector.stream("expenses", since=None)]

    keys = [(item.updated_at, item.remote_id) for item in items]
    assert keys == sorted(keys)


async def test_a_long_stream_is_read_in_full_pages_of_the_spec_size(
    connector: FyleConnector, sandbox: RunningSandbox
) -> None:
    with sandbox.control() as control:
        control.post("/fyle/generate", json={"expenses": 450}).raise_for_status()
    total = sandbox_counts(sandbox)["expenses"]
    before = list_requests(sandbox, EXPENSE_LIST)

    ids = [item.remote_id async for item in connector.stream("expenses", since=None)]

    assert len(ids) == len(set(ids)) == total
    assert list_requests(sandbox, EXPENSE_LIST) - before == math.ceil(total / connector.spec.pagination.page_size)


async def test_a_report_moved_after_the_cursor_comes_back_with_its_expenses(
    connector: FyleConnector, sandbox: RunningSandbox
) -> None:
    reports = [item async for item in connector.stream("reports", since=None)]
    expenses = [item async for item in connector.stream("expenses", since=None)]
    report_cursor, expense_cursor = reports[-1].updated_at, expenses[-1].updated_at
    approved = next(item for item in reports if item.state == "APPROVED")
    with sandbox.control() as control:
        moving = control.post(f"/fyle/reports/{approved.remote_id}/state", json={"state": "PAYMENT_PROCESSING"})
        moving.raise_for_status()

    changed_reports = [item async for item in connector.stream("reports", since=report_cursor)]
    changed_expenses = [item async for item in connector.stream("expenses", since=expense_cursor)]

    moved = next(item for item in changed_reports if item.remote_id == approved.remote_id)
    assert moved.state == "PAYMENT_PROCESSING" and moved.updated_at > report_cursor
    moved_expenses = [item for item in changed_expenses if item.updated_at > expense_cursor]
    assert {item.parent_remote_id for item in moved_expenses} == {approved.remote_id}
    assert {item.state for item in moved_expenses} == {"PAYMENT_PROCESSING"}
    assert len(moved_expenses) == len([item for item in expenses if item.parent_remote_id == approved.remote_id])


async def test_an_unreadable_page_is_transient(connector: FyleConnector, sandbox: RunningSandbox) -> None:
    inject(sandbox, system="fyle", operation=EXPENSE_LIST, mode="malformed", times=1)

    with pytest.raises(Transient) as raised:
        [item async for item in connector.stream("expenses", since=None)]

    assert raised.value.code == "malformed_page"


async def test_an_unknown_stream_is_refused(connector: FyleConnector) -> None:
    with pytest.raises(ValueError, match="no stream 'advances'"):
        [item async for item in connector.stream("advances", since=None)]


async def test_a_cursor_without_a_timezone_is_refused(connector: FyleConnector) -> None:
    with pytest.raises(ValueError, match="timezone"):
        [item async for item in connector.stream("expenses", since=datetime(2024, 1, 1))]


async def test_an_update_during_the_stream_makes_no_record_skip(
    connector: FyleConnector, sandbox: RunningSandbox
) -> None:
    """An offset cursor would skip one record here: an already-read expense moves to the end of the order."""
    with sandbox.control() as control:
        control.post("/fyle/generate", json={"expenses": 450}).raise_for_status()
    everything = [item async for item in connector.stream("expenses", since=None)]
    before = {item.remote_id for item in everything}
    report_id = next(item.parent_remote_id for item in everything[:100] if item.parent_remote_id)
    seen: list[str] = []
    moved = False
    async for item in connector.stream("expenses", since=None):
        seen.append(item.remote_id)
        if len(seen) == 250 and not moved:
            with sandbox.control() as control:
                control.post(f"/fyle/reports/{report_id}/state", json={"state": "PAID"}).raise_for_status()
            moved = True
    assert moved
    assert before <= set(seen), f"missed {len(before - set(seen))} expenses"
