"""Records → the spec's JSON shapes for dimensions, employees and files (expenses and reports have
modules of their own: `render_expense`, `render_report`).

Every required property of the spec's `*_out` schema is present; features the simulator does not model (mileage,
per diem, taxes, policies, …) are rendered as their empty values (`null`, `[]`, `{}`).
"""

import re
from datetime import datetime
from decimal import Decimal
from typing import Any

from sandbox.fyle.constants import ORG_ID, ORG_NAME
from sandbox.fyle.records import Category, CostCenter, CustomValue, Employee, ExpenseField, Project, StoredFile
from sandbox.fyle.store import FyleStore

JsonObject = dict[str, Any]


def timestamp(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def money(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def display_name(name: str, sub: str | None) -> str:
    return f"{name} / {sub}" if sub else name


def flattened_key(name: str) -> str:
    """Spec `flattened_custom_field`: "Key name is converted to snake case and spaces are replaced with underscores"."""
    return re.sub(r"\W+", "_", name.strip()).strip("_").lower()


def custom_fields(store: FyleStore, values: dict[str, CustomValue]) -> tuple[list[JsonObject], JsonObject]:
    """The `custom_fields` list and its `custom_fields_flattened` twin."""
    if not values:
        return [], {}
    fields_by_name = {field.field_name: field for field in store.expense_fields if field.is_custom}
    listed = []
    for name, value in values.items():
        field = fields_by_name.get(name)
        listed.append(
            {"id": field.id if field else None, "name": name, "value": value, "type": field.type if field else None}
        )
    return listed, {flattened_key(name): value for name, value in values.items()}


def user(employee: Employee) -> JsonObject:
    return {"id": employee.user_id, "email": employee.email, "full_name": employee.full_name}


def _department(store: FyleStore, employee: Employee, *, with_display_name: bool) -> JsonObject | None:
    department = store.departments.get(employee.department_id or "")
    if department is None:
        return None
    rendered: JsonObject = {
        "id": department.id,
        "code": department.code,
        "name": department.name,
        "sub_department": None,
    }
    if with_display_name:
        rendered["display_name"] = department.name
    return rendered


def employee_embed(store: FyleStore, employee: Employee, *, for_report: bool) -> JsonObject:
    """`employee_out_embed_for_expense` or, with `for_report`, `employee_out_embed_for_report`."""
    rendered: JsonObject = {
        "id": employee.id,
        "user_id": employee.user_id,
        "user": user(employee),
        "code": employee.code,
        "org_id": ORG_ID,
        "org_name": ORG_NAME,
        "department_id": employee.department_id,
        "department": _department(store, employee, with_display_name=True),
        "level": None,
        "location": employee.location,
        "title": employee.title,
        "business_unit": employee.business_unit,
        "has_accepted_invite": True,
        "is_enabled": employee.is_enabled,
        "mobile": None,
        "joined_at": timestamp(employee.joined_at),
    }
    if for_report:
        rendered["ach_account"] = {"added": False, "verified": False, "suspended": False}
    else:
        rendered["custom_fields"] = []
        rendered["flattened_custom_field"] = {}
    return rendered


def employee_out(store: FyleStore, employee: Employee) -> JsonObject:
    approvers = [found for found in map(store.employee_by_user, employee.approver_user_ids) if found is not None]
    return {
        "id": employee.id,
        "org_id": ORG_ID,
        "created_at": timestamp(employee.created_at),
        "updated_at": timestamp(employee.updated_at),
        "user_id": employee.user_id,
        "user": user(employee),
        "business_unit": employee.business_unit,
        "code": employee.code,
        "department_id": employee.department_id,
        "department": _department(store, employee, with_display_name=False),
        "is_enabled": employee.is_enabled,
        "joined_at": timestamp(employee.joined_at),
        "level_id": None,
        "level": None,
        "location": employee.location,
        "roles": employee.roles,
        "special_email": f"receipts+{employee.id.lower()}@fylehq.com",
        "title": employee.title,
        "custom_fields": [],
        "flattened_custom_field": {},
        "project_ids": [],
        "projects": [],
        "cost_center_ids": [],
        "cost_centers": [],
        "per_diem_rate_ids": [],
        "per_diem_rates": [],
        "mileage_rate_ids": [],
        "mileage_rates": [],
        "approver_user_ids": employee.approver_user_ids,
        "approver_users": [user(approver) for approver in approvers],
        "has_accepted_invite": True,
        "branch_account": None,
        "branch_ifsc": None,
        "mobile": None,
        "is_mobile_verified": None,
        "locale": None,
        "mileage_settings": None,
        "ach_account": None,
        "delegatees": [],
        "category_ids": [],
        "categories": [],
    }


def category_out(category: Category) -> JsonObject:
    return {
        "id": category.id,
        "org_id": ORG_ID,
        "created_at": timestamp(category.created_at),
        "updated_at": timestamp(category.updated_at),
        "name": category.name,
        "sub_category": category.sub_category,
        "is_enabled": category.is_enabled,
        "display_name": display_name(category.name, category.sub_category),
        "system_category": category.system_category,
        "code": category.code,
        "restricted_project_ids": category.restricted_project_ids,
        "restricted_spender_user_ids": category.restricted_spender_user_ids,
    }


def project_out(store: FyleStore, project: Project) -> JsonObject:
    approvers = [found for found in map(store.employee_by_user, project.approver_user_ids) if found is not None]
    return {
        "id": project.id,
        "org_id": ORG_ID,
        "created_at": timestamp(project.created_at),
        "updated_at": timestamp(project.updated_at),
        "name": project.name,
        "sub_project": project.sub_project,
        "code": project.code,
        "description": project.description,
        "display_name": display_name(project.name, project.sub_project),
        "is_enabled": project.is_enabled,
        "restricted_spender_user_ids": project.restricted_spender_user_ids,
        "approver_user_ids": project.approver_user_ids,
        "approver_users": [user(approver) for approver in approvers],
        "category_ids": project.category_ids,
        "default_billable": project.default_billable,
    }


def cost_center_out(cost_center: CostCenter) -> JsonObject:
    return {
        "id": cost_center.id,
        "name": cost_center.name,
        "code": cost_center.code,
        "description": cost_center.description,
        "is_enabled": cost_center.is_enabled,
        "org_id": ORG_ID,
        "created_at": timestamp(cost_center.created_at),
        "updated_at": timestamp(cost_center.updated_at),
        "restricted_spender_user_ids": cost_center.restricted_spender_user_ids,
    }


def expense_field_out(field: ExpenseField) -> JsonObject:
    return {
        "id": field.id,
        "org_id": ORG_ID,
        "created_at": timestamp(field.created_at),
        "updated_at": timestamp(field.updated_at),
        "seq": field.seq,
        "field_name": field.field_name,
        "column_name": field.column_name,
        "type": field.type,
        "options": field.options,
        "default_value": field.default_value,
        "placeholder": field.placeholder,
        "category_ids": field.category_ids,
        "is_enabled": field.is_enabled,
        "is_custom": field.is_custom,
        "is_mandatory": field.is_mandatory,
        "code": field.code,
        "parent_field_id": field.parent_field_id,
        "display_order": field.display_order,
    }


def file_urls(stored: StoredFile, *, download_url: str, upload_url: str | None) -> JsonObject:
    """`file_generate_urls_action_out`."""
    return {
        "id": stored.id,
        "name": stored.name,
        "content_type": stored.content_type,
        "download_url": download_url,
        "upload_url": upload_url,
    }


def file_out(stored: StoredFile, *, download_url: str, upload_url: str | None) -> JsonObject:
    return {
        "id": stored.id,
        "org_id": ORG_ID,
        "user_id": stored.user_id,
        "created_at": timestamp(stored.created_at),
        "updated_at": timestamp(stored.updated_at),
        "name": stored.name,
        "type": stored.type,
        "content_type": stored.content_type,
        "download_url": download_url,
        "upload_url": upload_url,
    }
