"""Which fields each list filters and sorts on, with their types, read straight off the compact records.

Names follow the JSON the list returns (PostgREST style, `->` into embedded objects, e.g. `source_account->type`,
the filter Fyle's own integrations use). A field missing here is answered with 400, like an unknown column.
"""

from typing import Any

from sandbox.fyle.filters import FieldKind, Fields, FieldSpec
from sandbox.fyle.records import Category, CostCenter, Employee, Expense, ExpenseField, Project, Report
from sandbox.fyle.render import display_name
from sandbox.fyle.render_report import report_amount
from sandbox.fyle.store import FyleStore


def _attributes(kinds: dict[str, FieldKind]) -> dict[str, FieldSpec[Any]]:
    """Fields that are attributes of the record under the same name."""

    def reader(name: str) -> FieldSpec[Any]:
        return FieldSpec(kinds[name], lambda record: getattr(record, name))

    return {name: reader(name) for name in kinds}


_TIMESTAMPS: dict[str, FieldKind] = {"created_at": "datetime", "updated_at": "datetime"}


def expense_fields(store: FyleStore) -> Fields[Expense]:
    def report(expense: Expense) -> Report | None:
        return store.reports.get(expense.report_id) if expense.report_id else None

    def employee_email(expense: Expense) -> str | None:
        employee = store.employees.get(expense.employee_id)
        return employee.email if employee else None

    def user_id(expense: Expense) -> str | None:
        employee = store.employees.get(expense.employee_id)
        return employee.user_id if employee else None

    def report_state(expense: Expense) -> str | None:
        found = report(expense)
        return found.state if found else None

    def report_last_paid_at(expense: Expense) -> Any:
        found = report(expense)
        return found.last_paid_at if found else None

    def report_last_approved_at(expense: Expense) -> Any:
        found = report(expense)
        return found.last_approved_at if found else None

    def export_state(expense: Expense) -> str | None:
        return expense.export_summary.state if expense.export_summary else None

    fields: dict[str, FieldSpec[Expense]] = _attributes(
        {
            "id": "str",
            **_TIMESTAMPS,
            "spent_at": "datetime",
            "added_to_report_at": "datetime",
            "last_settled_at": "datetime",
            "state": "str",
            "seq_num": "str",
            "report_id": "str",
            "employee_id": "str",
            "merchant": "str",
            "purpose": "str",
            "currency": "str",
            "amount": "number",
            "foreign_currency": "str",
            "foreign_amount": "number",
            "is_reimbursable": "bool",
            "is_billable": "bool",
            "category_id": "int",
            "project_id": "int",
            "cost_center_id": "int",
            "source_account_id": "str",
        }
    )
    fields |= {
        "source_account->type": FieldSpec("str", lambda expense: expense.source_account_type),
        "user_id": FieldSpec("str", user_id),
        "employee->user->email": FieldSpec("str", employee_email),
        "report->state": FieldSpec("str", report_state),
        "report_last_paid_at": FieldSpec("datetime", report_last_paid_at),
        "report_last_approved_at": FieldSpec("datetime", report_last_approved_at),
        "accounting_export_summary->state": FieldSpec("str", export_state),
        "is_exported": FieldSpec("bool", lambda expense: export_state(expense) == "COMPLETE"),
    }
    return fields


def report_fields(store: FyleStore) -> Fields[Report]:
    def user_id(report: Report) -> str | None:
        employee = store.employees.get(report.employee_id)
        return employee.user_id if employee else None

    fields: dict[str, FieldSpec[Report]] = _attributes(
        {
            "id": "str",
            **_TIMESTAMPS,
            "state": "str",
            "seq_num": "str",
            "employee_id": "str",
            "purpose": "str",
            "currency": "str",
            "last_submitted_at": "datetime",
            "last_approved_at": "datetime",
            "last_paid_at": "datetime",
            "reimbursement_id": "str",
        }
    )
    fields |= {
        "user_id": FieldSpec("str", user_id),
        "amount": FieldSpec("number", lambda report: report_amount(store, report)),
        "num_expenses": FieldSpec("int", lambda report: len(report.expense_ids)),
    }
    return fields


def employee_fields() -> Fields[Employee]:
    fields: dict[str, FieldSpec[Employee]] = _attributes(
        {
            "id": "str",
            **_TIMESTAMPS,
            "user_id": "str",
            "code": "str",
            "is_enabled": "bool",
            "department_id": "str",
            "location": "str",
            "title": "str",
            "business_unit": "str",
            "joined_at": "datetime",
        }
    )
    fields |= {
        "user->email": FieldSpec("str", lambda employee: employee.email),
        "user->full_name": FieldSpec("str", lambda employee: employee.full_name),
    }
    return fields


def category_fields() -> Fields[Category]:
    fields: dict[str, FieldSpec[Category]] = _attributes(
        {
            "id": "int",
            **_TIMESTAMPS,
            "name": "str",
            "sub_category": "str",
            "code": "str",
            "system_category": "str",
            "is_enabled": "bool",
        }
    )
    fields["display_name"] = FieldSpec("str", lambda category: display_name(category.name, category.sub_category))
    return fields


def project_fields() -> Fields[Project]:
    fields: dict[str, FieldSpec[Project]] = _attributes(
        {"id": "int", **_TIMESTAMPS, "name": "str", "sub_project": "str", "code": "str", "is_enabled": "bool"}
    )
    fields["display_name"] = FieldSpec("str", lambda project: display_name(project.name, project.sub_project))
    return fields


def cost_center_fields() -> Fields[CostCenter]:
    return _attributes({"id": "int", **_TIMESTAMPS, "name": "str", "code": "str", "is_enabled": "bool"})


def expense_field_fields() -> Fields[ExpenseField]:
    return _attributes(
        {
            "id": "int",
            **_TIMESTAMPS,
            "seq": "int",
            "field_name": "str",
            "column_name": "str",
            "type": "str",
            "code": "str",
            "is_enabled": "bool",
            "is_custom": "bool",
            "is_mandatory": "bool",
        }
    )
