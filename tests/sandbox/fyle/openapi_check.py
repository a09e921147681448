"""Just enough of OpenAPI 3.0 schema validation to hold the simulator's JSON against Fyle's published spec.

Checks `$ref`, `allOf` (merged), `oneOf`/`anyOf` (any branch), `type`, `nullable`, `enum`, `required`, `properties`,
`additionalProperties: false`, `items`, `maxLength` and `format: date-time`. Returns every problem with its path.
"""

import os
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import yaml

SPECS = Path(os.environ.get("LEDGERLINE_SPECS_DIR", Path(__file__).resolve().parents[3] / "specs")) / "fyle"
"""The published OpenAPI documents, vendored in the repository's `specs/` (with their licence and upstream commit), so
that a fresh clone tests against them with nothing beside it."""
TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "array": (list,),
    "object": (dict,),
}


def _is_type(value: Any, expected: str) -> bool:
    """JSON types; a boolean is not a number, as Python's `bool` subclassing `int` would have it."""
    return isinstance(value, TYPES[expected]) and not (expected in ("integer", "number") and isinstance(value, bool))


@cache
def load(name: str) -> dict[str, Any]:
    with (SPECS / name).open() as handle:
        document: dict[str, Any] = yaml.load(handle, Loader=yaml.CSafeLoader)
    return document


class Checker:
    def __init__(self, document: dict[str, Any]) -> None:
        self.schemas: dict[str, Any] = document["components"]["schemas"]

    def _resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in schema:
            schema = {
                **self.schemas[schema["$ref"].rsplit("/", 1)[-1]],
                **{k: v for k, v in schema.items() if k != "$ref"},
            }
        return schema

    def _merged(self, schema: dict[str, Any]) -> dict[str, Any]:
        """Fold `allOf` into one schema: Fyle composes objects that way (a report plus `updated_by_user`), each part
        with `additionalProperties: false`, meaning the union of their properties."""
        schema = self._resolve(schema)
        if "allOf" not in schema:
            return schema
        merged = {key: value for key, value in schema.items() if key != "allOf"}
        for branch in map(self._merged, schema["allOf"]):
            for key, value in branch.items():
                if key == "properties":
                    merged["properties"] = {**merged.get("properties", {}), **value}
                elif key == "required":
                    merged["required"] = [*merged.get("required", []), *value]
                elif key == "additionalProperties":
                    merged[key] = merged.get(key, True) and value
                else:
                    merged.setdefault(key, value)
        return merged

    def _nullable(self, schema: dict[str, Any]) -> bool:
        schema = self._resolve(schema)
        if schema.get("nullable"):
            return True
        if None in schema.get("enum", []):
            return True
        branches = schema.get("allOf", []) + schema.get("anyOf", []) + schema.get("oneOf", [])
        return "type" not in schema and bool(branches) and any(self._nullable(branch) for branch in branches)

    def problems(self, value: Any, schema: dict[str, Any], path: str = "$") -> list[str]:
        if value is None:
            return [] if self._nullable(schema) or not self._resolve(schema) else [f"{path}: null is not allowed"]
        schema = self._merged(schema)
        found: list[str] = []
        alternatives = schema.get("oneOf", []) + schema.get("anyOf", [])
        if alternatives and all(self.problems(value, branch, path) for branch in alternatives):
            found.append(f"{path}: matches no oneOf/anyOf branch")
        expected = schema.get("type")
        if expected is not None and not _is_type(value, expected):
            return [*found, f"{path}: expected {expected}, got {type(value).__name__}"]
        if "enum" in schema and value not in schema["enum"]:
            found.append(f"{path}: {value!r} not in {schema['enum']}")
        if isinstance(value, str):
            if "maxLength" in schema and len(value) > schema["maxLength"]:
                found.append(f"{path}: longer than {schema['maxLength']}")
            if schema.get("format") == "date-time":
                try:
                    datetime.fromisoformat(value)
                except ValueError:
                    found.append(f"{path}: not a date-time")
        if isinstance(value, list) and "items" in schema:
            for index, item in enumerate(value):
                found += self.problems(item, schema["items"], f"{path}[{index}]")
        if isinstance(value, dict):
            properties = schema.get("properties", {})
            found += [f"{path}: missing {name}" for name in schema.get("required", []) if name not in value]
            for name, item in value.items():
                if name in properties:
                    found += self.problems(item, properties[name], f"{path}.{name}")
                elif schema.get("additionalProperties") is False:
                    found.append(f"{path}: unexpected {name}")
        return found


def response_schema(document: dict[str, Any], path: str, method: str = "get", status: str = "200") -> dict[str, Any]:
    schema: dict[str, Any] = document["paths"][path][method]["responses"][status]["content"]["application/json"][
        "schema"
    ]
    return schema
