"""Expenses → `expense_out`.

An expense embeds its report, employee, category, project and cost center as they are now, so a report's state
change shows in every expense at once, as in Fyle. A page of 200 expenses repeats the same few reports, employees
and dimensions, so `ExpenseRenderer` builds each embedded object once per response and shares it.
"""

from typing import Any

from sandbox.fyle.constants import ORG_ID, STATE_DISPLAY_NAMES
from sandbox.fyle.records import Employee, Expense, ExportSummary
from sandbox.fyle.render import JsonObject, custom_fields, display_name, employee_embed, money, timestamp
from sandbox.fyle.render_report import approvals, report_embed
from sandbox.fyle.store import FyleStore

_UNMODELLED_NULLS = dict.fromkeys(
    (
        *("policy_amount", "admin_amount", "advance_wallet_id", "code", "last_verified_at", "is_verified"),
        *("tax_amount", "tax_group_id", "tax_group", "calculated_tax_amount", "invoice_number"),
        *("distance", "distance_unit", "mileage_calculated_distance", "mileage_calculated_amount"),
        *("selected_vehicle_ownership", "selected_vehicle_category", "mileage_rate_id", "mileage_rate"),
        *("passenger_count", "passenger_mileage_rate", "passenger_amount", "mileage_is_round_trip"),
        *("per_diem_rate_id", "per_diem_rate", "per_diem_num_days", "started_at", "ended_at"),
        *("hotel_is_breakfast_provided", "activity_details", "extracted_data", "expense_rule_id", "expense_rule_data"),
        *("is_physical_bill_submitted", "physical_bill_submitted_at", "report_auto_approval_state"),
        *("commute_deduction", "commute_details_id", "commute_details"),
    )
)
"""Required properties of `expense_out` for features the simulator does not model."""


def _card_transactions(expense: Expense, employee: Employee | None) -> list[JsonObject]:
    card = expense.card_transaction
    if card is None:
        return []
    holder = employee.full_name if employee else None
    return [
        {
            "id": card.id,
            "corporate_card_id": card.corporate_card_id,
            "corporate_card_number": card.masked_number,
            "corporate_card_nickname": None,
            "corporate_card_cardholder_name": holder,
            "masked_corporate_card_number": card.masked_number,
            "bank_name": card.bank_name,
            "corporate_card_user_full_name": holder,
            "is_corporate_card_archived": False,
            "amount": money(expense.amount),
            "currency": expense.currency,
            "spent_at": timestamp(expense.spent_at),
            "posted_at": timestamp(card.posted_at),
            "status": "POSTED",
            "description": card.description,
            "foreign_currency": expense.foreign_currency,
            "foreign_amount": money(expense.foreign_amount),
            "merchant": expense.merchant,
            "category": None,
            "matched_by": "SYSTEM",
        }
    ]


def _export_summary(summary: ExportSummary | None) -> JsonObject:
    """`{}` until an integration writes one; `error_type` is always sent then (it is nullable), the rest if set."""
    if summary is None:
        return {}
    rendered: JsonObject = {"state": summary.state, "error_type": summary.error_type, "tpa_id": summary.tpa_id}
    if summary.url is not None:
        rendered["url"] = summary.url
    return rendered


