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


def _rate_limit(value: Any) -> str | None:
    if not isinstance(value, dict) or not value or set(value) - CONFIGURABLE_LIMITS:
        return f"must be an object of {', '.join(sorted(CONFIGURABLE_LIMITS))}"
    if any(isinstance(number, bool) or not isinstance(number, int) or number < 1 for number in value.values()):
        return "limits must be whole numbers of at least 1"
    return None


def _source_payments(value: Any) -> str | None:
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
