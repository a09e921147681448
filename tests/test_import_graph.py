"""The packages import downwards only (DESIGN.md, "Layout"): the web surfaces (`api`, `webhooks`, `dashboard`) stand
on `web` and everything below it and never import one another; `sandbox` imports nothing of ours. A test, so a
sideways edge cannot creep back in: each one found is named with the module and line that adds it."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
OURS = ("core", "connectors", "mappings", "sync", "web", "api", "webhooks", "dashboard", "sandbox", "ledgerline")
SURFACES = ("api", "webhooks", "dashboard")
MAY_IMPORT: dict[str, frozenset[str]] = {
    "core": frozenset({"core"}),
    "connectors": frozenset({"core", "connectors"}),
    "mappings": frozenset({"core", "mappings"}),
    "sync": frozenset({"core", "connectors", "mappings", "sync"}),
    "web": frozenset({"core", "connectors", "mappings", "sync", "web"}),
    **{surface: frozenset({"core", "connectors", "mappings", "sync", "web", surface}) for surface in SURFACES},
    "sandbox": frozenset({"sandbox"}),
}


def _imported_packages(path: Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name.split(".")[0]) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module.split(".")[0]))
    return [(line, package) for line, package in found if package in OURS]


@pytest.mark.parametrize("package", sorted(MAY_IMPORT))
def test_a_package_imports_only_what_lies_below_it(package: str) -> None:
    allowed = MAY_IMPORT[package]
    edges = [
        f"{path.relative_to(ROOT)}:{line} imports {imported}"
        for path in sorted((ROOT / package).rglob("*.py"))
        for line, imported in _imported_packages(path)
        if imported not in allowed
    ]
    assert edges == [], f"{package} may import only {', '.join(sorted(allowed))}:\n" + "\n".join(edges)


def test_the_graph_walks_every_package_it_judges() -> None:
    """A renamed or empty package would make its check pass on nothing."""
    for package in MAY_IMPORT:
        assert any((ROOT / package).rglob("*.py")), package
