"""The connection settings a person may set, each with the one check that create, PATCH and the runs all use.

Before, the API checked `push_dimensions` as a flag while the import run needed a mapping, so the documented setting
could not be given a value that worked. Settings the system writes itself (what an OAuth authorization learned) are
not here: a person does not edit them.
"""

from collections.abc import Callable, Mapping
from typing import Any

from sync.constants import (
    DIMENSION_TYPE_NAME_MAX_LENGTH,
    PUSH_DIMENSIONS_SETTING,
    RATE_LIMIT_SETTING,
    REALTIME_EXPORT_SETTING,
    RECORD_SOURCE_PAYMENTS_SETTING,
)
from sync.rate_budget import CONFIGURABLE_LIMITS
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


EDITABLE_SETTINGS: Mapping[str, Callable[[Any], str | None]] = {
    PUSH_DIMENSIONS_SETTING: _dimension_pushes,
    REALTIME_EXPORT_SETTING: _flag,
    RATE_LIMIT_SETTING: _rate_limit,
    RECORD_SOURCE_PAYMENTS_SETTING: _source_payments,
}


NON_BLANK = r"[^\s\x1c-\x1f\x85]"
"""JSON Schema pattern of text with something besides whitespace (as `str.strip` counts it)."""
_NAME = {"type": "string", "minLength": 1, "maxLength": DIMENSION_TYPE_NAME_MAX_LENGTH, "pattern": NON_BLANK}
EDITABLE_SETTING_SCHEMAS: Mapping[str, dict[str, Any]] = {
    PUSH_DIMENSIONS_SETTING: {
        "type": "object",
        "minProperties": 1,
        "propertyNames": _NAME,
        "additionalProperties": _NAME,
        "description": "Destination dimension type → the source dimension it fills.",
    },
    REALTIME_EXPORT_SETTING: {"type": "boolean"},
    RATE_LIMIT_SETTING: {
        "type": "object",
        "minProperties": 1,
        "propertyNames": {"enum": sorted(CONFIGURABLE_LIMITS)},
        "additionalProperties": {"type": "integer", "minimum": 1},
    },
    RECORD_SOURCE_PAYMENTS_SETTING: {
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
}
"""What each check above accepts, as the API's document states it (a value may also be `null`: it removes the key)."""


def settings_schema(*, only_editable: bool) -> dict[str, Any]:
    """The JSON Schema keywords of a settings object: the editable settings, and (unless `only_editable`) any other."""
    return {
        "properties": {key: {"anyOf": [schema, {"type": "null"}]} for key, schema in EDITABLE_SETTING_SCHEMAS.items()},
        **({"additionalProperties": False} if only_editable else {}),
    }


def setting_problems(given: Mapping[str, Any], *, only_editable: bool) -> list[str]:
    """Why these settings cannot be stored, one reason each (`null` removes a setting, so it always passes).
    `only_editable` refuses the system's own keys too, as a change by a person must."""
    problems = []
    for key, value in given.items():
        check = EDITABLE_SETTINGS.get(key)
        if check is None:
            if only_editable:
                problems.append(
                    f"{key}: not a setting that can be changed (those are {', '.join(sorted(EDITABLE_SETTINGS))})"
                )
        elif value is not None and (problem := check(value)) is not None:
            problems.append(f"{key}: {problem}")
    return problems


def dimension_pushes(settings: Mapping[str, Any]) -> dict[str, str]:
    """Which destination types a run mirrors into the source (none when unset or, from before this check, unusable)."""
    pushes = settings.get(PUSH_DIMENSIONS_SETTING)
    return dict(pushes) if pushes is not None and _dimension_pushes(pushes) is None else {}
