"""Fyle `expense_out` (as the `expenses` stream carries it) → the neutral `Expense`.

Only what the document builders, grouping and mappings read is taken out of Fyle's object; every shape problem
(a missing amount, no category, a timestamp that does not parse) becomes `UnreadableRecord` naming the field, so
the pull engine can keep the record with that reason instead of crashing or dropping it.

Amounts arrive as JSON numbers. They are read as `Decimal(str(value))`: the shortest text that round-trips the
parsed float, which is the decimal Fyle wrote, never float arithmetic.
"""

import json
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from connectors.base import UnreadableRecord
from connectors.fyle.records import FyleObject, timestamp
from core.domain import Expense, SourceItem

EXPENSE_APP_PATH: Final = "/app/admin/#/view_expense/{expense_id}"
"""Where a person opens an expense in Fyle's web app, on the org's cluster."""
EXCHANGE_RATE_PLACES: Final = Decimal("0.000001")
"""Fyle sends no exchange rate, only both amounts; the rate is their quotient, to six places. It labels the expense
(grouping puts expenses of one rate together) and is never multiplied back: converted at it, a large or yen amount
misses the booked `amount` by cents. Documents carry both of Fyle's amounts instead (`DocumentLine.base_amount`)."""


def _field(raw: Mapping[str, Any], name: str) -> Any:
    if name not in raw:
        raise UnreadableRecord(f"the Fyle expense has no {name!r}")
    return raw[name]


def _required(raw: Mapping[str, Any], name: str, what: str) -> Any:
    value = raw.get(name)
    if value is None or value == "":
        raise UnreadableRecord(f"the Fyle expense has no {what} ({name!r} is empty)")
    return value


def _embedded(raw: Mapping[str, Any], name: str) -> Mapping[str, Any] | None:
    """An embedded object (`category`, `report`, …); None when Fyle sends null or `{}`."""
    value = raw.get(name)
    if value is None or value == {}:
        return None
    if not isinstance(value, Mapping):
        raise UnreadableRecord(f"the Fyle expense's {name!r} is not an object")
    return value


def _money(value: Any, name: str) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise UnreadableRecord(f"the Fyle expense's {name!r} is not a number: {value!r}")
    try:
        amount = Decimal(str(value))
    except InvalidOperation as exc:
        raise UnreadableRecord(f"the Fyle expense's {name!r} is not a number: {value!r}") from exc
    if not amount.is_finite():
        raise UnreadableRecord(f"the Fyle expense's {name!r} is not a finite number")
    return amount


