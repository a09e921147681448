"""The pull engine against the Fyle sandbox over HTTP: incremental by cursor, changes update their records, changes
after export are flagged for a person and never exported again, unreadable records are kept, outages resume."""

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from connectors.base import ConnectorContext, UnreadableRecord
from connectors.fyle import FyleConnector
from connectors.fyle.expenses import fyle_expense
from core.db import Database
from core.domain import RecordKind, SourceItem
from core.errors import Transient
from core.models import AuditEvent, ExportItem, ExportItemRecord, ExportState
from core.settings import Settings
from mappings import expense_from_json
from sync.constants import AUDIT_CHANGED_AFTER_EXPORT, UNREADABLE_DATA_KEY, UNREADABLE_SOURCE_KEY
from sync.grouping_run import regroup_tenant
from sync.pull_engine import material_changes, read_cursor
from tests.mappings.factories import expense as make_expense
from tests.mappings.factories import settings as make_settings
from tests.sandbox_fixtures import RunningSandbox
from tests.sync.fyle_source import (
    FyleSource,
    OutageAfter,
    break_expense,
    clear_faults,
    fyle_store,
    make_source,
    move_report,
    sandbox_expense_count,
)


@pytest.fixture
async def source(database: Database, settings: Settings, sandbox: RunningSandbox) -> FyleSource:
    return await make_source(database, settings, sandbox)


# --- Fyle's translation hook -----------------------------------------------------------------------------------


def fyle_card_expense(**overrides: Any) -> dict[str, Any]:
    """A corporate-card expense as Fyle's admin list sends it (`expense_out`), trimmed of what is not read."""
    raw: dict[str, Any] = {
        "id": "txAbC123xyZ",
        "org_id": "orNVthTo2Zyo",
        "created_at": "2024-03-04T09:12:44.512000+00:00",
        "updated_at": "2024-03-08T17:01:02.345678+00:00",
        "spent_at": "2024-03-03T00:00:00+00:00",
        "merchant": "Delta Air Lines",
        "currency": "USD",
        "amount": 1234.56,
        "claim_amount": None,
        "foreign_currency": "EUR",
        "foreign_amount": 1143.11,
        "purpose": "Client visit - Berlin",
        "category_id": 201,
        "category": {
            "id": 201,
            "name": "Travel",
            "sub_category": "Airfare",
            "code": "6100",
            "display_name": "Travel / Airfare",
            "system_category": "Airlines",
        },
        "project_id": 301,
        "project": {"id": 301, "name": "Apollo", "sub_project": "Phase 2", "code": "P-AP2", "display_name": None},
        "cost_center_id": 401,
        "cost_center": {"id": 401, "name": "Sales EMEA", "code": "CC-EMEA"},
        "source_account": {"id": "acc9Lk2", "type": "PERSONAL_CORPORATE_CREDIT_CARD_ACCOUNT"},
        "is_reimbursable": False,
        "tax_amount": 61.73,
        "tax_group_id": "tg1xY",
        "tax_group": {"name": "VAT 5%", "percentage": 0.05},
        "custom_fields": [
            {"id": 9001, "name": "Client Name", "value": "Globex", "type": "SELECT"},
            {"id": 9002, "name": "Attendees", "value": ["Ada", "Sam"], "type": "MULTI_SELECT"},
            {"id": 9003, "name": "Billable to client", "value": True, "type": "BOOLEAN"},
            {"id": 9004, "name": "Notes", "value": None, "type": "TEXT"},
        ],
        "state": "PAYMENT_PROCESSING",
        "report_id": "rpQw7Er9",
        "report": {
            "id": "rpQw7Er9",
            "state": "PAYMENT_PROCESSING",
            "last_approved_at": "2024-03-07T10:00:00+00:00",
            "seq_num": "C/2024/03/R/17",
            "title": "Berlin trip",
        },
        "report_last_approved_at": "2024-03-07T10:00:00+00:00",
        "employee_id": "ouX8dwsbLCLv",
        "employee": {
            "id": "ouX8dwsbLCLv",
            "code": "E007",
            "user": {"id": "usVN2WTtPqNr", "email": "Ada.Lovelace@Example.com", "full_name": "Ada Lovelace"},
        },
        "user": {"id": "usVN2WTtPqNr", "email": "Ada.Lovelace@Example.com", "full_name": "Ada Lovelace"},
        "file_ids": ["fiRcPt0001", "fiRcPt0002"],
        "matched_corporate_card_transaction_id": "btxnMn5",
        "matched_corporate_card_transaction": {
            "id": "btxnMn5",
            "corporate_card_id": "baccLs8",
            "corporate_card_number": "**** 4242",
            "posted_at": "2024-03-05T12:00:00+00:00",
            "spent_at": "2024-03-03T00:00:00+00:00",
        },
    }
    raw.update(overrides)
    return raw


