"""Reports → `admin_report_out`, `report_out` (the webhook's `data`) and `report_out_embed` (inside an expense)."""

from decimal import Decimal

from sandbox.fyle.constants import APPROVED_STATES, ORG_ID, STATE_DISPLAY_NAMES
from sandbox.fyle.records import Employee, Report
from sandbox.fyle.render import (
    JsonObject,
    employee_embed,
    money,
    timestamp,
    user,
)
from sandbox.fyle.store import FyleStore


def report_amount(store: FyleStore, report: Report) -> Decimal:
    return sum((expense.amount for expense in map(store.expenses.get, report.expense_ids) if expense), Decimal(0))


def approvals(store: FyleStore, report: Report) -> list[JsonObject]:
    employee = store.employees.get(report.employee_id)
    approvers = [] if employee is None else employee.approver_user_ids
    state = "APPROVAL_DONE" if report.state in APPROVED_STATES else "APPROVAL_PENDING"
    listed = []
    for order, approver_user_id in enumerate(approvers, start=1):
        approver = store.employee_by_user(approver_user_id)
        listed.append(
            {
                "approver_user_id": approver_user_id,
                "approver_type": "USER",
                "approver_user": user(approver) if approver else None,
                "state": state,
                "approver_order": order,
            }
        )
    return listed


def _report_export_summary(store: FyleStore, report: Report) -> JsonObject:
    """Counts of the expenses' summaries; the worst state wins (ERROR, then IN_PROGRESS, INITIATED, COMPLETE)."""
    summaries = [expense.export_summary for expense in map(store.expenses.get, report.expense_ids) if expense]
    written = [summary for summary in summaries if summary is not None]
    if not written:
        return {}
    states = [summary.state for summary in written]
    overall = next((state for state in ("ERROR", "IN_PROGRESS", "INITIATED", "COMPLETE") if state in states), "SKIPPED")
    return {
        "state": overall,
        "skipped": states.count("SKIPPED"),
        "error": states.count("ERROR"),
        "complete": states.count("COMPLETE"),
        "in_progress": states.count("IN_PROGRESS"),
        "initiate": states.count("INITIATED"),
        "tpa_id": written[-1].tpa_id,
    }


def _next_approvers(report: Report, employee: Employee | None) -> list[str]:
    if employee is None or report.state in APPROVED_STATES or report.state == "DRAFT":
        return []
    return list(employee.approver_user_ids)


def _reimbursement(report: Report, amount: Decimal) -> JsonObject | None:
    if report.reimbursement_id is None:
        return None
    ach_transfer = dict.fromkeys(
        (
            "state",
            "status_info",
            "initiated_at",
            "source_account_ach_reference_id",
            "destination_account_ach_reference_id",
            "clearing_type",
            "initiator_user_id",
        )
    )
    return {
        "id": report.reimbursement_id,
        "currency": report.currency,
        "amount": money(amount),
        "mode": "OFFLINE",
        "ach_transfer": ach_transfer,
    }


def report_out(store: FyleStore, report: Report, *, admin: bool = True) -> JsonObject:
    """`admin_report_out`; `admin=False` gives `report_out` (the same without `can_apply_advances`)."""
    employee = store.employees.get(report.employee_id)
    amount = report_amount(store, report)
    rendered: JsonObject = {
        "id": report.id,
        "org_id": ORG_ID,
        "created_at": timestamp(report.created_at),
        "updated_at": timestamp(report.updated_at),
        "user_id": employee.user_id if employee else None,
        "user": user(employee) if employee else None,
        "purpose": report.purpose,
        "currency": report.currency,
        "amount": money(amount),
        "tax": None,
        "state": report.state,
        "num_expenses": len(report.expense_ids),
        "is_verified": None,
        "is_physical_bill_submitted": None,
        "physical_bill_submitted_at": None,
        "is_manually_flagged": False,
        "is_policy_flagged": False,
        "is_exported": _report_export_summary(store, report).get("state") == "COMPLETE",
        "last_paid_at": timestamp(report.last_paid_at),
        "last_approved_at": timestamp(report.last_approved_at),
        "last_submitted_at": timestamp(report.last_submitted_at),
        "last_resubmitted_at": None,
        "seq_num": report.seq_num,
        "source": "WEBAPP",
        "approvals": approvals(store, report),
        "employee_id": report.employee_id,
        "employee": employee_embed(store, employee, for_report=True) if employee else None,
        "next_approver_user_ids": _next_approvers(report, employee),
        "reimbursement_id": report.reimbursement_id,
        "reimbursement": _reimbursement(report, amount),
        "state_display_name": STATE_DISPLAY_NAMES[report.state],
        "comments": [],
        "accounting_export_summary": _report_export_summary(store, report),
        "applied_advance_wallets": None,
        "creator_type": "USER",
        "auto_approval_state": None,
    }
    if admin:
        rendered["can_apply_advances"] = None
    return rendered


def report_embed(store: FyleStore, report: Report) -> JsonObject:
    """`report_out_embed`, as an expense shows its report."""
    return {
        "id": report.id,
        "last_approved_at": timestamp(report.last_approved_at),
        "last_submitted_at": timestamp(report.last_submitted_at),
        "seq_num": report.seq_num,
        "title": report.purpose,
        "state": report.state,
        "amount": money(report_amount(store, report)),
        "last_paid_at": timestamp(report.last_paid_at),
        "last_verified_at": None,
        "reimbursement_id": report.reimbursement_id,
        "reimbursement_seq_num": report.reimbursement_seq_num,
        "approvals": approvals(store, report),
    }
