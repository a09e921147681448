"""Which source and destination types exist, which pairs a mapping may join, and how source values compare.

One place decides this, so the API, the builders and auto-map can never disagree about what "mapped" means.
"""

import re

from mappings.constants import (
    COMPATIBLE_DESTINATIONS,
    CUSTOM_FIELD_PREFIX,
    DIMENSION_SOURCES,
    LINE_DIMENSION_TYPES,
    NAMED_TYPE_PATTERN,
    UDD_PREFIX,
    DestinationType,
    SourceType,
)

_NAMED = re.compile(NAMED_TYPE_PATTERN)
_SOURCE_TYPES = frozenset(SourceType)
_DESTINATION_TYPES = frozenset(DestinationType)


def _named(value: str, prefix: str) -> bool:
    return value.startswith(prefix) and bool(_NAMED.match(value.removeprefix(prefix)))


def is_custom_field(name: str) -> bool:
    """`custom:<NAME>`: a custom field of the source expense."""
    return _named(name, CUSTOM_FIELD_PREFIX)


def is_source_type(value: str) -> bool:
    return value in _SOURCE_TYPES or is_custom_field(value)


def is_destination_type(value: str) -> bool:
    return value in _DESTINATION_TYPES or _named(value, UDD_PREFIX)


def is_line_dimension(value: str) -> bool:
    """A destination type a document line carries as a dimension (department, project, …, `udd:<NAME>`)."""
    return value in LINE_DIMENSION_TYPES or _named(value, UDD_PREFIX)


def is_dimension_source(value: str) -> bool:
    """A source type a dimension rule may carry onto lines (project, cost center, `custom:<NAME>`)."""
    return value in DIMENSION_SOURCES or is_custom_field(value)


def mapping_problem(source_type: str, destination_type: str) -> str | None:
    """Why a mapping from `source_type` to `destination_type` cannot exist, or None if it can."""
    if not is_source_type(source_type):
        return f"{source_type!r} is not a source type (use one of {', '.join(SourceType)} or custom:<NAME>)."
    if not is_destination_type(destination_type):
        return (
            f"{destination_type!r} is not a destination type (use one of {', '.join(DestinationType)} or udd:<NAME>)."
        )
    allowed = COMPATIBLE_DESTINATIONS.get(source_type)
    if allowed is not None and destination_type not in allowed:
        return f"A {source_type} maps to {' or '.join(sorted(allowed))}, not to {destination_type}."
    if allowed is None and not (is_line_dimension(destination_type) or destination_type == DestinationType.ENTITY):
        return (
            f"A {source_type} maps to a line dimension (department, location, class, …) or an entity, "
            f"not to {destination_type}."
        )
    return None


def normalize_source_value(source_type: str, value: str) -> str:
    """Employees are identified by email, which compares case-insensitively; other values keep their case."""
    stripped = value.strip()
    return stripped.casefold() if source_type == SourceType.EMPLOYEE else stripped
