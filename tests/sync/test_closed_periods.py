"""Closed periods against the Intacct simulator over HTTP, with PostgreSQL: without the setting an item waits for a
person, with it the document is re-dated to the first open day, once, and says so on the item, in its audit trail and
in the memo. The `books` bills are dated 2024-03-02 (the last day spent of each report)."""

from collections.abc import Sequence
from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select, update

from api.export_items import ItemPublic
from core.db import Database
from core.domain import Document, RemoteDocument
from core.errors import LedgerlineError
from core.models import AuditEvent, Connection, ExportItem
from core.repository import TenantRepository
from mappings.settings_store import save_settings
from sync.export_engine import ExportEngine
from sync.replay import replay_item
from tests.sandbox_fixtures import RunningSandbox
from tests.sync.conftest import BILL_SETTINGS, Books
from tests.sync.intacct_bills import bills, fault
from tests.vocabularies import INTACCT

BILL_DAY = date(2024, 3, 2)


def open_periods(sandbox: RunningSandbox, open_from: date) -> None:
    with sandbox.control() as control:
        control.put("/intacct/periods", json={"open_from": open_from.isoformat()}).raise_for_status()


async def redate_closed_periods(database: Database, books: Books) -> None:
    settings = BILL_SETTINGS.model_copy(update={"post_closed_period_to_first_open_day": True})
    async with database.tenant_session(books.tenant.id) as session:
        destination = await session.get(Connection, books.destination_id)
        assert destination is not None
        await save_settings(
            TenantRepository(session, books.tenant.id, "test"),
            destination=destination,
            settings=settings,
            vocabulary=INTACCT,
        )


async def export(database: Database, books: Books) -> None:
    await ExportEngine(database, owner="w1").run_batch(
        books.connector, tenant_id=books.tenant.id, connection_id=books.destination_id
    )


async def items(database: Database, books: Books) -> list[ExportItem]:
    async with database.tenant_session(books.tenant.id) as session:
        return list((await session.scalars(select(ExportItem).order_by(ExportItem.idempotency_key))).all())


async def audit_data(database: Database, books: Books, item: ExportItem, action: str) -> list[dict[str, Any]]:
    async with database.tenant_session(books.tenant.id) as session:
        events = await session.scalars(
            select(AuditEvent.data)
            .where(AuditEvent.entity_id == str(item.id), AuditEvent.action == action)
            .order_by(AuditEvent.seq)
        )
        return list(events.all())


def one_bill_per_item(sandbox: RunningSandbox, exported: list[ExportItem]) -> dict[str, dict[str, Any]]:
    found = bills(sandbox)
    by_reference = {bill["RECORDID"]: bill for bill in found}
    assert len(found) == len(by_reference) == len(exported)
    assert set(by_reference) == {item.idempotency_key for item in exported}
    return by_reference


async def test_without_the_setting_a_closed_period_waits_with_both_remedies_and_sends_nothing(
    database: Database, books: Books, sandbox: RunningSandbox
) -> None:
    open_periods(sandbox, date(2024, 4, 1))

    await export(database, books)

    waiting = await items(database, books)
    assert {item.state for item in waiting} == {"needs_action"}
    for item in waiting:
        assert item.error_code == "period_closed"
        assert item.redated_to is None
        hint = item.error_hint or ""
        assert "post_closed_period_to_first_open_day" in hint  # the setting to turn on …
        assert f"/v1/connections/{books.destination_id}/export-settings" in hint  # … and where
        assert "reopen" in hint.lower() and "Sage Intacct" in hint  # or the period to reopen
        assert "replay" in hint.lower()
    assert bills(sandbox) == []


async def test_with_the_setting_each_document_is_posted_once_on_the_first_open_day_and_says_so(
    database: Database, books: Books, sandbox: RunningSandbox
) -> None:
    open_periods(sandbox, date(2024, 4, 1))
    await redate_closed_periods(database, books)

    await export(database, books)

    exported = await items(database, books)
    assert {item.state for item in exported} == {"succeeded"}
    for item, bill in zip(exported, one_bill_per_item(sandbox, exported).values(), strict=True):
        assert bill["WHENCREATED"] == "04/01/2024"
        assert "posted 2024-04-01, period of 2024-03-02 closed" in bill["DESCRIPTION"]
        assert item.redated_to == date(2024, 4, 1)
        assert ItemPublic.model_validate(item).redated_to == date(2024, 4, 1)  # as GET /v1/export-items/{id} shows it
        assert item.document is not None and item.document["transaction_date"] == "2024-04-01"
        [event] = await audit_data(database, books, item, "export_item.succeeded")
        assert event["redated"] == {"from": "2024-03-02", "to": "2024-04-01"}


