"""The demo's seeding is registry-driven (issue 20): its modules name no installed system, none of their attribute
types and no document kind. Whatever only a system knows comes from its connector's spec or its simulator's demo
hook (`sandbox/<system>/demo.py`)."""

import ast
from pathlib import Path

from connectors.registry import available_systems, connector_class
from core.domain import DocumentKind

ROOT = Path(__file__).resolve().parents[2]
DEMO_MODULES = [*sorted((ROOT / "ledgerline").glob("demo_*.py")), ROOT / "ledgerline" / "constants.py"]


def _vocabulary() -> frozenset[str]:
    names = set(available_systems()) | {kind.value for kind in DocumentKind}
    for system in available_systems():
        spec = connector_class(system).spec
        names |= {declared.name for declared in spec.attribute_types}
        names |= {document.object for document in spec.documents if getattr(document, "object", None)}
    return frozenset(names)


def test_the_demo_modules_name_no_system_attribute_type_or_document_kind() -> None:
    names = _vocabulary()
    assert {"fyle", "intacct", "quickbooks", "vendor", "bill"} <= names, "the vocabulary this test looks for"
    found = [
        f"{path.relative_to(ROOT)}:{node.lineno}: {node.value!r}"
        for path in DEMO_MODULES
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.lower() in names
    ]
    assert len(DEMO_MODULES) >= 5
    assert found == [], "the demo reads systems from the registry and their simulators:\n" + "\n".join(found)
