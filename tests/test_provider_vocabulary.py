"""`mappings` and `sync` name no destination's attribute types: they read them from the connector's spec through a
`DestinationVocabulary` (issue 19, "Connector contract"). A test, so that a closed list of one system's names cannot
creep back in: every string literal and enum member of those packages equal to one of Sage Intacct's attribute
types (or its user-defined dimension prefix) is reported with its file and line, unless allowed below."""

import ast
from pathlib import Path

import pytest

from connectors.spec import load_spec

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("mappings", "sync")

ALLOWED: dict[tuple[str, str], str] = {
    ("mappings/constants.py", "employee"): "SourceType: the source expense's employee, not a destination type",
    ("mappings/constants.py", "project"): "SourceType: the source expense's project",
    ("mappings/constants.py", "department"): "SourceType: the source expense's department",
    ("mappings/expense_fields.py", "project"): "an `Expense` field a grouping or skip rule reads",
    ("mappings/expense_fields.py", "department"): "an `Expense` field a grouping or skip rule reads",
    ("mappings/memo.py", "project"): "a memo placeholder naming the expense's field",
    ("mappings/memo.py", "department"): "a memo placeholder naming the expense's field",
    ("mappings/grouping.py", "employee"): "a part of a group key: the source expense's employee",
    ("mappings/requirements.py", "entity"): "Role.ENTITY: the `Document.entity` a need fills, a core domain field",
    ("sync/entity_routing.py", "entity"): "the `Document.entity` key of a stored document",
    ("sync/connection_settings.py", "account"): "a source connection's payment setting (where Fyle books payments)",
    ("sync/source_payments.py", "account"): "the same source payment setting, read and audited",
}
"""(file, name) → why that occurrence is neutral. Source-side words and core domain fields happen to share a
destination's type names; none of them says what a destination's attribute types are."""


def _intacct_names() -> frozenset[str]:
    spec = load_spec("intacct")
    prefix = spec.user_dimensions.prefix if spec.user_dimensions is not None else None
    return frozenset({declared.name for declared in spec.attribute_types} | ({prefix} if prefix else set()))


def _occurrences(path: Path, names: frozenset[str]) -> list[tuple[int, str, str]]:
    """(line, name, what) of every string literal equal to one of `names`, and every enum-like class attribute named
    after one (`EXPENSE_TYPE = …`)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in names:
            found.append((node.lineno, node.value, "string literal"))
        elif isinstance(node, ast.ClassDef):
            for statement in node.body:
                targets = statement.targets if isinstance(statement, ast.Assign) else []
                for target in targets:
                    if isinstance(target, ast.Name) and target.id.lower() in names:
                        found.append((statement.lineno, target.id.lower(), f"member {node.name}.{target.id}"))
    return found


def test_intacct_declares_the_names_this_test_looks_for() -> None:
    """An empty list would make the next test pass on nothing."""
    assert {"account", "expense_type", "charge_card_account", "udd:"} <= _intacct_names()


@pytest.mark.parametrize("package", PACKAGES)
def test_no_destination_attribute_type_is_named_outside_its_connector(package: str) -> None:
    names = _intacct_names()
    seen: set[tuple[str, str]] = set()
    offending = []
    for path in sorted((ROOT / package).rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        for line, name, what in _occurrences(path, names):
            if (relative, name) in ALLOWED:
                seen.add((relative, name))
            else:
                offending.append(f"{relative}:{line}: {what} {name!r}")
    assert offending == [], "a destination's attribute types come from its spec (DestinationVocabulary):\n" + "\n".join(
        offending
    )
    stale = [
        f"{where}: {name!r}" for where, name in ALLOWED if where.startswith(f"{package}/") and (where, name) not in seen
    ]
    assert stale == [], "allowed occurrences that no longer exist (remove them from ALLOWED):\n" + "\n".join(stale)
