"""The settings a connection takes, each with the one check that create, PATCH and the runs all use.

A connection's settings are typed by what it is (`settings_of`): the shared settings its role reads (a destination's
`push_dimensions`, `realtime_export` and `record_source_payments`; every connector's `rate_limit`; the generic
sender's `trigger`) plus the settings its connector's spec declares (`ConnectorSpec.settings`). A person may give
only those, each of the right shape; settings the system writes itself (what an OAuth authorization learned, such as
Fyle's `cluster_domain`) are declared too, but a person may neither give nor change them.

Before, the API checked `push_dimensions` as a flag while the import run needed a mapping, so the documented setting
could not be given a value that worked; and a new connection stored any other key unchecked.
"""

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from connectors.registry import available_systems
from connectors.spec import SettingField, SettingWriter, load_spec
from core.models import ConnectionRole
from sync.constants import (
    DIMENSION_TYPE_NAME_MAX_LENGTH,
    GENERIC_SENDER,
    PUSH_DIMENSIONS_SETTING,
    RATE_LIMIT_SETTING,
    REALTIME_EXPORT_SETTING,
    RECORD_SOURCE_PAYMENTS_SETTING,
    TRIGGER_SETTING,
)
from sync.rate_budget import CONFIGURABLE_LIMITS
from sync.runs import RunKind
from sync.source_payments import SourcePaymentSettings


def _flag(value: Any) -> str | None:
    return None if isinstance(value, bool) else "must be true or false"


def _named(value: Any) -> bool:
    return isinstance(value, str) and 0 < len(value.strip()) <= DIMENSION_TYPE_NAME_MAX_LENGTH


def _dimension_pushes(value: Any) -> str | None:
    if not isinstance(value, dict) or not value or not all(_named(key) and _named(name) for key, name in value.items()):
        return (
            "must map each destination dimension type to the source dimension it fills, "
            'e.g. {"project": "projects", "department": "cost_centers"}'
        )
    return None


def _whole(number: Any) -> bool:
    """JSON has one kind of number: 15.0 is the whole number 15, as JSON Schema's `integer` and the rate budget
    (`RateLimitSpec`, which reads it as 15) both count it."""
    return isinstance(number, int | float) and not isinstance(number, bool) and float(number).is_integer()


def _rate_limit(value: Any) -> str | None:
    if not isinstance(value, dict) or not value or set(value) - CONFIGURABLE_LIMITS:
        return f"must be an object of {', '.join(sorted(CONFIGURABLE_LIMITS))}"
    if any(not _whole(number) or number < 1 for number in value.values()):
        return "limits must be whole numbers of at least 1"
    return None


def _source_payments(value: Any) -> str | None:
    if not isinstance(value, Mapping):  # `SourcePaymentSettings.of` reads any empty value as "off"; only {} says so
        return 'must be {"account": "<bank account id>", "payment_method": …}, or {} (off)'
    try:
        SourcePaymentSettings.of({RECORD_SOURCE_PAYMENTS_SETTING: value})
    except ValueError as exc:
        return str(exc)
    return None


UUID_PATTERN = r"[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}"
"""A connection id as the document's `format: uuid` has it (`uuid.UUID` would also take braces, a URN, no hyphens)."""


def _trigger(value: Any) -> str | None:
    kinds = ", ".join(kind.value for kind in RunKind)
    shape = f'must be {{"connection_id": "<destination connection id>", "kind": one of {kinds}}}'
    if not isinstance(value, dict) or set(value) - {"connection_id", "kind"} or "connection_id" not in value:
        return shape
    if not isinstance(value["connection_id"], str) or not re.fullmatch(UUID_PATTERN, value["connection_id"]):
        return f"connection_id must be a connection id ({shape})"
    if "kind" in value and not (isinstance(value["kind"], str) and value["kind"] in {kind.value for kind in RunKind}):
        return f"kind must be one of {kinds}"
    return None


NON_BLANK = r"[^\s\x1c-\x1f\x85]"
"""JSON Schema pattern of text with something besides whitespace (as `str.strip` counts it)."""
_NAME = {"type": "string", "minLength": 1, "maxLength": DIMENSION_TYPE_NAME_MAX_LENGTH, "pattern": NON_BLANK}


@dataclass(frozen=True)
class SettingDefinition:
    """One setting a connection takes: its check (why a value cannot be stored, or None), what the API's document
    states it accepts, and who writes it."""

    check: Callable[[Any], str | None]
    schema: dict[str, Any]
    written_by: SettingWriter = SettingWriter.PERSON


