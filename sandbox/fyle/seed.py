"""Deterministic seed data: one organisation with employees, dimensions, reports in every state and their expenses.

Everything is drawn from `store.rng` (a `random.Random(seed)`), with timestamps placed in the days before the
clock's `now()`, so the same seed gives the same ids, amounts and (relative) timeline on every reset.
"""

from datetime import datetime, timedelta
from decimal import Decimal

from sandbox.fyle import catalog
from sandbox.fyle.constants import (
    APPROVED_STATES,
    BILLABLE_SHARE,
    CATEGORY_ID_START,
    CLIENT_FIELD_SHARE,
    CORPORATE_CARD_SHARE,
    COST_CENTER_ID_START,
    CREDIT_SHARE,
    EXCHANGE_RATES_TO_USD,
    EXPENSE_FIELD_ID_START,
    EXPENSE_STATE_IN_REPORT,
    FOREIGN_CURRENCY_SHARE,
    MONEY_QUANTUM,
    NON_REIMBURSABLE_CASH_SHARE,
    ORG_CURRENCY,
    PDF_RECEIPT_SHARE,
    PROJECT_ID_START,
    PROJECT_SHARE,
    RECEIPT_SHARE,
    REIMBURSED_STATES,
    SEED_EMPLOYEES,
    SEED_EXPENSES_PER_REPORT,
    SEED_HISTORY_DAYS,
    SEED_REPORT_STATES,
    SEED_REPORTS,
    SEED_UNREPORTED_EXPENSES,
    SUBMITTED_STATES,
    UNREPORTED_EXPENSE_STATE,
)
from sandbox.fyle.records import (
    CardTransaction,
    Category,
    CostCenter,
    Department,
    Employee,
    Expense,
    ExpenseField,
    Project,
    Report,
    StoredFile,
)
from sandbox.fyle.store import FyleStore

FOREIGN_CURRENCIES = tuple(code for code in EXCHANGE_RATES_TO_USD if code != ORG_CURRENCY)


def _days_ago(store: FyleStore, anchor: datetime, low: float, high: float) -> datetime:
    return anchor - timedelta(days=store.rng.uniform(low, high))


def _seq(prefix: str, moment: datetime, kind: str, number: int) -> str:
    return f"{prefix}/{moment:%Y/%m}/{kind}/{number}"


def _seed_employees(store: FyleStore, anchor: datetime) -> None:
    rng = store.rng
    for name, code in catalog.DEPARTMENTS:
        department = Department(id=store.new_id("dept"), name=name, code=code)
        store.departments[department.id] = department
    department_ids = list(store.departments)
    names = rng.sample([(first, last) for first in catalog.FIRST_NAMES for last in catalog.LAST_NAMES], SEED_EMPLOYEES)
    managers: list[str] = []
    for number, (first, last) in enumerate(names, start=1):
        joined = _days_ago(store, anchor, SEED_HISTORY_DAYS * 2, SEED_HISTORY_DAYS * 6)
        user_id = store.new_id("us")
        roles = ["FYLER", "ADMIN"] if number == 1 else ["FYLER", "APPROVER"] if number <= 3 else ["FYLER"]
        employee = Employee(
            id=store.new_id("ou"),
            user_id=user_id,
            email=f"{first}.{last}@{catalog.EMAIL_DOMAIN}".lower(),
            full_name=f"{first} {last}",
            code=f"E{number:03d}",
            department_id=rng.choice(department_ids),
            title=rng.choice(catalog.TITLES),
            location=rng.choice(catalog.LOCATIONS),
            business_unit=rng.choice(catalog.BUSINESS_UNITS),
            roles=roles,
            approver_user_ids=[rng.choice(managers)] if managers else [],
            is_enabled=True,
            joined_at=joined,
            created_at=joined,
            updated_at=joined + timedelta(days=rng.uniform(0, SEED_HISTORY_DAYS)),
            cash_account_id=store.new_id("acc"),
            card_account_id=store.new_id("acc"),
            corporate_card_id=store.new_id("bacc"),
            card_last4=f"{rng.randrange(10_000):04d}",
        )
        if "APPROVER" in roles:
            managers.append(user_id)
        store.add_employee(employee)


