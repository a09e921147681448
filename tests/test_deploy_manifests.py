"""The Kubernetes manifests and the Prometheus alert rules parse, and name only what the code really has: commands,
settings, routes and metrics."""

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import REGISTRY

import core.metrics  # noqa: F401 - registers every metric the rules may name
from core.settings import Settings
from ledgerline.app import create_app
from ledgerline.cli import app as cli

DEPLOY = Path(__file__).parent.parent / "deploy"
KUBERNETES = DEPLOY / "kubernetes"
MANIFESTS = sorted(KUBERNETES.glob("*.yaml"))


def documents(path: Path) -> list[dict[str, Any]]:
    return [document for document in yaml.safe_load_all(path.read_text()) if document is not None]


def containers() -> list[dict[str, Any]]:
    found = []
    for path in MANIFESTS:
        for document in documents(path):
            if document["kind"] in ("Deployment", "Job"):
                found.extend(document["spec"]["template"]["spec"]["containers"])
    return found


def test_every_manifest_parses_and_the_kustomization_lists_each_resource() -> None:
    kinds = {document["kind"] for path in MANIFESTS for document in documents(path)}
    assert {"Deployment", "Service", "ConfigMap", "Secret", "Job", "Namespace"} <= kinds
    listed = documents(KUBERNETES / "kustomization.yaml")[0]["resources"]
    assert all((KUBERNETES / name).is_file() for name in listed)
    assert "secret.example.yaml" not in listed  # real secrets come from the operator's store


def test_containers_run_real_commands_with_real_settings() -> None:
    commands = {
        command.name or (command.callback.__name__ if command.callback else "") for command in cli.registered_commands
    }
    settings = {f"LEDGERLINE_{name.upper()}" for name in Settings.model_fields}
    variables: set[str] = set()
    for path in MANIFESTS:
        for document in documents(path):
            if document["kind"] in ("ConfigMap", "Secret"):
                variables |= set(document.get("data") or document.get("stringData") or {})
    for container in containers():
        assert container["command"][:1] == ["ledgerline"] and container["command"][1] in commands
        variables |= {item["name"] for item in container.get("env", [])}
    assert variables and variables <= settings


def test_probes_use_the_health_routes() -> None:
    routes = set(create_app(Settings(env="dev")).openapi()["paths"])
    probed = [
        probe["httpGet"]["path"]
        for container in containers()
        for kind in ("livenessProbe", "readinessProbe")
        if "httpGet" in (probe := container.get(kind, {}))
    ]
    assert set(probed) == {"/healthz", "/readyz"} and set(probed) <= routes


def _known_metric_names() -> set[str]:
    suffixes = ("", "_total", "_bucket", "_count", "_sum", "_created")
    return {family.name + suffix for family in REGISTRY.collect() for suffix in suffixes}


@pytest.mark.parametrize("rule_file", sorted((DEPLOY / "prometheus").glob("*.yml")), ids=lambda path: path.name)
def test_alert_rules_parse_and_name_only_metrics_that_exist(rule_file: Path) -> None:
    groups = documents(rule_file)[0]["groups"]
    rules = [rule for group in groups for rule in group["rules"]]
    assert rules and all({"alert", "expr", "labels", "annotations"} <= set(rule) for rule in rules)
    named = {name for rule in rules for name in re.findall(r"\bledgerline_[a-z_]+", rule["expr"])}
    assert named and named <= _known_metric_names()
