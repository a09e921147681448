"""Which source types exist, which destination types a mapping from each may point at, and how source values compare.

One place decides this, so the API, the builders and auto-map can never disagree about what "mapped" means. The
destination's side is its `DestinationVocabulary` (from its connector's spec): this module knows roles, never one
system's type names.
"""

import re

from core.destination_vocabulary import AttributeRole, DestinationVocabulary
from mappings.constants import (
    COMPATIBLE_ROLES,
    CUSTOM_FIELD_PREFIX,
    DIMENSION_ROLES,
    DIMENSION_SOURCES,
    NAMED_TYPE_PATTERN,
    SourceType,
)

_NAMED = re.compile(NAMED_TYPE_PATTERN)
_SOURCE_TYPES = frozenset(SourceType)


def is_custom_field(name: str) -> bool:
    """`custom:<NAME>`: a custom field of the source expense."""
    return name.startswith(CUSTOM_FIELD_PREFIX) and bool(_NAMED.match(name.removeprefix(CUSTOM_FIELD_PREFIX)))


def is_source_type(value: str) -> bool:
    return value in _SOURCE_TYPES or is_custom_field(value)


def is_dimension_source(value: str) -> bool:
    """A source type a dimension rule may carry onto lines (project, cost center, `custom:<NAME>`)."""
    return value in DIMENSION_SOURCES or is_custom_field(value)


def allowed_roles(source_type: str) -> frozenset[AttributeRole]:
    """The roles a destination type must play for `source_type` to map to it."""
    return COMPATIBLE_ROLES.get(source_type, DIMENSION_ROLES)


def types_for(roles: frozenset[AttributeRole], vocabulary: DestinationVocabulary) -> str:
    """The destination's types playing any of `roles`, for a message (`udd:<NAME>` when line dimensions count)."""
    names = [declared.name for declared in vocabulary.types if declared.roles & roles]
    form = vocabulary.user_dimension_form()
    if AttributeRole.LINE_DIMENSION in roles and form is not None:
        names.append(form)
    return " or ".join(filter(None, [", ".join(names[:-1]), *names[-1:]])) or "nothing"


def line_dimension_problem(destination_type: str, vocabulary: DestinationVocabulary) -> str | None:
    """Why a document line cannot carry `destination_type` as a dimension, or None when it can."""
    if vocabulary.is_line_dimension(destination_type):
        return None
    line_dimensions = types_for(frozenset({AttributeRole.LINE_DIMENSION}), vocabulary)
    return f"{destination_type!r} is not a line dimension of {vocabulary.system} (use {line_dimensions})"


def mapping_problem(source_type: str, destination_type: str, vocabulary: DestinationVocabulary) -> str | None:
    """Why a mapping from `source_type` to `destination_type` cannot exist in this destination, or None if it can."""
    if not is_source_type(source_type):
        return f"{source_type!r} is not a source type (use one of {', '.join(SourceType)} or custom:<NAME>)."
    roles = allowed_roles(source_type)
    if not vocabulary.is_type(destination_type):
        return (
            f"{destination_type!r} is not an attribute type of {vocabulary.system} "
            f"({source_type} values map to {types_for(roles, vocabulary)})."
        )
    if not any(vocabulary.has_role(destination_type, role) for role in roles):
        return f"A {source_type} maps to {types_for(roles, vocabulary)}, not to {destination_type}."
    return None


def normalize_source_value(source_type: str, value: str) -> str:
    """Employees are identified by email, which compares case-insensitively; other values keep their case."""
    stripped = value.strip()
    return stripped.casefold() if source_type == SourceType.EMPLOYEE else stripped