def _seed_dimensions(store: FyleStore, anchor: datetime) -> None:
    def created() -> tuple[datetime, datetime]:
        moment = _days_ago(store, anchor, SEED_HISTORY_DAYS, SEED_HISTORY_DAYS * 3)
        return moment, moment

    for offset, seed in enumerate((*catalog.CATEGORIES, catalog.DISABLED_CATEGORY)):
        at, updated = created()
        store.categories.add(
            Category(
                id=CATEGORY_ID_START + offset,
                name=seed.name,
                sub_category=seed.sub_category,
                code=seed.code,
                system_category=seed.system_category,
                is_enabled=seed is not catalog.DISABLED_CATEGORY,
                created_at=at,
                updated_at=updated,
            )
        )
    for offset, (name, sub_project, code) in enumerate(catalog.PROJECTS):
        at, updated = created()
        store.projects.add(Project(PROJECT_ID_START + offset, name, sub_project, code, None, True, at, updated))
    for offset, (name, code) in enumerate(catalog.COST_CENTERS):
        at, updated = created()
        store.cost_centers.add(CostCenter(COST_CENTER_ID_START + offset, name, code, None, True, at, updated))
    for offset, field in enumerate(catalog.EXPENSE_FIELDS):
        at, updated = created()
        store.expense_fields.add(
            ExpenseField(
                id=EXPENSE_FIELD_ID_START + offset,
                seq=offset + 1,
                field_name=field.field_name,
                column_name=field.column_name,
                type=field.type,
                options=list(field.options),
                is_custom=field.is_custom,
                is_mandatory=field.is_mandatory,
                created_at=at,
                updated_at=updated,
                display_order=offset + 1 if field.is_custom else None,
            )
        )


def _amounts(store: FyleStore, seed: catalog.CategorySeed) -> tuple[Decimal, str | None, Decimal | None]:
    """(amount in the org currency, foreign currency, foreign amount)."""
    rng = store.rng
    base = Decimal(str(rng.uniform(float(seed.low), float(seed.high)))).quantize(MONEY_QUANTUM)
    if rng.random() >= FOREIGN_CURRENCY_SHARE:
        return base, None, None
    currency = rng.choice(FOREIGN_CURRENCIES)
    rate = EXCHANGE_RATES_TO_USD[currency]
    foreign = (base / rate).quantize(MONEY_QUANTUM)
    return (foreign * rate).quantize(MONEY_QUANTUM), currency, foreign


def _receipt(store: FyleStore, expense: Expense, employee: Employee) -> StoredFile:
    as_pdf = store.rng.random() < PDF_RECEIPT_SHARE
    name = f"receipt_{expense.seq_num.replace('/', '_').lower()}.{'pdf' if as_pdf else 'png'}"
    content = catalog.receipt_pdf(expense.merchant, str(expense.amount)) if as_pdf else catalog.receipt_png(len(name))
    return StoredFile(
        id=store.new_id("fi"),
        name=name,
        type="RECEIPT",
        content_type="application/pdf" if as_pdf else "image/png",
        user_id=employee.user_id,
        created_at=expense.created_at,
        updated_at=expense.created_at,
        content=content,
        expense_id=expense.id,
    )


def new_expense(store: FyleStore, employee: Employee, *, before: datetime, with_receipt: bool) -> Expense:
    """An unreported expense created up to two days `before`, with a realistic amount, currency, payment source and
    dimensions."""
    rng = store.rng
    created_at = before - timedelta(hours=rng.uniform(0, 48))
    category = rng.choice(catalog.CATEGORIES)
    category_id = CATEGORY_ID_START + catalog.CATEGORIES.index(category)
    amount, foreign_currency, foreign_amount = _amounts(store, category)
    spent_at = created_at - timedelta(hours=rng.uniform(0, 240))
    on_card = rng.random() < CORPORATE_CARD_SHARE
    merchant = rng.choice(catalog.MERCHANTS)
    if on_card and rng.random() < CREDIT_SHARE:
        amount, foreign_amount = -amount, None if foreign_amount is None else -foreign_amount
    expense = Expense(
        id=store.new_id("tx"),
        seq_num=_seq("E", created_at, "T", store.next_number("expense")),
        employee_id=employee.id,
        state=UNREPORTED_EXPENSE_STATE,
        created_at=created_at,
        updated_at=created_at,
        spent_at=spent_at,
        merchant=merchant,
        purpose=rng.choice(catalog.PURPOSES),
        currency=ORG_CURRENCY,
        amount=amount,
        source_account_id=employee.card_account_id if on_card else employee.cash_account_id,
        source_account_type="PERSONAL_CORPORATE_CREDIT_CARD_ACCOUNT" if on_card else "PERSONAL_CASH_ACCOUNT",
        is_reimbursable=not on_card and rng.random() >= NON_REIMBURSABLE_CASH_SHARE,
        is_billable=rng.random() < BILLABLE_SHARE,
        category_id=category_id,
        project_id=PROJECT_ID_START + rng.randrange(len(catalog.PROJECTS)) if rng.random() < PROJECT_SHARE else None,
        cost_center_id=COST_CENTER_ID_START + rng.randrange(len(catalog.COST_CENTERS)),
        foreign_currency=foreign_currency,
        foreign_amount=foreign_amount,
        custom_fields={"Client Name": rng.choice(catalog.CLIENT_NAMES)} if rng.random() < CLIENT_FIELD_SHARE else {},
    )
    if on_card:
        expense.card_transaction = CardTransaction(
            id=store.new_id("btxn"),
            corporate_card_id=employee.corporate_card_id,
            masked_number=f"**** {employee.card_last4}",
            bank_name=catalog.BANKS[len(employee.full_name) % len(catalog.BANKS)],
            posted_at=spent_at + timedelta(days=rng.uniform(0.5, 3)),
            description=f"{merchant.upper()} {employee.card_last4}",
        )
    if with_receipt:
        stored = _receipt(store, expense, employee)
        store.files[stored.id] = stored
        expense.file_ids = (stored.id,)
    return expense