def item_of(raw: dict[str, Any]) -> SourceItem:
    moment = datetime.fromisoformat(raw["updated_at"])
    return SourceItem(RecordKind.EXPENSE, raw["id"], moment, raw, raw.get("report_id"), raw.get("state"))


async def test_fyle_to_expense_reads_a_card_expense_with_exact_decimals() -> None:
    context = ConnectorContext(
        tenant_id=uuid.uuid4(),
        connection_id=uuid.uuid4(),
        urls=dict(FyleConnector.spec.urls),
        settings={"cluster_domain": "https://in1.fylehq.com"},
    )
    async with FyleConnector(context) as connector:
        expense = connector.to_expense(item_of(fyle_card_expense()))

    assert isinstance(expense.amount, Decimal) and str(expense.amount) == "1234.56"
    assert (expense.foreign_amount, expense.foreign_currency) == (Decimal("1143.11"), "EUR")
    assert expense.exchange_rate == Decimal("1.080001")  # 1234.56 / 1143.11 = 1.0800010…, to six places
    assert expense.tax_amount == Decimal("61.73") and expense.tax_group == "VAT 5%"
    assert (expense.currency, expense.spent_on, expense.is_reimbursable) == ("USD", date(2024, 3, 3), False)
    assert (expense.category, expense.category_code) == ("Travel / Airfare", "6100")
    assert (expense.employee_email, expense.employee_name, expense.employee_code) == (
        "Ada.Lovelace@Example.com",
        "Ada Lovelace",
        "E007",
    )
    assert (expense.state, expense.report_id, expense.report_state) == (
        "PAYMENT_PROCESSING",
        "rpQw7Er9",
        "PAYMENT_PROCESSING",
    )
    assert expense.updated_at == datetime(2024, 3, 8, 17, 1, 2, 345678, tzinfo=UTC)
    assert expense.approved_at == datetime(2024, 3, 7, 10, tzinfo=UTC)
    assert (expense.corporate_card_id, expense.posted_at) == ("baccLs8", datetime(2024, 3, 5, 12, tzinfo=UTC))
    assert (expense.project, expense.cost_center) == ("Apollo / Phase 2", "Sales EMEA")
    assert (expense.merchant, expense.purpose) == ("Delta Air Lines", "Client visit - Berlin")
    assert expense.custom_fields == {"Client Name": "Globex", "Attendees": "Ada, Sam", "Billable to client": "true"}
    assert expense.file_ids == ("fiRcPt0001", "fiRcPt0002")
    assert expense.url == "https://in1.fylehq.com/app/admin/#/view_expense/txAbC123xyZ"


def test_fyle_amounts_are_read_from_their_text_never_through_float_arithmetic() -> None:
    expense = fyle_expense(item_of(fyle_card_expense(amount=0.1 + 0.2, foreign_currency=None, foreign_amount=None)))
    assert expense.amount == Decimal("0.30000000000000004")  # what Fyle sent, digit for digit
    expense = fyle_expense(item_of(fyle_card_expense(amount=19.99, foreign_currency=None, foreign_amount=None)))
    assert expense.amount == Decimal("19.99") != Decimal.from_float(19.99)
    assert expense.exchange_rate is None


