"""The simulator's own compact records. They are rendered into the spec's JSON shapes only when a client reads them,
so 100,000 expenses cost little memory and a change to a report shows in all its expenses at once.

Id lists are tuples: tuples of strings are not tracked by the cyclic garbage collector, which keeps its full passes
over 100,000 stored expenses short.
"""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

CustomValue = str | int | bool | list[str] | None


@dataclass(slots=True)
class Department:
    id: str
    name: str
    code: str | None


@dataclass(slots=True)
class Employee:
    id: str
    user_id: str
    email: str
    full_name: str
    code: str | None
    department_id: str | None
    title: str | None
    location: str | None
    business_unit: str | None
    roles: list[str]
    approver_user_ids: list[str]
    is_enabled: bool
    joined_at: datetime
    created_at: datetime
    updated_at: datetime
    cash_account_id: str
    card_account_id: str
    corporate_card_id: str
    card_last4: str


@dataclass(slots=True)
class Category:
    id: int
    name: str
    sub_category: str | None
    code: str | None
    system_category: str | None
    is_enabled: bool
    created_at: datetime
    updated_at: datetime
    restricted_project_ids: list[int] | None = None
    restricted_spender_user_ids: list[str] | None = None


@dataclass(slots=True)
class Project:
    id: int
    name: str
    sub_project: str | None
    code: str | None
    description: str | None
    is_enabled: bool
    created_at: datetime
    updated_at: datetime
    restricted_spender_user_ids: list[str] | None = None
    approver_user_ids: list[str] = field(default_factory=list)
    category_ids: list[int] | None = None
    default_billable: bool | None = None


@dataclass(slots=True)
class CostCenter:
    id: int
    name: str
    code: str | None
    description: str | None
    is_enabled: bool
    created_at: datetime
    updated_at: datetime
    restricted_spender_user_ids: list[str] | None = None


@dataclass(slots=True)
class ExpenseField:
    id: int
    seq: int
    field_name: str
    column_name: str
    type: str
    options: list[str]
    is_custom: bool
    is_mandatory: bool
    created_at: datetime
    updated_at: datetime
    is_enabled: bool = True
    default_value: str | None = None
    placeholder: str | None = None
    category_ids: list[int] = field(default_factory=list)
    code: str | None = None
    parent_field_id: int | None = None
    display_order: int | None = None


@dataclass(slots=True)
class ExportSummary:
    """What an integration wrote back through `accounting_export_summary/bulk`."""

    state: str
    tpa_id: str
    written_at: datetime
    error_type: str | None = None
    url: str | None = None


@dataclass(slots=True)
class CardTransaction:
    """The corporate-card transaction a card expense is matched to."""

    id: str
    corporate_card_id: str
    masked_number: str
    bank_name: str
    posted_at: datetime
    description: str


@dataclass(slots=True)
class Report:
    id: str
    seq_num: str
    employee_id: str
    purpose: str
    currency: str
    state: str
    created_at: datetime
    updated_at: datetime
    expense_ids: tuple[str, ...] = ()
    last_submitted_at: datetime | None = None
    last_approved_at: datetime | None = None
    last_paid_at: datetime | None = None
    reimbursement_id: str | None = None
    reimbursement_seq_num: str | None = None


@dataclass(slots=True)
class Expense:
    id: str
    seq_num: str
    employee_id: str
    state: str
    created_at: datetime
    updated_at: datetime
    spent_at: datetime
    merchant: str
    purpose: str | None
    currency: str
    amount: Decimal
    source_account_id: str
    source_account_type: str
    is_reimbursable: bool
    is_billable: bool
    category_id: int | None
    project_id: int | None = None
    cost_center_id: int | None = None
    foreign_currency: str | None = None
    foreign_amount: Decimal | None = None
    report_id: str | None = None
    added_to_report_at: datetime | None = None
    last_settled_at: datetime | None = None
    file_ids: tuple[str, ...] = ()
    custom_fields: dict[str, CustomValue] = field(default_factory=dict)
    card_transaction: CardTransaction | None = None
    export_summary: ExportSummary | None = None


@dataclass(slots=True)
class StoredFile:
    id: str
    name: str
    type: str
    content_type: str
    user_id: str | None
    created_at: datetime
    updated_at: datetime
    content: bytes | None = None
    expense_id: str | None = None