def new_report(
    store: FyleStore, employee: Employee, expenses: list[Expense], state: str, created_at: datetime
) -> Report:
    """A report holding `expenses`, with the timeline of a report that reached `state` after `created_at`."""
    rng = store.rng
    now = store.now()
    moment = created_at

    def later(low_hours: float, high_hours: float) -> datetime:
        return min(moment + timedelta(hours=rng.uniform(low_hours, high_hours)), now)

    report = Report(
        id=store.new_id("rp"),
        seq_num=_seq("C", created_at, "R", store.next_number("report")),
        employee_id=employee.id,
        purpose=f"{rng.choice(catalog.PURPOSES)} - {created_at:%b %Y}",
        currency=ORG_CURRENCY,
        state=state,
        created_at=created_at,
        updated_at=created_at,
        expense_ids=tuple(expense.id for expense in expenses),
    )
    if state in SUBMITTED_STATES:
        moment = report.last_submitted_at = later(1, 72)
    if state in APPROVED_STATES:
        moment = report.last_approved_at = later(1, 72)
    if state in REIMBURSED_STATES and any(expense.is_reimbursable for expense in expenses):
        report.reimbursement_id = store.new_id("reim")
        report.reimbursement_seq_num = _seq("P", moment, "R", store.next_number("reimbursement"))
    if state == "PAID":
        moment = report.last_paid_at = later(24, 120)
    report.updated_at = moment
    for expense in expenses:
        expense.report_id = report.id
        expense.state = EXPENSE_STATE_IN_REPORT[state]
        expense.added_to_report_at = created_at
        expense.updated_at = moment
        if state == "PAID":
            expense.last_settled_at = moment
    return report


def seed_store(store: FyleStore) -> None:
    anchor = store.now()
    _seed_employees(store, anchor)
    _seed_dimensions(store, anchor)
    employees = list(store.employees)
    reports: list[Report] = []
    expenses: list[Expense] = []
    for number in range(SEED_REPORTS):
        employee = store.rng.choice(employees)
        created_at = _days_ago(store, anchor, 10, SEED_HISTORY_DAYS)
        count = store.rng.randint(*SEED_EXPENSES_PER_REPORT)
        batch = [
            new_expense(store, employee, before=created_at, with_receipt=store.rng.random() < RECEIPT_SHARE)
            for _ in range(count)
        ]
        state = SEED_REPORT_STATES[number % len(SEED_REPORT_STATES)]
        reports.append(new_report(store, employee, batch, state, created_at))
        expenses.extend(batch)
    for _ in range(SEED_UNREPORTED_EXPENSES):
        created_at = _days_ago(store, anchor, 0.1, 10)
        employee = store.rng.choice(employees)
        expenses.append(
            new_expense(store, employee, before=created_at, with_receipt=store.rng.random() < RECEIPT_SHARE)
        )
    store.reports.add_many(reports)
    store.expenses.add_many(expenses)


def generate_expenses(store: FyleStore, *, count: int, state: str, per_report: int) -> int:
    """Add `count` expenses without receipts: unreported when `state` is COMPLETE, else `per_report` to a report."""
    anchor = store.now()
    employees = list(store.employees)
    reports: list[Report] = []
    expenses: list[Expense] = []
    while len(expenses) < count:
        employee = store.rng.choice(employees)
        created_at = _days_ago(store, anchor, 0.01, SEED_HISTORY_DAYS)
        size = 1 if state == UNREPORTED_EXPENSE_STATE else min(per_report, count - len(expenses))
        batch = [new_expense(store, employee, before=created_at, with_receipt=False) for _ in range(size)]
        if state != UNREPORTED_EXPENSE_STATE:
            reports.append(new_report(store, employee, batch, state, created_at))
        expenses.extend(batch)
    store.reports.add_many(reports)
    store.expenses.add_many(expenses)
    return len(expenses)