def test_a_cash_expense_without_card_or_report_is_read_too() -> None:
    raw = fyle_card_expense(
        matched_corporate_card_transaction={},
        is_reimbursable=True,
        report_id=None,
        report=None,
        report_last_approved_at=None,
        state="COMPLETE",
        project=None,
        tax_group=None,
        tax_group_id=None,
        tax_amount=None,
        custom_fields=[],
        file_ids=[],
    )
    expense = fyle_expense(item_of(raw))
    assert (expense.is_reimbursable, expense.corporate_card_id, expense.posted_at) == (True, None, None)
    assert (expense.report_id, expense.report_state, expense.approved_at, expense.project) == (None, None, None, None)
    assert expense.url is None  # no cluster given


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"category": None}, "no category"),
        ({"amount": None}, "no amount"),
        ({"amount": "twelve"}, "'amount' is not a number"),
        ({"spent_at": None, "matched_corporate_card_transaction": {}}, "no spend date"),
        ({"report_last_approved_at": "yesterday"}, "'report_last_approved_at' is not a timestamp"),
        ({"employee": None, "user": None}, "no employee email"),
        ({"is_reimbursable": "yes"}, "'is_reimbursable' is not true or false"),
        ({"custom_fields": "Globex"}, "'custom_fields' is not a list"),
        ({"category": ["Travel"]}, "'category' is not an object"),
    ],
)
def test_a_fyle_expense_that_cannot_be_read_says_why(overrides: dict[str, Any], reason: str) -> None:
    with pytest.raises(UnreadableRecord, match=reason) as raised:
        fyle_expense(item_of(fyle_card_expense(**overrides)))
    assert raised.value.error_class == "validation" and raised.value.code == "unreadable_record"


# --- Pulling ---------------------------------------------------------------------------------------------------


async def test_a_first_pull_stores_every_expense_as_its_exact_expense_json(
    source: FyleSource, sandbox: RunningSandbox
) -> None:
    total = sandbox_expense_count(sandbox)

    report = await source.pull()

    assert (report.read, report.created, report.updated, report.unchanged, report.unreadable) == (total, total, 0, 0, 0)
    records = await source.records()
    assert len(records) == total
    simulated = {found.id: found for found in fyle_store(sandbox).expenses}
    for record in records:
        expense = expense_from_json(record.data)  # what grouping reads back
        original = simulated[record.remote_id]
        assert expense.amount == original.amount and isinstance(expense.amount, Decimal)
        assert isinstance(record.data["amount"], str)  # money stored as text, never as a JSON float
        assert (record.parent_remote_id, record.remote_state) == (original.report_id, original.state)
        assert record.remote_updated_at == original.updated_at
        assert record.skip_reason is None and not record.changed_after_export
    newest = max(found.updated_at for found in simulated.values())
    assert report.cursor == newest
    assert await read_cursor(source.database, tenant_id=source.tenant_id, connection_id=source.connection_id) == newest


async def test_text_with_newlines_quotes_and_separators_is_stored_exactly(
    source: FyleSource, sandbox: RunningSandbox
) -> None:
    """A page's records travel to PostgreSQL as one text, a line each: a newline inside a value must not split one."""
    store = fyle_store(sandbox)
    awkward = sorted(store.expenses, key=lambda found: found.id)[:3]
    purposes = ['Line one\nline two\r\n"quoted", {braced}\\slashed', "tab\there, NUL-free \u2028 ünïcode", "\n"]
    for expense, purpose in zip(awkward, purposes, strict=True):
        expense.purpose = purpose
        store.expenses.touch(expense, store.now())

    report = await source.pull()

    assert report.unreadable == 0
    records = await source.by_remote_id()
    assert len(records) == sandbox_expense_count(sandbox)
    for expense, purpose in zip(awkward, purposes, strict=True):
        assert expense_from_json(records[expense.id].data).purpose == purpose


async def test_a_second_pull_with_nothing_new_reads_only_the_cursor_moment_and_changes_nothing(
    source: FyleSource, sandbox: RunningSandbox
) -> None:
    await source.pull()
    before = {record.remote_id: (record.fingerprint, record.updated_at) for record in await source.records()}
    moments = [found.updated_at for found in fyle_store(sandbox).expenses]
    at_cursor = moments.count(max(moments))

    again = await source.pull()

    assert again.read == at_cursor <= 8
    assert (again.created, again.updated, again.unchanged, again.changed_after_export) == (0, 0, at_cursor, 0)
    after = {record.remote_id: (record.fingerprint, record.updated_at) for record in await source.records()}
    assert after == before


