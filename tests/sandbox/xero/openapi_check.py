"""Holds the Xero simulator's JSON (answers, and the bodies tests send) against Xero's published OpenAPI documents
in `specs/xero/`, reusing the Fyle checker's schema walk (`tests.sandbox.fyle.openapi_check.Checker`, which takes
any document) and adding Xero's one extension that matters on the wire: `x-is-msdate` / `x-is-msdate-time`
strings are `/Date(…)/` values."""

import re
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from tests.sandbox.fyle.openapi_check import SPECS as FYLE_SPECS
from tests.sandbox.fyle.openapi_check import Checker

SPECS = FYLE_SPECS.parent / "xero"
ACCOUNTING = "xero_accounting.yaml"
IDENTITY = "xero-identity.yaml"
API_MOUNT = "/xero/api.xro/2.0"
IDENTITY_MOUNT = "/xero"
MS_DATE = re.compile(r"^/Date\(-?\d+([+-]\d{4})?\)/$")


@cache
def load(name: str) -> dict[str, Any]:
    with (Path(SPECS) / name).open() as handle:
        document: dict[str, Any] = yaml.load(handle, Loader=yaml.CSafeLoader)
    return document


class XeroChecker(Checker):
    """`sending`: a request body, where Xero (and its SDKs) send these dates as ISO 8601 (`2024-01-31`)."""

    def __init__(self, document: dict[str, Any], *, sending: bool = False) -> None:
        super().__init__(document)
        self.sending = sending

    def _iso(self, value: str) -> bool:
        try:
            datetime.fromisoformat(value)
        except ValueError:
            return False
        return self.sending

    def problems(self, value: Any, schema: dict[str, Any], path: str = "$") -> list[str]:
        if isinstance(value, str):
            resolved = self._merged(schema)
            if resolved.get("x-is-msdate") or resolved.get("x-is-msdate-time"):
                return (
                    [] if MS_DATE.match(value) or self._iso(value) else [f"{path}: {value!r} is not a /Date(…)/ value"]
                )
        return super().problems(value, schema, path)


@dataclass(frozen=True, slots=True)
class Operation:
    document: str
    template: str
    pattern: re.Pattern[str]


@cache
def _operations(name: str) -> list[Operation]:
    operations = []
    for template in load(name)["paths"]:
        regex = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$"
        operations.append(Operation(name, template, re.compile(regex, re.IGNORECASE)))
    # Literal segments first: `/Invoices/{InvoiceID}/Attachments` before `/Invoices/{InvoiceID}/{x}`.
    return sorted(operations, key=lambda op: op.template.count("{"))


def operation_for(path: str, method: str | None = None) -> Operation | None:
    """The spec path a simulator URL path answers (with `method`, one that documents it), or None."""
    if path.startswith(API_MOUNT + "/"):
        name, relative = ACCOUNTING, path[len(API_MOUNT) :]
    elif path.startswith(IDENTITY_MOUNT + "/connections") or path.startswith(IDENTITY_MOUNT + "/Connections"):
        name, relative = IDENTITY, path[len(IDENTITY_MOUNT) :]
    else:
        return None
    matching = [op for op in _operations(name) if op.pattern.match(relative)]
    documented = [op for op in matching if method and method.lower() in load(name)["paths"][op.template]]
    return (documented or matching or [None])[0]


def _json_schema(node: dict[str, Any] | None) -> dict[str, Any] | None:
    content = (node or {}).get("content", {})
    media = content.get("application/json")
    schema: dict[str, Any] | None = media.get("schema") if media else None
    return schema


def response_problems(method: str, path: str, status: int, body: Any) -> list[str] | None:
    """Problems of one answer against its documented schema; None when the spec documents no JSON for it."""
    operation = operation_for(path, method)
    if operation is None:
        return None
    document = load(operation.document)
    spec_operation = document["paths"][operation.template].get(method.lower())
    if spec_operation is None:
        return [f"{method} {operation.template} is not in {operation.document}"]
    responses = spec_operation["responses"]
    schema = _json_schema(responses.get(str(status)) or responses.get("default"))
    if schema is None:
        return None
    return XeroChecker(document).problems(body, schema)


def request_problems(method: str, path: str, body: Any) -> list[str] | None:
    operation = operation_for(path, method)
    if operation is None:
        return None
    document = load(operation.document)
    spec_operation = document["paths"][operation.template].get(method.lower()) or {}
    schema = _json_schema(spec_operation.get("requestBody"))
    if schema is None:
        return None
    return XeroChecker(document, sending=True).problems(body, schema)


@dataclass
class Tally:
    """What the hook checked, so a test can assert that checking happened at all."""

    responses: int = 0
    requests: int = 0
    problems: list[str] = field(default_factory=list)