async def test_two_closed_months_in_a_row_move_the_date_past_both(
    database: Database, books: Books, sandbox: RunningSandbox
) -> None:
    open_periods(sandbox, date(2024, 5, 1))
    await redate_closed_periods(database, books)

    await export(database, books)

    exported = await items(database, books)
    assert {item.state for item in exported} == {"succeeded"}
    for item, bill in zip(exported, one_bill_per_item(sandbox, exported).values(), strict=True):
        assert bill["WHENCREATED"] == "05/01/2024"
        assert "posted 2024-05-01, period of 2024-03-02 closed" in bill["DESCRIPTION"]
        assert item.redated_to == date(2024, 5, 1)


async def test_no_period_open_within_a_year_waits_with_a_hint_and_posts_nothing(
    database: Database, books: Books, sandbox: RunningSandbox
) -> None:
    open_periods(sandbox, date(2025, 4, 1))  # a year and a month after the bills' day
    await redate_closed_periods(database, books)

    await export(database, books)

    waiting = await items(database, books)
    assert {item.state for item in waiting} == {"needs_action"}
    for item in waiting:
        assert item.error_code == "period_closed"
        assert item.redated_to == date(2025, 3, 1)  # the last day tried, as the document last sent says
        assert item.document is not None and item.document["transaction_date"] == "2025-03-01"
        assert "reopen a period in sage intacct" in (item.error_hint or "").lower()
    assert bills(sandbox) == []


async def test_a_period_reopened_later_posts_on_the_original_date_after_a_replay(
    database: Database, books: Books, sandbox: RunningSandbox
) -> None:
    open_periods(sandbox, date(2024, 4, 1))
    await export(database, books)
    assert {item.state for item in await items(database, books)} == {"needs_action"}

    open_periods(sandbox, date(2000, 1, 1))
    for item in await items(database, books):
        async with database.tenant_session(books.tenant.id) as session:
            await replay_item(session, tenant_id=books.tenant.id, item_id=item.id, actor="support")
    await export(database, books)

    exported = await items(database, books)
    assert {item.state for item in exported} == {"succeeded"}
    for item, bill in zip(exported, one_bill_per_item(sandbox, exported).values(), strict=True):
        assert bill["WHENCREATED"] == "03/02/2024"
        assert "period of" not in (bill.get("DESCRIPTION") or "")
        assert item.redated_to is None


async def test_a_lost_answer_to_the_redated_send_is_adopted_not_sent_twice(
    database: Database, books: Books, sandbox: RunningSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The re-dated bills commit but their answer is lost, and so is the lookup after it: the items stay unknown with
    the re-dated document written down, and the next batch adopts what the first one created."""
    open_periods(sandbox, date(2024, 4, 1))
    await redate_closed_periods(database, books)
    push = books.connector.push
    sends: list[int] = []

    async def lose_the_second_answer(documents: Sequence[Document]) -> list[RemoteDocument | LedgerlineError]:
        sends.append(len(documents))
        if len(sends) == 2:  # the re-dated send
            fault(sandbox, operation="create:APBILL", mode="commit_then_fail", status=502, times=1)
            fault(sandbox, operation="query:APBILL", mode="error", status=503, times=1)
        return await push(documents)

    monkeypatch.setattr(books.connector, "push", lose_the_second_answer)
    await export(database, books)

    unknown = await items(database, books)
    assert {(item.state, item.outcome_unknown) for item in unknown} == {("pending", True)}
    assert all(item.document and item.document["transaction_date"] == "2024-04-01" for item in unknown)
    assert all(item.redated_to == date(2024, 4, 1) for item in unknown)
    async with database.tenant_session(books.tenant.id) as session:
        await session.execute(update(ExportItem).values(next_attempt_at=func.now()))

    await export(database, books)

    exported = await items(database, books)
    assert {item.state for item in exported} == {"succeeded"}
    for item, bill in zip(exported, one_bill_per_item(sandbox, exported).values(), strict=True):
        assert bill["WHENCREATED"] == "04/01/2024"
        assert item.redated_to == date(2024, 4, 1)
