"""Which mappings an expense needs to become a line of a given kind of document.

The builders, the list of unmapped values and auto-map all ask this one module, so "what is missing" means the
same thing in a preview, in the mapping screen and in an export.
"""

from dataclasses import dataclass
from enum import StrEnum

from core.destination_vocabulary import AttributeRole, DestinationVocabulary
from core.domain import DocumentKind, Expense
from core.errors import ValidationError
from mappings.constants import Fund, SourceType
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


def _unsupported(vocabulary: DestinationVocabulary, what: str) -> ValidationError:
    return ValidationError(
        f"{vocabulary.system} {what}.",
        code="unsupported_by_destination",
        hint="Change the export settings to what this destination offers, then replay.",
    )


def category_destination(kind: DocumentKind, vocabulary: DestinationVocabulary) -> str:
    """The type a `kind` document books categories to (Intacct: expense types on expense reports, else accounts)."""
    destination = vocabulary.category_type(kind)
    if destination is None:
        raise _unsupported(vocabulary, f"books no categories on {kind} documents")
    return destination


def needs_employee(kind: DocumentKind, fund: Fund) -> bool:
    """Reimbursable documents owe the employee (as employee or vendor); an expense report always names one."""
    return fund is Fund.REIMBURSABLE or kind is DocumentKind.EXPENSE_REPORT


def counterparty_destination(settings: ExportSettings, kind: DocumentKind, vocabulary: DestinationVocabulary) -> str:
    """The type employees are mapped to on a `kind` document: `employee_as`, else the first type it accepts."""
    if settings.employee_as is not None:
        return settings.employee_as
    accepted = vocabulary.counterparty_types(kind)
    if not accepted:
        raise _unsupported(vocabulary, "has no attribute type to name an employee as")
    return accepted[0]


def card_account_destination(kind: DocumentKind, vocabulary: DestinationVocabulary) -> str | None:
    """Where a card's own mapping points on a `kind` document, or None when it has no use there."""
    return vocabulary.card_account_type(kind)


def _single(role: AttributeRole, vocabulary: DestinationVocabulary, setting: str) -> str:
    destination = vocabulary.first_with(role)
    if destination is None:
        raise _unsupported(vocabulary, f"has no {role} attribute type, which {setting} needs")
    return destination


def carries_tax(settings: ExportSettings, kind: DocumentKind) -> bool:
    """Journal entries book gross amounts; the other documents split tax out when the tenant exports tax."""
    return settings.tax and kind is not DocumentKind.JOURNAL_ENTRY


def _need(role: Role, source_type: str, value: str, destination: str, *, required: bool = True) -> Need:
    return Need(role, str(source_type), normalize_source_value(source_type, value), str(destination), required)


def needs(
    expense: Expense, settings: ExportSettings, kind: DocumentKind, vocabulary: DestinationVocabulary
) -> list[Need]:
    """Every mapping `expense` needs as a line of a `kind` document in the destination `vocabulary` describes,
    required ones and optional overrides."""
    fund = fund_of(expense)
    found = [_need(Role.CATEGORY, SourceType.CATEGORY, expense.category, category_destination(kind, vocabulary))]
    if needs_employee(kind, fund):
        counterparty = counterparty_destination(settings, kind, vocabulary)
        found.append(_need(Role.COUNTERPARTY, SourceType.EMPLOYEE, expense.employee_email, counterparty))
    card_destination = card_account_destination(kind, vocabulary)
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
        tax = _single(AttributeRole.TAX, vocabulary, "tax")
        found.append(_need(Role.TAX, SourceType.TAX_GROUP, expense.tax_group, tax))
    for rule in settings.dimensions:
        value = text_of(field_value(expense, rule.source))
        if value:
            found.append(_need(Role.DIMENSION, rule.source, value, rule.destination))
    routing = entity_routing_value(expense, settings)
    if routing is not None and routing[1]:
        found.append(_need(Role.ENTITY, *routing, _single(AttributeRole.ENTITY, vocabulary, "entity routing")))
    return found


def entity_routing_value(expense: Expense, settings: ExportSettings) -> tuple[str, str] | None:
    """(source field, its value) that routes `expense` to an entity: None when the settings route nothing, and an
    empty value when the expense leaves that field empty (it then reaches no entity)."""
    if settings.entity is None:
        return None
    return settings.entity.source, text_of(field_value(expense, settings.entity.source))
