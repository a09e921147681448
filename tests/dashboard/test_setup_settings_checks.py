"""Reading the export settings form back (pure): each problem lands beside the control it is about, whatever form it
comes in — a pydantic `loc`, a refused change's `path: …` prefix, a setting named in passing — and list positions
become the rows the admin typed them in."""

from dashboard.pages.setup_settings_checks import parse_values, place, validate
from dashboard.pages.setup_settings_form import controls_of, form_values
from mappings import ExportSettings


def _values(**changes: str) -> dict[str, str]:
    values = form_values(ExportSettings(), {})
    values.update(changes)
    return values


def test_list_positions_become_the_rows_they_were_typed_in() -> None:
    values = _values(
        **{
            "dimensions.1.source": "project",  # row 0 left empty: this is the list's first rule
            "dimensions.1.destination": "department",
            "defaults.dimensions.0.type": "location",
            "defaults.dimensions.0.value": "L-1",
        }
    )
    parsed = parse_values(values, {})
    assert parsed.body["dimensions"] == [{"source": "project", "destination": "department"}]
    placed = place(
        [
            ("", "dimensions[0].destination: not a line dimension here"),
            ("", "defaults.dimensions.location: no active location 'L-1' in this destination"),
            ("", "with this destination's default export types: something"),
        ],
        parsed,
        controls_of(values),
    )
    assert placed.by_control == {
        "dimensions.1.destination": ["Not a line dimension here"],
        "defaults.dimensions.0.value": ["No active location 'L-1' in this destination"],
    }
    assert placed.unplaced == ["With this destination's default export types: something"]


def test_field_errors_and_the_rules_across_fields_are_reported_together() -> None:
    values = _values(**{"card.export_type": "bill", "reimbursable.expense_states": "", "memo.document": "{nope}"})
    parsed = parse_values(values, {})
    assert validate(parsed) is None
    placed = place(parsed.problems, parsed, controls_of(values))
    assert set(placed.by_control) == {"reimbursable.expense_states", "memo.document", "defaults.card_vendor"}
    assert placed.by_control["defaults.card_vendor"] == ["Card bills need “Vendor of card bills”"]
    assert not placed.unplaced


def test_a_problem_with_a_skip_rule_says_which_rule_and_condition() -> None:
    values = _values(
        skip_rules='[{"name": "x", "conditions": [{"field": "shoe_size", "operator": "equals", "value": "9"}]}]'
    )
    parsed = parse_values(values, {})
    assert validate(parsed) is None
    placed = place(parsed.problems, parsed, controls_of(values))
    [message] = placed.by_control["skip_rules"]
    assert message.startswith("Rule 1, condition 1: ") and "shoe_size" in message
