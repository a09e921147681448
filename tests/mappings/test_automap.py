"""Auto-map matching: one candidate maps, several are ambiguous and map nothing, none is unmatched."""

import uuid

from mappings import Candidate, SourceValue, match_values


def _candidate(name: str, code: str | None = None, *emails: str) -> Candidate:
    return Candidate(uuid.uuid4(), f"R-{name}", name, code, frozenset(emails))


def _employee(email: str, name: str | None = None, code: str | None = None) -> SourceValue:
    return SourceValue("employee", email, "employee", name, code, email)


def test_employees_match_by_email_ignoring_case() -> None:
    ada = _candidate("Ada Lovelace", "E1", "ada@example.com")
    result = match_values([_employee("ADA@Example.com")], [ada, _candidate("Alan Turing", "E2")], "email")
    assert [(value.source_value, candidate) for value, candidate in result.mapped] == [("ADA@Example.com", ada)]


def test_employees_match_by_name_ignoring_case_and_spacing() -> None:
    grace = _candidate("Grace  Hopper")
    result = match_values([_employee("grace@example.com", name=" grace hopper")], [grace], "name")
    assert result.mapped[0][1] == grace


def test_two_employees_with_the_same_name_are_ambiguous_and_not_mapped() -> None:
    first, second = _candidate("Sam Lee", "E7"), _candidate("Sam Lee", "E8")
    result = match_values([_employee("sam@example.com", name="Sam Lee")], [first, second], "name")
    assert result.mapped == ()
    (ambiguous,) = result.ambiguous
    assert set(ambiguous.candidates) == {first, second}
    assert ambiguous.match_on == "name"


def test_the_same_name_is_still_mapped_by_code() -> None:
    first, second = _candidate("Sam Lee", "E7"), _candidate("Sam Lee", "E8")
    result = match_values([_employee("sam@example.com", name="Sam Lee", code="e8")], [first, second], "code")
    assert result.mapped[0][1] == second
    assert result.ambiguous == ()


def test_values_without_a_match_or_without_the_matched_field_are_unmatched() -> None:
    values = [_employee("x@example.com", name="Nobody"), _employee("y@example.com")]
    result = match_values(values, [_candidate("Someone")], "name")
    assert result.unmatched == tuple(values)


def test_categories_match_by_name_or_code() -> None:
    travel = Candidate(uuid.uuid4(), "6000", "Travel", "6000", frozenset())
    by_name = SourceValue("category", "travel", "account", "travel", None, None)
    by_code = SourceValue("category", "Trips", "account", "Trips", "6000", None)
    assert match_values([by_name], [travel], "name").mapped[0][1] == travel
    assert match_values([by_code], [travel], "code").mapped[0][1] == travel
