"""Mappings follow the destination's vocabulary, not one system's names: a made-up destination (no Intacct type in
sight) books categories to its own type, takes its own counterparties and dimensions, and is refused, with a
reason that names what it offers, everything it does not declare."""

from decimal import Decimal

import pytest

from connectors.registry import available_systems, connector_class, destination_vocabulary
from core.destination_vocabulary import (
    AttributeRole,
    AttributeType,
    DestinationVocabulary,
    DocumentBooking,
)
from core.domain import DocumentKind
from core.errors import ValidationError
from mappings import MappingTable, MissingMappingsError, build_document
from mappings.requirements import Role, needs
from mappings.settings_store import destination_problems
from mappings.vocabulary import mapping_problem
from tests.mappings.factories import EXPORT_DAY, expense, settings


def _type(name: str, *roles: AttributeRole) -> AttributeType:
    return AttributeType(name=name, label=name.title(), roles=frozenset(roles))


LEDGERLY = DestinationVocabulary(
    system="ledgerly",
    types=(
        _type("nominal", AttributeRole.CATEGORY, AttributeRole.CREDIT_ACCOUNT, AttributeRole.BANK_ACCOUNT),
        _type("contact", AttributeRole.COUNTERPARTY),
        _type("tracking", AttributeRole.LINE_DIMENSION),
        _type("vat_rate", AttributeRole.TAX),
    ),
    documents=(
        DocumentBooking(DocumentKind.BILL, category_type="nominal", counterparty_types=("contact",)),
        DocumentBooking(DocumentKind.JOURNAL_ENTRY, category_type="nominal", card_account_type="nominal"),
    ),
)
"""A destination with no expense reports, no card accounts of its own, no entities and no user-defined dimensions."""

BILLS = {"reimbursable": {"export_type": "bill"}}


def test_needs_ask_for_the_destinations_own_types() -> None:
    item = expense(project="Apollo", tax_group="VAT20", tax_amount=Decimal("2.00"))
    found = needs(
        item,
        settings(**BILLS, tax=True, dimensions=[{"source": "project", "destination": "tracking"}]),
        DocumentKind.BILL,
        LEDGERLY,
    )
    assert {(need.role, need.destination_type) for need in found} == {
        (Role.CATEGORY, "nominal"),
        (Role.COUNTERPARTY, "contact"),
        (Role.TAX, "vat_rate"),
        (Role.DIMENSION, "tracking"),
    }


def test_a_bill_books_categories_to_the_destinations_category_type() -> None:
    table = MappingTable.of(
        [
            ("category", "Travel", "nominal", "N-400"),
            ("employee", "ada@example.com", "contact", "C-ADA"),
            ("project", "Apollo", "tracking", "T-APOLLO"),
        ]
    )
    document = build_document(
        kind=DocumentKind.BILL,
        expenses=[expense(project="Apollo")],
        settings=settings(**BILLS, dimensions=[{"source": "project", "destination": "tracking"}]),
        mappings=table,
        reference="ll-made-up",
        export_day=EXPORT_DAY,
        vocabulary=LEDGERLY,
    )
    assert [line.account for line in document.lines] == ["N-400"]
    assert document.counterparty == "C-ADA"
    assert document.lines[0].dimensions == {"tracking": "T-APOLLO"}


def test_a_missing_mapping_names_the_destinations_type() -> None:
    with pytest.raises(MissingMappingsError) as caught:
        build_document(
            kind=DocumentKind.BILL,
            expenses=[expense()],
            settings=settings(**BILLS),
            mappings=MappingTable.of([]),
            reference="ll-made-up",
            export_day=EXPORT_DAY,
            vocabulary=LEDGERLY,
        )
    assert {(missing.source_type, missing.destination_type) for missing in caught.value.details} == {
        ("category", "nominal"),
        ("employee", "contact"),
    }


def test_a_kind_the_destination_books_nothing_on_is_refused_before_any_mapping_is_asked_for() -> None:
    with pytest.raises(ValidationError, match="ledgerly books no categories on expense_report documents"):
        needs(expense(), settings(), DocumentKind.EXPENSE_REPORT, LEDGERLY)


@pytest.mark.parametrize(
    ("source_type", "destination_type", "expected"),
    [
        ("category", "nominal", None),
        ("employee", "contact", None),
        ("project", "tracking", None),
        ("tax_group", "vat_rate", None),
        ("category", "account", "'account' is not an attribute type of ledgerly (category values map to nominal)"),
        ("employee", "vendor", "'vendor' is not an attribute type of ledgerly (employee values map to contact)"),
        ("category", "contact", "A category maps to nominal, not to contact."),
        ("project", "nominal", "A project maps to tracking, not to nominal."),
        ("project", "udd:REGION", "'udd:REGION' is not an attribute type of ledgerly"),
        ("corporate_card", "nominal", "A corporate_card maps to nothing, not to nominal."),
    ],
)
def test_mappings_may_point_only_at_types_the_destination_declares_for_that_use(
    source_type: str, destination_type: str, expected: str | None
) -> None:
    problem = mapping_problem(source_type, destination_type, LEDGERLY)
    if expected is None:
        assert problem is None
    else:
        assert problem is not None and expected in problem


def test_settings_are_checked_against_the_destinations_vocabulary() -> None:
    accepted = settings(**BILLS, tax=True, dimensions=[{"source": "project", "destination": "tracking"}])
    assert destination_problems(accepted, LEDGERLY) == []
    refused = settings(
        **BILLS,
        employee_as="employee",
        dimensions=[{"source": "project", "destination": "department"}],
        defaults={"dimensions": {"udd:REGION": "R1"}},
        entity={"source": "cost_center"},
    )
    assert destination_problems(refused, LEDGERLY) == [
        "dimensions[0].destination: 'department' is not a line dimension of ledgerly (use tracking)",
        "defaults.dimensions: 'udd:REGION' is not a line dimension of ledgerly (use tracking)",
        "employee_as: 'employee' is not a counterparty type of ledgerly (use contact)",
        "entity: ledgerly has no entity attribute type to carry it",
    ]


def test_documents_and_systems_are_named_as_the_destinations_spec_says() -> None:
    named = DestinationVocabulary(
        system="ledgerly",
        display_name="Ledgerly Books",
        types=(),
        documents=(DocumentBooking(DocumentKind.BILL, category_type="nominal", label="Purchase invoice"),),
    )
    assert named.document_label("bill") == "Purchase invoice"
    assert named.document_label("journal_entry") == "Journal entry"  # undeclared: the kind in plain words
    assert named.system_label == "Ledgerly Books"
    assert LEDGERLY.system_label == "ledgerly"


def test_every_installed_destination_labels_each_document_it_creates() -> None:
    for system in available_systems():
        spec = connector_class(system).spec
        for document in spec.documents:
            assert document.label, f"{system} gives {document.kind} no label"
            assert destination_vocabulary(system).document_label(document.kind.value) == document.label
