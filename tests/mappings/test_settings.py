"""Export settings refuse, at save time, every combination that could only fail at export time."""

import pytest
from pydantic import ValidationError

from core.domain import DocumentKind
from mappings import ExportSettings
from mappings.constants import Fund
from mappings.errors import RejectedChange
from mappings.settings_store import destination_problems, kind_problems, with_default_kinds
from tests.vocabularies import INTACCT


def _problem(body: dict[str, object]) -> str:
    """What a save refuses `body` for: the model's own rules, else what Intacct's vocabulary does not offer."""
    try:
        settings = ExportSettings.model_validate(body)
    except ValidationError as exc:
        return str(exc)
    problems = destination_problems(settings, INTACCT)
    assert problems, f"{body} was accepted"
    return "; ".join(problems)


def test_the_defaults_are_valid_and_export_reimbursable_expenses_as_expense_reports() -> None:
    settings = ExportSettings()
    assert settings.export_type(Fund.REIMBURSABLE) is DocumentKind.EXPENSE_REPORT
    assert settings.export_type(Fund.CARD) is None
    assert ExportSettings.model_validate(settings.model_dump(mode="json")) == settings


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"employee_as": "vendor"}, "reimbursable expense_report documents name employees as employee, not as vendor"),
        (
            {"reimbursable": {"export_type": "bill"}, "employee_as": "employee"},
            "reimbursable bill documents name employees as vendor, not as employee",
        ),
        ({"employee_as": "account"}, "'account' is not a counterparty type of intacct (use vendor or employee)"),
        ({"card": {"export_type": "charge_card_transaction"}}, "defaults.charge_card_account"),
        (
            {
                "card": {"export_type": "charge_card_transaction", "grouping": {"by": "report"}},
                "defaults": {"charge_card_account": "CC"},
            },
            "one per expense",
        ),
        ({"card": {"export_type": "bill"}}, "defaults.card_vendor"),
        ({"reimbursable": {"export_type": "journal_entry"}}, "defaults.journal_credit_account"),
        ({"card": {"export_type": "journal_entry"}}, "defaults.journal_card_credit_account"),
        ({"reimbursable": {"date": "posted"}}, "posted date"),
        ({"reimbursable": {"grouping": {"fields": ["amount"]}}}, "cannot group by amount"),
        ({"reimbursable": {"grouping": {"fields": ["project", "project"]}}}, "listed twice"),
        ({"reimbursable": {"expense_states": []}}, "expense_states"),
        ({"dimensions": [{"source": "category", "destination": "project"}]}, "not a source dimension"),
        (
            {"dimensions": [{"source": "project", "destination": "account"}]},
            "'account' is not a line dimension of intacct",
        ),
        ({"dimensions": [{"source": "project", "destination": "Not A Type"}]}, "destination"),
        (
            {
                "dimensions": [
                    {"source": "project", "destination": "project"},
                    {"source": "custom:Job", "destination": "project"},
                ]
            },
            "same destination dimension",
        ),
        ({"defaults": {"dimensions": {"vendor": "V1"}}}, "'vendor' is not a line dimension"),
        (
            {
                "tax": True,
                "entity": {"source": "project"},
                "dimensions": [{"source": "project", "destination": "udd:"}],
            },
            "destination",
        ),
        ({"memo": {"line": "{employee_email.__class__}"}}, "unknown placeholder"),
        ({"memo": {"document": "{merchant}"}}, "unknown placeholder"),
        ({"currency": "whatever"}, "currency"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_inconsistent_settings_are_refused_with_a_reason(body: dict[str, object], expected: str) -> None:
    assert expected in _problem(body)


def test_several_problems_are_reported_together() -> None:
    settings = ExportSettings.model_validate(
        {
            "reimbursable": {"export_type": "bill"},
            "employee_as": "employee",
            "dimensions": [{"source": "project", "destination": "vendor"}],
        }
    )
    message = "; ".join(destination_problems(settings, INTACCT))
    assert "name employees as vendor" in message
    assert "'vendor' is not a line dimension" in message


def test_employees_go_to_the_type_each_document_takes_when_employee_as_is_not_set() -> None:
    """No employee_as: a reimbursable bill names employees as vendors, an expense report as employees."""
    for kind in ("bill", "expense_report", "journal_entry"):
        body = {"reimbursable": {"export_type": kind}, "defaults": {"journal_credit_account": "2000"}}
        assert destination_problems(ExportSettings.model_validate(body), INTACCT) == []


def test_udd_and_custom_field_dimensions_are_accepted() -> None:
    settings = ExportSettings.model_validate(
        {
            "dimensions": [{"source": "custom:Partner", "destination": "udd:PARTNER"}],
            "defaults": {"dimensions": {"udd:PARTNER": "P1", "location": "L1"}},
        }
    )
    assert settings.dimensions[0].destination == "udd:PARTNER"


def test_an_export_type_the_destination_does_not_create_is_refused_naming_what_it_offers() -> None:
    creates = {Fund.REIMBURSABLE: (DocumentKind.BILL, DocumentKind.JOURNAL_ENTRY), Fund.CARD: ()}
    reports = ExportSettings.model_validate(
        {"card": {"export_type": "bill", "grouping": {"by": "expense"}}, "defaults": {"card_vendor": "V1"}}
    )
    assert kind_problems(reports, creates) == [
        "reimbursable.export_type: this destination creates no expense_report documents; it offers bill, journal_entry",
        "card.export_type: this destination creates no bill documents; it offers nothing",
    ]
    assert kind_problems(reports, None) == []


def test_a_fund_naming_no_export_type_gets_the_destinations_default_and_a_named_one_is_kept() -> None:
    """A destination that creates no expense reports (QuickBooks' spec lists bills first for reimbursable expenses)
    gets bills, not the general default it would refuse; a kind the tenant named stays, to be checked as named."""
    creates = {
        Fund.REIMBURSABLE: (DocumentKind.BILL, DocumentKind.JOURNAL_ENTRY),
        Fund.CARD: (DocumentKind.CHARGE_CARD_TRANSACTION, DocumentKind.BILL),
    }
    unnamed = ExportSettings.model_validate({"card": {}, "defaults": {"charge_card_account": "A1"}})
    filled = with_default_kinds(unnamed, creates)
    assert filled.export_type(Fund.REIMBURSABLE) is DocumentKind.BILL
    assert filled.export_type(Fund.CARD) is DocumentKind.CHARGE_CARD_TRANSACTION
    assert kind_problems(filled, creates) == []
    named = ExportSettings.model_validate({"reimbursable": {"export_type": "expense_report"}})
    assert with_default_kinds(named, creates).export_type(Fund.REIMBURSABLE) is DocumentKind.EXPENSE_REPORT
    assert with_default_kinds(unnamed, None) is unnamed


def test_a_destination_default_that_needs_more_settings_is_refused_saying_so() -> None:
    creates = {Fund.REIMBURSABLE: (DocumentKind.JOURNAL_ENTRY,), Fund.CARD: ()}
    with pytest.raises(RejectedChange, match="journal_credit_account"):
        with_default_kinds(ExportSettings(), creates)