class ExpenseRenderer:
    """Renders expenses of one store; create one per response, since it caches the embedded objects."""

    def __init__(self, store: FyleStore) -> None:
        self.store = store
        self._reports: dict[str, tuple[JsonObject, list[JsonObject]]] = {}
        self._employees: dict[str, JsonObject] = {}
        self._dimensions: dict[tuple[int | None, int | None, int | None], JsonObject] = {}

    def _report(self, report_id: str | None) -> tuple[JsonObject | None, list[JsonObject]]:
        report = self.store.reports.get(report_id) if report_id else None
        if report is None:
            return None, []
        if report.id not in self._reports:
            self._reports[report.id] = (report_embed(self.store, report), approvals(self.store, report))
        return self._reports[report.id]

    def _employee(self, employee: Employee) -> JsonObject:
        if employee.id not in self._employees:
            self._employees[employee.id] = employee_embed(self.store, employee, for_report=False)
        return self._employees[employee.id]

    def _dimensions_of(self, expense: Expense) -> JsonObject:
        key = (expense.category_id, expense.project_id, expense.cost_center_id)
        if key in self._dimensions:
            return self._dimensions[key]
        category = self.store.categories.get(expense.category_id)
        project = self.store.projects.get(expense.project_id)
        cost_center = self.store.cost_centers.get(expense.cost_center_id)
        rendered = {
            "cost_center_id": expense.cost_center_id,
            "cost_center": None
            if cost_center is None
            else {"id": cost_center.id, "name": cost_center.name, "code": cost_center.code},
            "category_id": expense.category_id,
            "category": None
            if category is None
            else {
                "id": category.id,
                "system_category": category.system_category,
                "name": category.name,
                "sub_category": category.sub_category,
                "code": category.code,
                "display_name": display_name(category.name, category.sub_category),
            },
            "project_id": expense.project_id,
            "project": None
            if project is None
            else {
                "id": project.id,
                "name": project.name,
                "sub_project": project.sub_project,
                "code": project.code,
                "display_name": display_name(project.name, project.sub_project),
            },
        }
        self._dimensions[key] = rendered
        return rendered

    def __call__(self, expense: Expense) -> JsonObject:
        store = self.store
        employee = store.employees.get(expense.employee_id)
        employee_json = self._employee(employee) if employee else None
        report, report_approvals = self._report(expense.report_id)
        listed_fields, flattened_fields = custom_fields(store, expense.custom_fields)
        cards = _card_transactions(expense, employee)
        summary = expense.export_summary
        exported = summary is not None and summary.state == "COMPLETE"
        files = [store.files[file_id] for file_id in expense.file_ids if file_id in store.files]
        rendered: dict[str, Any] = {
            "id": expense.id,
            "user_id": employee.user_id if employee else None,
            "user": employee_json["user"] if employee_json else None,
            "org_id": ORG_ID,
            "created_at": timestamp(expense.created_at),
            "updated_at": timestamp(expense.updated_at),
            "spent_at": timestamp(expense.spent_at),
            "source": "WEBAPP" if expense.card_transaction is None else "CORPORATE_CARD",
            "merchant": expense.merchant,
            "currency": expense.currency,
            "amount": money(expense.amount),
            "claim_amount": money(expense.amount) if expense.is_reimbursable else None,
            "foreign_currency": expense.foreign_currency,
            "foreign_amount": money(expense.foreign_amount),
            "purpose": expense.purpose,
            **self._dimensions_of(expense),
            "source_account_id": expense.source_account_id,
            "source_account": {"id": expense.source_account_id, "type": expense.source_account_type},
            "is_billable": expense.is_billable,
            "is_reimbursable": expense.is_reimbursable,
            "travel_classes": [],
            "locations": [],
            "custom_fields": listed_fields,
            "custom_fields_flattened": flattened_fields,
            "state": expense.state,
            "state_display_name": STATE_DISPLAY_NAMES[expense.state],
            "seq_num": expense.seq_num,
            "report_id": expense.report_id,
            "added_to_report_at": timestamp(expense.added_to_report_at),
            "added_to_report_by": "USER" if report else None,
            "report": report,
            "is_receipt_mandatory": False,
            "is_exported": exported,
            "last_exported_at": timestamp(summary.written_at) if summary and exported else None,
            "file_ids": list(expense.file_ids),
            "files": [
                {"id": stored.id, "name": stored.name, "type": stored.type, "content_type": stored.content_type}
                for stored in files
            ],
            "expense_policy_comments": [],
            "approvals": report_approvals,
            "verifications": [],
            "employee_id": expense.employee_id,
            "employee": employee_json,
            "is_corporate_card_transaction_auto_matched": bool(cards),
            "matched_corporate_card_transaction_ids": [card["id"] for card in cards],
            "matched_corporate_card_transactions": cards,
            "matched_corporate_card_transaction_id": cards[0]["id"] if cards else None,
            "matched_corporate_card_transaction": cards[0] if cards else {},
            "last_settled_at": timestamp(expense.last_settled_at),
            "missing_mandatory_fields": {"expense_field_ids": [], "amount": False, "currency": False},
            "creator_user_id": employee.user_id if employee else None,
            "is_manually_flagged": False,
            "is_policy_flagged": False,
            "split_group_id": expense.id,
            "split_group_amount": money(expense.amount),
            "is_split": False,
            "approver_comments": [],
            "verifier_comments": [],
            "policy_checks": {
                "is_amount_limit_applied": False,
                "are_approvers_added": False,
                "is_flagged_ever": False,
                "violations": None,
            },
            "accounting_export_summary": _export_summary(summary),
            "report_last_paid_at": report["last_paid_at"] if report else None,
            "report_last_approved_at": report["last_approved_at"] if report else None,
            "is_duplicate_present": False,
            "is_reconciled": False,
            **_UNMODELLED_NULLS,
        }
        return rendered