async def test_an_expense_updated_in_fyle_updates_its_record_on_the_next_pull(
    source: FyleSource, sandbox: RunningSandbox
) -> None:
    await source.pull()
    store = fyle_store(sandbox)
    approved = next(report for report in store.reports if report.state == "APPROVED")
    move_report(sandbox, approved.id, "PAYMENT_PROCESSING")

    report = await source.pull()

    assert report.updated == len(approved.expense_ids)
    assert report.created == 0 and report.changed_after_export == 0
    records = await source.by_remote_id()
    for expense_id in approved.expense_ids:
        expense = expense_from_json(records[expense_id].data)
        assert (expense.state, expense.report_state) == ("PAYMENT_PROCESSING", "PAYMENT_PROCESSING")
        assert records[expense_id].remote_state == "PAYMENT_PROCESSING"
    assert len(records) == sandbox_expense_count(sandbox)


async def test_an_expense_sent_back_after_its_bill_was_created_is_flagged_and_never_exported_again(
    source: FyleSource, sandbox: RunningSandbox, database: Database
) -> None:
    destination_id = await source.add_destination()
    await source.pull()
    grouped = await regroup_tenant(database, tenant_id=source.tenant_id, actor="test")
    assert grouped[destination_id].created
    store = fyle_store(sandbox)
    items = await source.items()
    exported, item = next(
        (report, found)
        for report in store.reports
        if report.state == "APPROVED"
        for found in items
        if f"report={report.id}" in found.group_key
    )
    await source.mark_exported(item.id)
    records = await source.by_remote_id()
    in_item = await linked_records(source, item.id)
    assert in_item and in_item <= {records[expense_id].id for expense_id in exported.expense_ids}

    move_report(sandbox, exported.id, "APPROVER_INQUIRY")  # the approver sends the report back
    report = await source.pull()

    assert report.updated == len(exported.expense_ids)
    assert report.changed_after_export == len(in_item)
    flagged = {record.id for record in await source.records() if record.changed_after_export}
    assert flagged == in_item
    events = await audit_events(source, AUDIT_CHANGED_AFTER_EXPORT)
    assert {event.entity_id for event in events} == {str(record_id) for record_id in in_item}
    assert all(event.data["export_item_id"] == str(item.id) for event in events)
    assert all({"state", "report_state"} <= set(event.data["changed"]) for event in events)

    regrouped = await regroup_tenant(database, tenant_id=source.tenant_id, actor="test")

    assert item.id not in regrouped[destination_id].dropped
    async with database.tenant_session(source.tenant_id) as session:
        links = (
            await session.execute(
                select(ExportItemRecord.source_record_id, ExportItemRecord.export_item_id).where(
                    ExportItemRecord.source_record_id.in_(in_item)
                )
            )
        ).all()
        state = await session.scalar(select(ExportItem.state).where(ExportItem.id == item.id))
    assert {item_id for _, item_id in links} == {item.id}  # in its exported item, and in no new one
    assert state == ExportState.SUCCEEDED.value


async def test_an_exported_expense_that_only_goes_on_to_be_paid_is_updated_not_flagged(
    source: FyleSource, sandbox: RunningSandbox, database: Database
) -> None:
    await source.add_destination()
    await source.pull()
    await regroup_tenant(database, tenant_id=source.tenant_id, actor="test")
    store = fyle_store(sandbox)
    items = {item.group_key: item for item in await source.items()}
    report_of, item = next(
        (report, found)
        for report in store.reports
        if report.state == "PAYMENT_PROCESSING"
        for key, found in items.items()
        if f"report={report.id}" in key
    )
    await source.mark_exported(item.id)

    move_report(sandbox, report_of.id, "PAID")
    pulled = await source.pull()

    assert pulled.updated == len(report_of.expense_ids) and pulled.changed_after_export == 0
    records = await source.by_remote_id()
    assert {records[expense_id].remote_state for expense_id in report_of.expense_ids} == {"PAID"}
    assert not any(record.changed_after_export for record in records.values())
    assert await audit_events(source, AUDIT_CHANGED_AFTER_EXPORT) == []


async def test_a_pending_item_whose_expenses_change_is_regrouped_not_flagged(
    source: FyleSource, sandbox: RunningSandbox, database: Database
) -> None:
    destination_id = await source.add_destination()
    await source.pull()
    await regroup_tenant(database, tenant_id=source.tenant_id, actor="test")
    store = fyle_store(sandbox)
    items = {item.group_key: item for item in await source.items()}
    report_of, item = next(
        (report, found)
        for report in store.reports
        if report.state == "APPROVED"
        for key, found in items.items()
        if f"report={report.id}" in key
    )

    move_report(sandbox, report_of.id, "APPROVER_INQUIRY")
    pulled = await source.pull()
    regrouped = await regroup_tenant(database, tenant_id=source.tenant_id, actor="test")

    assert pulled.updated == len(report_of.expense_ids) and pulled.changed_after_export == 0
    assert item.id in regrouped[destination_id].dropped  # no longer exportable: never sent, so simply withdrawn