def _moment(value: Any, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        return timestamp(str(value))
    except ValueError as exc:
        raise UnreadableRecord(f"the Fyle expense's {name!r} is not a timestamp: {value!r}") from exc


def _text(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def _dimension_name(embedded: Mapping[str, Any] | None, sub_field: str) -> str | None:
    """Fyle's `display_name` ("Travel / Taxi"); built the same way from name and sub-name when it is absent."""
    if embedded is None:
        return None
    if embedded.get("display_name"):
        return str(embedded["display_name"])
    name, sub = _text(embedded.get("name")), _text(embedded.get(sub_field))
    if name is None:
        return None
    return f"{name} / {sub}" if sub and sub != name else name


def _custom_value(value: Any) -> str | None:
    """A custom field's value as text: lists joined, booleans as JSON writes them, locations by their address."""
    if value is None or value == "" or value == []:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ", ".join(str(part) for part in value)
    if isinstance(value, Mapping):
        address = value.get("formatted_address") or value.get("display")
        return str(address) if address else json.dumps(value, sort_keys=True)
    return str(value)


def _custom_fields(raw: Mapping[str, Any]) -> dict[str, str]:
    listed = raw.get("custom_fields") or []
    if not isinstance(listed, list):
        raise UnreadableRecord("the Fyle expense's 'custom_fields' is not a list")
    values: dict[str, str] = {}
    for entry in listed:
        if not isinstance(entry, Mapping) or not entry.get("name"):
            raise UnreadableRecord(f"the Fyle expense has a custom field without a name: {entry!r}")
        value = _custom_value(entry.get("value"))
        if value is not None:
            values[str(entry["name"])] = value
    return values


def _card_transaction(raw: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The matched corporate-card transaction: the single object, or the first of the (deprecated) list."""
    single = _embedded(raw, "matched_corporate_card_transaction")
    if single is not None:
        return single
    listed = raw.get("matched_corporate_card_transactions") or []
    first = listed[0] if isinstance(listed, list) and listed else None
    return first if isinstance(first, Mapping) else None


def _spent_on(raw: Mapping[str, Any], card: Mapping[str, Any] | None) -> date:
    """The day of `spent_at` as Fyle wrote it (UTC); a card expense without one takes its transaction's."""
    spent_at = _moment(raw.get("spent_at"), "spent_at")
    if spent_at is None and card is not None:
        spent_at = _moment(card.get("spent_at"), "matched_corporate_card_transaction.spent_at")
    if spent_at is None:
        raise UnreadableRecord("the Fyle expense has no spend date ('spent_at' is empty)")
    return spent_at.date()


def _exchange_rate(amount: Decimal, foreign_amount: Decimal | None, foreign_currency: str | None) -> Decimal | None:
    if not foreign_currency or not foreign_amount:
        return None
    return (amount / foreign_amount).quantize(EXCHANGE_RATE_PLACES)


def _employee(raw: Mapping[str, Any]) -> tuple[str, str | None, str | None]:
    """(email, full name, code) from `employee.user`, falling back to the expense's own `user`."""
    employee = _embedded(raw, "employee")
    user = _embedded(employee, "user") if employee is not None else None
    user = user or _embedded(raw, "user")
    email = _text(user.get("email")) if user is not None else None
    if email is None:
        raise UnreadableRecord("the Fyle expense has no employee email ('employee.user.email' is empty)")
    name = _text(user.get("full_name")) if user is not None else None
    code = _text(employee.get("code")) if employee is not None else None
    return email, name, code


def _department(raw: Mapping[str, Any]) -> str | None:
    """`employee.department`, with its sub-department when it has one (as Fyle shows it: "Sales / EMEA")."""
    employee = _embedded(raw, "employee")
    department = _embedded(employee, "department") if employee is not None else None
    return _dimension_name(department, "sub_department")


def _tax_group(raw: Mapping[str, Any]) -> str | None:
    group = _embedded(raw, "tax_group")
    if group is not None and group.get("name"):
        return str(group["name"])
    return _text(raw.get("tax_group_id"))


def _file_ids(raw: Mapping[str, Any]) -> tuple[str, ...]:
    listed = raw.get("file_ids") or []
    if not isinstance(listed, list):
        raise UnreadableRecord("the Fyle expense's 'file_ids' is not a list")
    return tuple(str(file_id) for file_id in listed)


def _translate(raw: FyleObject, *, app_origin: str | None) -> Expense:
    expense_id = str(_required(raw, "id", "id"))
    amount = _money(_field(raw, "amount"), "amount")
    if amount is None:
        raise UnreadableRecord("the Fyle expense has no amount ('amount' is null)")
    category = _embedded(raw, "category")
    category_name = _dimension_name(category, "sub_category")
    if category_name is None:
        raise UnreadableRecord("the Fyle expense has no category ('category' is null)")
    is_reimbursable = _field(raw, "is_reimbursable")
    if not isinstance(is_reimbursable, bool):
        raise UnreadableRecord(f"the Fyle expense's 'is_reimbursable' is not true or false: {is_reimbursable!r}")
    updated_at = _moment(_required(raw, "updated_at", "update time"), "updated_at")
    assert updated_at is not None
    report = _embedded(raw, "report")
    card = _card_transaction(raw)
    email, employee_name, employee_code = _employee(raw)
    foreign_amount = _money(raw.get("foreign_amount"), "foreign_amount")
    foreign_currency = _text(raw.get("foreign_currency"))
    approved_at = raw.get("report_last_approved_at") or (report or {}).get("last_approved_at")
    return Expense(
        id=expense_id,
        amount=amount,
        currency=str(_required(raw, "currency", "currency")),
        spent_on=_spent_on(raw, card),
        category=category_name,
        employee_email=email,
        is_reimbursable=is_reimbursable,
        state=str(_required(raw, "state", "state")),
        updated_at=updated_at,
        report_id=_text(raw.get("report_id")),
        report_state=_text(report.get("state")) if report is not None else None,
        category_code=_text(category.get("code")) if category is not None else None,
        employee_name=employee_name,
        employee_code=employee_code,
        project=_dimension_name(_embedded(raw, "project"), "sub_project"),
        cost_center=_text((_embedded(raw, "cost_center") or {}).get("name")),
        department=_department(raw),
        merchant=_text(raw.get("merchant")),
        purpose=_text(raw.get("purpose")),
        foreign_amount=foreign_amount,
        foreign_currency=foreign_currency,
        exchange_rate=_exchange_rate(amount, foreign_amount, foreign_currency),
        tax_amount=_money(raw.get("tax_amount"), "tax_amount"),
        tax_group=_tax_group(raw),
        corporate_card_id=_text(card.get("corporate_card_id")) if card is not None else None,
        approved_at=_moment(approved_at, "report_last_approved_at"),
        posted_at=_moment(card.get("posted_at"), "matched_corporate_card_transaction.posted_at") if card else None,
        custom_fields=_custom_fields(raw),
        file_ids=_file_ids(raw),
        url=app_origin + EXPENSE_APP_PATH.format(expense_id=expense_id) if app_origin else None,
    )


def fyle_expense(item: SourceItem, *, app_origin: str | None = None) -> Expense:
    """The `Expense` of one item of Fyle's `expenses` stream; `UnreadableRecord` naming what does not fit.

    `app_origin` (the org's cluster, `https://in1.fylehq.com`) makes the link back to the expense in Fyle."""
    try:
        return _translate(item.data, app_origin=app_origin)
    except UnreadableRecord:
        raise
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise UnreadableRecord(f"the Fyle expense {item.remote_id!r} does not have Fyle's shape: {exc!r}") from exc
