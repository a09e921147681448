"""Report lifecycle and the write-backs integrations make: state moves, mark-paid, accounting export summaries.

DRAFT → APPROVER_PENDING → APPROVED → PAYMENT_PENDING → PAYMENT_PROCESSING → PAID (APPROVER_INQUIRY is "sent
back"). A move stamps the report's timeline, mirrors the state into its expenses and bumps everyone's `updated_at`,
then tells the store's listener (webhooks). Export summaries do not bump `updated_at`: they are the integration's own
write, and an incremental sync must not pull back what it just pushed.
"""

from sandbox.fyle.constants import (
    APPROVED_STATES,
    EXPENSE_STATE_IN_REPORT,
    EXPORT_INITIATED_ACTION,
    PAYABLE_STATES,
    REIMBURSED_STATES,
    REPORT_ACTIONS,
    REPORT_STATES,
    SUBMITTED_STATES,
)
from sandbox.fyle.errors import BadRequest, BulkError, BulkRowError, NotFound
from sandbox.fyle.records import ExportSummary, Report
from sandbox.fyle.schemas import ExportSummaryIn, IdOnly, MarkPaidIn
from sandbox.fyle.store import FyleStore, ReportEvent


def _event_for(state: str) -> tuple[str, str]:
    return REPORT_ACTIONS.get(state, (f"STATE_CHANGE_{state}", f"Report moved to {state}."))


def move_report(store: FyleStore, report: Report, state: str) -> Report:
    """Put `report` in `state` (any state of the spec's enum, forwards or back) and notify subscribers."""
    if state not in REPORT_STATES:
        raise BadRequest(f"unknown report state {state!r}; choose from {', '.join(REPORT_STATES)}")
    if state == report.state:
        return report
    now = store.now()
    report.state = state
    if state in SUBMITTED_STATES and report.last_submitted_at is None:
        report.last_submitted_at = now
    if state == "APPROVED" or (state in APPROVED_STATES and report.last_approved_at is None):
        report.last_approved_at = now
    expenses = [expense for expense in map(store.expenses.get, report.expense_ids) if expense is not None]
    if state in REIMBURSED_STATES and report.reimbursement_id is None and any(e.is_reimbursable for e in expenses):
        report.reimbursement_id = store.new_id("reim")
        report.reimbursement_seq_num = f"P/{now:%Y/%m}/R/{store.next_number('reimbursement')}"
    if state == "PAID":
        report.last_paid_at = now
    store.reports.touch(report, now)
    for expense in expenses:
        expense.state = EXPENSE_STATE_IN_REPORT[state]
        if state == "PAID":
            expense.last_settled_at = now
        store.expenses.touch(expense, now)
    action, reason = _event_for(state)
    store.emit(ReportEvent(report_id=report.id, action=action, reason=reason))
    return report


def _reports(store: FyleStore, ids: list[str]) -> list[Report]:
    """The reports named in a bulk request; an unknown id fails the whole request with 404, as the spec allows."""
    found = [store.reports.get(report_id) for report_id in ids]
    reports = [report for report in found if report is not None]
    if len(reports) != len(found):
        raise NotFound()
    return reports


def mark_paid(store: FyleStore, items: list[MarkPaidIn]) -> None:
    """`POST /admin/reports/mark_paid/bulk`. All or nothing: a report that cannot be paid fails the request."""
    reports = _reports(store, [item.id for item in items])
    errors = [
        BulkRowError(row=row, key=report.id, message=f"report in state {report.state} cannot be marked as paid")
        for row, report in enumerate(reports)
        if report.state not in PAYABLE_STATES and report.state != "PAID"
    ]
    if errors:
        raise BulkError(errors)
    for item, report in zip(items, reports, strict=True):
        store.record_write("reports_mark_paid", {"id": report.id, "state_before": report.state, "code": item.code})
        move_report(store, report, "PAID")


def set_expense_export_summaries(store: FyleStore, items: list[ExportSummaryIn], *, tpa_id: str) -> None:
    """`POST /admin/expenses/accounting_export_summary/bulk`: create or replace each expense's summary."""
    expenses = [store.expenses.get(item.id) for item in items]
    errors = [
        BulkRowError(row=row, key=item.id, message=f"expense {item.id} not found")
        for row, (item, expense) in enumerate(zip(items, expenses, strict=True))
        if expense is None
    ]
    if errors:
        raise BulkError(errors)
    now = store.now()
    for item, expense in zip(items, expenses, strict=True):
        assert expense is not None
        expense.export_summary = ExportSummary(
            state=item.state, tpa_id=tpa_id, written_at=now, error_type=item.error_type, url=item.url
        )
        store.record_write("expense_export_summaries", item.model_dump() | {"tpa_id": tpa_id})
    store.expenses.changed()


def initiate_report_exports(store: FyleStore, items: list[IdOnly], *, tpa_id: str) -> None:
    """`POST /admin/reports/accounting_export_summary/bulk`: mark the report's expenses INITIATED (those with no
    summary yet) and send ACCOUNTING_EXPORT_INITIATED, which is how Fyle asks an integration to export now."""
    reports = _reports(store, [item.id for item in items])
    now = store.now()
    action, reason = EXPORT_INITIATED_ACTION
    for report in reports:
        for expense in map(store.expenses.get, report.expense_ids):
            if expense is not None and expense.export_summary is None:
                expense.export_summary = ExportSummary(state="INITIATED", tpa_id=tpa_id, written_at=now)
        store.record_write("report_export_summaries", {"id": report.id, "tpa_id": tpa_id})
        store.emit(ReportEvent(report_id=report.id, action=action, reason=reason))
    store.expenses.changed()