async def test_a_record_the_translator_cannot_read_is_kept_with_its_reason_and_counted(
    source: FyleSource, sandbox: RunningSandbox
) -> None:
    broken = break_expense(sandbox)

    report = await source.pull()

    assert report.unreadable == 1
    total = sandbox_expense_count(sandbox)
    assert report.created == total  # nothing dropped
    record = (await source.by_remote_id())[broken.id]
    assert record.skip_reason is not None and "unreadable" in record.skip_reason and "category" in record.skip_reason
    assert "category" in record.data[UNREADABLE_DATA_KEY]
    assert record.data[UNREADABLE_SOURCE_KEY]["id"] == broken.id  # Fyle's own object, kept whole
    assert record.data[UNREADABLE_SOURCE_KEY]["category"] is None
    with pytest.raises(ValueError):
        expense_from_json(record.data)  # grouping can never take it for an expense


async def test_an_interrupted_pull_resumes_from_its_cursor_and_ends_with_every_expense_once(
    source: FyleSource, sandbox: RunningSandbox
) -> None:
    with sandbox.control() as control:
        control.post("/fyle/generate", json={"expenses": 450}).raise_for_status()
    total = sandbox_expense_count(sandbox)
    ordered = sorted(fyle_store(sandbox).expenses, key=lambda found: (found.updated_at, found.id))

    async with await source.world.open() as connector:
        # Fyle pages hold 200: the outage starts during the second page and breaks the third request.
        with pytest.raises(Transient):
            await source.pull(OutageAfter(connector, after=250, sandbox=sandbox), page_rows=100)
    committed = await source.records()
    assert len(committed) == 400  # every full page of 100 read before the failure, and nothing else
    cursor = await read_cursor(source.database, tenant_id=source.tenant_id, connection_id=source.connection_id)
    assert cursor == ordered[399].updated_at

    clear_faults(sandbox)
    resumed = await source.pull()

    assert resumed.read < total - 390  # from the cursor, not from the start
    assert resumed.created == total - 400
    records = await source.records()
    assert len(records) == len({record.remote_id for record in records}) == total
    assert {record.remote_id for record in records} == {found.id for found in ordered}


def test_only_a_change_that_alters_the_document_is_material() -> None:
    bills = make_settings(reimbursable={"export_type": "bill"}, employee_as="vendor")
    approved = make_expense(state="APPROVED", report_state="APPROVED")
    paid = make_expense(id=approved.id, state="PAID", report_state="PAID", updated_at=datetime.now(UTC))
    sent_back = make_expense(id=approved.id, state="APPROVER_PENDING", report_state="APPROVER_INQUIRY")
    dearer = make_expense(id=approved.id, state="APPROVED", report_state="APPROVED", amount=Decimal("99.99"))

    assert material_changes(approved, paid, bills) == []
    assert material_changes(approved, sent_back, bills) == ["state", "report_state"]
    assert material_changes(approved, dearer, bills) == ["amount"]
    assert material_changes(approved, None, bills) == ["data"]
    assert material_changes(approved, paid, None) == ["state", "report_state"]  # no settings: nothing is benign


async def linked_records(source: FyleSource, item_id: uuid.UUID) -> set[uuid.UUID]:
    async with source.database.tenant_session(source.tenant_id) as session:
        rows = await session.scalars(
            select(ExportItemRecord.source_record_id).where(
                ExportItemRecord.export_item_id == item_id, ExportItemRecord.released_at.is_(None)
            )
        )
        return set(rows.all())


async def audit_events(source: FyleSource, action: str) -> list[AuditEvent]:
    async with source.database.tenant_session(source.tenant_id) as session:
        rows = (
            await session.scalars(
                select(AuditEvent)
                .where(AuditEvent.tenant_id == source.tenant_id, AuditEvent.action == action)
                .order_by(AuditEvent.seq)
            )
        ).all()
        session.expunge_all()
        return list(rows)
