"""Memo templates take only known placeholders and never evaluate anything a tenant writes."""

import pytest

from mappings.memo import DOCUMENT_PLACEHOLDERS, LINE_PLACEHOLDERS, parse_template


def test_known_placeholders_render_and_empty_ones_leave_no_double_spaces() -> None:
    template = parse_template("{category}  {purpose} - {merchant}", LINE_PLACEHOLDERS)
    assert template.render({"category": "Travel", "merchant": "Uber"}) == "Travel - Uber"


def test_doubled_braces_are_literal_braces() -> None:
    assert parse_template("{{id}} {expense_id}", LINE_PLACEHOLDERS).render({"expense_id": "tx1"}) == "{id} tx1"


@pytest.mark.parametrize(
    "template",
    ["{0.__class__}", "{category.__init__}", "{category!r}", "{amount:>10}", "{nope}", "{}", "lone { brace", "x }"],
)
def test_anything_but_a_known_name_is_refused(template: str) -> None:
    with pytest.raises(ValueError, match=r"placeholder|unbalanced"):
        parse_template(template, LINE_PLACEHOLDERS)


def test_document_memos_cannot_use_line_only_fields() -> None:
    assert "merchant" in LINE_PLACEHOLDERS
    with pytest.raises(ValueError, match="unknown placeholder"):
        parse_template("{merchant}", DOCUMENT_PLACEHOLDERS)


def test_a_rendered_value_is_never_parsed_again() -> None:
    template = parse_template("{purpose}", LINE_PLACEHOLDERS)
    assert template.render({"purpose": "{category} {0.__class__}"}) == "{category} {0.__class__}"


def test_memos_are_cut_to_the_maximum_length() -> None:
    rendered = parse_template("{purpose}", LINE_PLACEHOLDERS).render({"purpose": "x" * 5000})
    assert len(rendered) == 1000