RATE_LIMIT = SettingDefinition(
    _rate_limit,
    {
        "type": "object",
        "minProperties": 1,
        "propertyNames": {"enum": sorted(CONFIGURABLE_LIMITS)},
        "additionalProperties": {"type": "integer", "minimum": 1},
    },
)
DESTINATION_SETTINGS: Mapping[str, SettingDefinition] = {
    PUSH_DIMENSIONS_SETTING: SettingDefinition(
        _dimension_pushes,
        {
            "type": "object",
            "minProperties": 1,
            "propertyNames": _NAME,
            "additionalProperties": _NAME,
            "description": "Destination dimension type → the source dimension it fills.",
        },
    ),
    REALTIME_EXPORT_SETTING: SettingDefinition(_flag, {"type": "boolean"}),
    RECORD_SOURCE_PAYMENTS_SETTING: SettingDefinition(
        _source_payments,
        {
            "anyOf": [
                {
                    "type": "object",
                    "required": ["account"],
                    "additionalProperties": False,
                    "properties": {
                        "account": {"type": "string", "pattern": NON_BLANK},
                        "payment_method": {"type": ["string", "null"]},
                    },
                },
                {"type": "object", "maxProperties": 0, "description": "Off."},
            ]
        },
    ),
}
"""What every destination connection reads, whatever its system."""
GENERIC_SETTINGS: Mapping[str, SettingDefinition] = {
    TRIGGER_SETTING: SettingDefinition(
        _trigger,
        {
            "type": "object",
            "required": ["connection_id"],
            "additionalProperties": False,
            "properties": {
                "connection_id": {"type": "string", "format": "uuid"},
                "kind": {"enum": [kind.value for kind in RunKind]},
            },
            "description": "The run the sender's events start, on a destination connection of this tenant.",
        },
    )
}
"""What the generic webhook sender reads: which run its events start."""


def _declared(field: SettingField) -> SettingDefinition:
    def check(value: Any) -> str | None:
        if not isinstance(value, str) or not value.strip():
            return f"must be text ({field.help})"
        if field.pattern and not re.fullmatch(field.pattern, value):
            return f"does not have the expected form ({field.help})"
        return None

    schema: dict[str, Any] = {"type": "string", "pattern": field.pattern or NON_BLANK, "description": field.help}
    return SettingDefinition(check, schema, field.written_by)


def settings_of(provider: str, role: ConnectionRole) -> Mapping[str, SettingDefinition]:
    """The settings a connection of this provider in this role takes: the shared ones its role reads, then those
    its connector's spec declares. Empty for a provider that is not installed."""
    if provider == GENERIC_SENDER:
        return GENERIC_SETTINGS if role is ConnectionRole.SOURCE else {}
    if provider not in available_systems():
        return {}
    shared = {RATE_LIMIT_SETTING: RATE_LIMIT, **(DESTINATION_SETTINGS if role is ConnectionRole.DESTINATION else {})}
    return {**shared, **{field.name: _declared(field) for field in load_spec(provider).settings}}


def settings_schema(definitions: Mapping[str, SettingDefinition]) -> dict[str, Any]:
    """The JSON Schema of a settings object a person may give: the settings a person writes, each also `null`
    (which removes it), and no other."""
    return {
        "type": "object",
        "properties": {
            key: {"anyOf": [definition.schema, {"type": "null"}]}
            for key, definition in definitions.items()
            if definition.written_by is SettingWriter.PERSON
        },
        "additionalProperties": False,
    }


@dataclass(frozen=True)
class SettingProblem:
    key: str
    message: str

    def __str__(self) -> str:
        return f"{self.key}: {self.message}"


def setting_problems(given: Mapping[str, Any], *, provider: str, role: ConnectionRole) -> list[SettingProblem]:
    """Why a person cannot store these settings on a connection of this provider and role, one reason each: a key
    the connection does not take, one the system writes, or a value of the wrong shape (`null` removes a setting,
    so it always passes)."""
    definitions = settings_of(provider, role)
    writable = sorted(key for key, definition in definitions.items() if definition.written_by is SettingWriter.PERSON)
    takes = f"{provider} as a {role.value} takes {', '.join(writable) or 'none'}"
    problems = []
    for key, value in given.items():
        definition = definitions.get(key)
        if definition is None:
            problems.append(SettingProblem(key, f"not a setting of this connection ({takes})"))
        elif definition.written_by is not SettingWriter.PERSON:
            problems.append(
                SettingProblem(key, f"written by Ledgerline when the connection connects, not by a person ({takes})")
            )
        elif value is not None and (problem := definition.check(value)) is not None:
            problems.append(SettingProblem(key, problem))
    return problems


def dimension_pushes(settings: Mapping[str, Any]) -> dict[str, str]:
    """Which destination types a run mirrors into the source (none when unset or, from before this check, unusable)."""
    pushes = settings.get(PUSH_DIMENSIONS_SETTING)
    return dict(pushes) if pushes is not None and _dimension_pushes(pushes) is None else {}
