"""Export settings refuse, at save time, every combination that could only fail at export time."""

import pytest
from pydantic import ValidationError

from core.domain import DocumentKind
from mappings import ExportSettings
from mappings.constants import Fund
from mappings.settings_store import kind_problems


def _problem(body: dict[str, object]) -> str:
    with pytest.raises(ValidationError) as caught:
        ExportSettings.model_validate(body)
    return str(caught.value)


def test_the_defaults_are_valid_and_export_reimbursable_expenses_as_expense_reports() -> None:
    settings = ExportSettings()
    assert settings.export_type(Fund.REIMBURSABLE) is DocumentKind.EXPENSE_REPORT
    assert settings.export_type(Fund.CARD) is None
    assert ExportSettings.model_validate(settings.model_dump(mode="json")) == settings


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"employee_as": "vendor"}, "expense reports need employees mapped as employees"),
        ({"reimbursable": {"export_type": "bill"}}, "reimbursable bills need employees mapped as vendors"),
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
        ({"dimensions": [{"source": "project", "destination": "account"}]}, "not a line dimension"),
        (
            {
                "dimensions": [
                    {"source": "project", "destination": "project"},
                    {"source": "custom:Job", "destination": "project"},
                ]
            },
            "same destination dimension",
        ),
        ({"defaults": {"dimensions": {"vendor": "V1"}}}, "not line dimensions"),
        ({"memo": {"line": "{employee_email.__class__}"}}, "unknown placeholder"),
        ({"memo": {"document": "{merchant}"}}, "unknown placeholder"),
        ({"currency": "whatever"}, "currency"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_inconsistent_settings_are_refused_with_a_reason(body: dict[str, object], expected: str) -> None:
    assert expected in _problem(body)


def test_several_problems_are_reported_together() -> None:
    message = _problem({"reimbursable": {"export_type": "bill"}, "card": {"export_type": "bill"}})
    assert "employees mapped as vendors" in message
    assert "card_vendor" in message


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
