"""Which mappings an expense needs to become a line of a given kind of document.

The builders, the list of unmapped values and auto-map all ask this one module, so "what is missing" means the
same thing in a preview, in the mapping screen and in an export.
"""

from dataclasses import dataclass
from enum import StrEnum

from core.domain import DocumentKind, Expense
from mappings.constants import DestinationType, Fund, SourceType
from mappings.expense_fields import field_value, text_of
from mappings.settings import ExportSettings
from mappings.vocabulary import normalize_source_value


class Role(StrEnum):
    """What the destination id a mapping yields fills in on the document."""

    CATEGORY = "category"
    COUNTERPARTY = "counterparty"
    CARD_ACCOUNT = "card_account"
    TAX = "tax"
    DIMENSION = "dimension"
    ENTITY = "entity"


@dataclass(frozen=True, slots=True)
class Need:
    role: Role
    source_type: str
    source_value: str
    destination_type: str
    required: bool = True
    """False for overrides with a default behind them (a card mapped to its own charge-card account)."""


def fund_of(expense: Expense) -> Fund:
    return Fund.REIMBURSABLE if expense.is_reimbursable else Fund.CARD


def category_destination(kind: DocumentKind) -> DestinationType:
    """Expense reports book expense types; every other document books GL accounts."""
    return DestinationType.EXPENSE_TYPE if kind is DocumentKind.EXPENSE_REPORT else DestinationType.ACCOUNT


def needs_employee(kind: DocumentKind, fund: Fund) -> bool:
    """Reimbursable documents owe the employee (as employee or vendor); an expense report always names one."""
    return fund is Fund.REIMBURSABLE or kind is DocumentKind.EXPENSE_REPORT


def card_account_destination(kind: DocumentKind) -> DestinationType | None:
    """Where a card's own mapping points: its charge-card account, or the GL account a card journal credits."""
    if kind is DocumentKind.CHARGE_CARD_TRANSACTION:
        return DestinationType.CHARGE_CARD_ACCOUNT
    if kind is DocumentKind.JOURNAL_ENTRY:
        return DestinationType.ACCOUNT
    return None


def carries_tax(settings: ExportSettings, kind: DocumentKind) -> bool:
    """Journal entries book gross amounts; the other documents split tax out when the tenant exports tax."""
    return settings.tax and kind is not DocumentKind.JOURNAL_ENTRY


def _need(role: Role, source_type: str, value: str, destination: str, *, required: bool = True) -> Need:
    return Need(role, str(source_type), normalize_source_value(source_type, value), str(destination), required)


def needs(expense: Expense, settings: ExportSettings, kind: DocumentKind) -> list[Need]:
    """Every mapping `expense` needs as a line of a `kind` document, required ones and optional overrides."""
    fund = fund_of(expense)
    found = [_need(Role.CATEGORY, SourceType.CATEGORY, expense.category, category_destination(kind))]
    if needs_employee(kind, fund):
        found.append(_need(Role.COUNTERPARTY, SourceType.EMPLOYEE, expense.employee_email, settings.employee_as))
    card_destination = card_account_destination(kind)
    if fund is Fund.CARD and card_destination is not None and expense.corporate_card_id:
        found.append(
            _need(
                Role.CARD_ACCOUNT,
                SourceType.CORPORATE_CARD,
                expense.corporate_card_id,
                card_destination,
                required=False,
            )
        )
    if carries_tax(settings, kind) and expense.tax_group and expense.tax_amount:
        found.append(_need(Role.TAX, SourceType.TAX_GROUP, expense.tax_group, DestinationType.TAX_DETAIL))
    for rule in settings.dimensions:
        value = text_of(field_value(expense, rule.source))
        if value:
            found.append(_need(Role.DIMENSION, rule.source, value, rule.destination))
    routing = entity_routing_value(expense, settings)
    if routing is not None and routing[1]:
        found.append(_need(Role.ENTITY, *routing, DestinationType.ENTITY))
    return found


def entity_routing_value(expense: Expense, settings: ExportSettings) -> tuple[str, str] | None:
    """(source field, its value) that routes `expense` to an entity: None when the settings route nothing, and an
    empty value when the expense leaves that field empty (it then reaches no entity)."""
    if settings.entity is None:
        return None
    return settings.entity.source, text_of(field_value(expense, settings.entity.source))
