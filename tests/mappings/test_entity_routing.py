"""Entity routing in the pure layer (issue 17, point 5): settings name the source field, grouping keeps one value per
document, the build posts it in the mapped entity, and an expense that reaches no entity is refused with a mapping
error that says what to fix."""

from datetime import date

import pytest
from pydantic import ValidationError as PydanticValidationError

from core.domain import Document, DocumentKind, Expense
from core.errors import MappingError
from mappings import ExportSettings, MappingTable, MissingMappingsError, build_document, plan_groups
from mappings.builders import build_payment
from mappings.vocabulary import mapping_problem
from tests.mappings.factories import expense
from tests.vocabularies import INTACCT

ROUTED = ExportSettings.model_validate(
    {
        "reimbursable": {"export_type": "bill", "grouping": {"by": "report"}},
        "employee_as": "vendor",
        "entity": {"source": "cost_center"},
        "defaults": {"payment_account": "BOA-01"},
    }
)
ROWS = [
    ("category", "Travel", "account", "70004"),
    ("employee", "ada@example.com", "vendor", "V00001"),
    ("cost_center", "Boston", "entity", "E100"),
    ("cost_center", "London", "entity", "E200"),
]
TABLE = MappingTable.of(ROWS)


def build(expenses: list[Expense], settings: ExportSettings = ROUTED, table: MappingTable = TABLE) -> Document:
    return build_document(
        kind=DocumentKind.BILL,
        expenses=expenses,
        settings=settings,
        mappings=table,
        reference="ll-test",
        export_day=date(2026, 5, 10),
        vocabulary=INTACCT,
    )


def test_a_report_spread_over_two_entities_becomes_one_document_per_entity() -> None:
    report = [
        expense(id="tx1", cost_center="Boston"),
        expense(id="tx2", cost_center="London"),
        expense(id="tx3", cost_center="Boston"),
    ]
    plan = plan_groups(report, ROUTED)
    assert sorted(group.expense_ids for group in plan.groups) == [("tx1", "tx3"), ("tx2",)]
    by_entity: dict[str | None, tuple[str, ...]] = {}
    for group in plan.groups:
        members = [item for item in report if item.id in group.expense_ids]
        by_entity[build(members).entity] = group.expense_ids
    assert by_entity == {"E100": ("tx1", "tx3"), "E200": ("tx2",)}


def test_without_routing_documents_go_to_the_connections_own_entity_and_keys_do_not_change() -> None:
    unrouted = ROUTED.model_copy(update={"entity": None})
    report = [expense(id="tx1", cost_center="Boston"), expense(id="tx2", cost_center="London")]
    [group] = plan_groups(report, unrouted).groups
    assert "entity_by" not in group.key
    assert build(report, unrouted).entity is None


def test_an_unmapped_value_is_a_missing_entity_mapping_released_like_any_other() -> None:
    with pytest.raises(MissingMappingsError) as refused:
        build([expense(id="tx1", cost_center="Paris")])
    assert [(m.source_type, m.source_value, m.destination_type) for m in refused.value.details] == [
        ("cost_center", "Paris", "entity")
    ]
    assert "cost_center 'Paris' → entity" in refused.value.message


def test_an_expense_without_the_routing_field_is_refused_naming_the_field_and_the_expense() -> None:
    with pytest.raises(MappingError) as refused:
        build([expense(id="tx-blank", cost_center=None)])
    assert refused.value.code == "no_entity"
    assert "tx-blank" in refused.value.message and "cost_center" in refused.value.message
    assert refused.value.hint is not None and "export settings" in refused.value.hint


def test_routing_by_department_or_a_custom_field_reads_that_field() -> None:
    by_department = ExportSettings.model_validate({**ROUTED.model_dump(), "entity": {"source": "department"}})
    table = MappingTable.of([*ROWS, ("department", "Sales", "entity", "E200")])
    assert build([expense(department="Sales")], by_department, table).entity == "E200"
    by_custom = ExportSettings.model_validate({**ROUTED.model_dump(), "entity": {"source": "custom:Legal Entity"}})
    table = MappingTable.of([*ROWS, ("custom:Legal Entity", "UK Ltd", "entity", "E200")])
    assert build([expense(custom_fields={"Legal Entity": "UK Ltd"})], by_custom, table).entity == "E200"


def test_a_payment_is_posted_in_the_entity_of_the_document_it_pays() -> None:
    bill = build([expense(cost_center="London")])
    payment = build_payment(
        paid=bill, paid_remote_id="42", reference="ll-pay", paid_on=date(2026, 5, 20), settings=ROUTED
    )
    assert payment.entity == "E200"


@pytest.mark.parametrize("source", ["category", "employee", "amount", "custom:", "report_id"])
def test_only_a_dimension_field_can_route_entities(source: str) -> None:
    with pytest.raises(PydanticValidationError, match="not a source dimension"):
        ExportSettings.model_validate({**ROUTED.model_dump(), "entity": {"source": source}})


def test_entities_are_mapped_from_dimension_fields_only() -> None:
    assert mapping_problem("cost_center", "entity", INTACCT) is None
    assert mapping_problem("department", "entity", INTACCT) is None
    assert mapping_problem("custom:Region", "entity", INTACCT) is None
    problem = mapping_problem("category", "entity", INTACCT)
    assert problem is not None and "account or expense_type" in problem
