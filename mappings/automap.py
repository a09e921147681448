"""Auto-map: map employees (by email, name or code) and categories (by name or code) to destination attributes.

A value is mapped only when exactly one active attribute matches it. When several do (two employees called
"Sam Lee") nothing is guessed: the value is reported as ambiguous with its candidates, for a person to choose.
Matching ignores case and runs of whitespace.
"""

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from core.destination_vocabulary import DestinationVocabulary
from core.models import DestinationAttribute
from core.repository import TenantRepository
from mappings.constants import EMAIL_DETAIL_MARKER, MAX_AMBIGUOUS_CANDIDATES, SourceType
from mappings.mapping_store import MappingChange, SavedMappings, set_mappings
from mappings.mapping_table import load_mapping_table
from mappings.requirements import Role
from mappings.settings import AutoMapRules, ExportSettings
from mappings.unmapped import open_expenses, unmapped_needs

MatchOn = Literal["email", "name", "code"]


@dataclass(frozen=True, slots=True)
class SourceValue:
    """An unmapped source value and what it can be recognised by."""

    source_type: str
    source_value: str
    destination_type: str
    name: str | None
    code: str | None
    email: str | None


@dataclass(frozen=True, slots=True)
class Candidate:
    attribute_id: uuid.UUID
    remote_id: str
    name: str
    code: str | None
    emails: frozenset[str]


@dataclass(frozen=True, slots=True)
class Ambiguous:
    value: SourceValue
    match_on: MatchOn
    candidates: tuple[Candidate, ...]


@dataclass(frozen=True, slots=True)
class AutoMapResult:
    mapped: tuple[tuple[SourceValue, Candidate], ...]
    ambiguous: tuple[Ambiguous, ...]
    unmatched: tuple[SourceValue, ...]


def _normal(text: str | None) -> str | None:
    folded = " ".join((text or "").split()).casefold()
    return folded or None


def _source_key(value: SourceValue, match_on: MatchOn) -> str | None:
    return _normal({"email": value.email, "name": value.name, "code": value.code}[match_on])


def _candidate_keys(candidate: Candidate, match_on: MatchOn) -> set[str]:
    if match_on == "email":
        return set(candidate.emails)
    key = _normal(candidate.name if match_on == "name" else candidate.code)
    return {key} if key else set()


def match_values(values: Sequence[SourceValue], candidates: Sequence[Candidate], match_on: MatchOn) -> AutoMapResult:
    """Pure matching: each value to its one matching candidate, or ambiguous, or unmatched."""
    index: dict[str, list[Candidate]] = defaultdict(list)
    for candidate in candidates:
        for key in _candidate_keys(candidate, match_on):
            index[key].append(candidate)
    mapped: list[tuple[SourceValue, Candidate]] = []
    ambiguous: list[Ambiguous] = []
    unmatched: list[SourceValue] = []
    for value in values:
        wanted = _source_key(value, match_on)
        found = index.get(wanted, []) if wanted else []
        if len(found) == 1:
            mapped.append((value, found[0]))
        elif found:
            ambiguous.append(Ambiguous(value, match_on, tuple(found[:MAX_AMBIGUOUS_CANDIDATES])))
        else:
            unmatched.append(value)
    return AutoMapResult(tuple(mapped), tuple(ambiguous), tuple(unmatched))


def _candidate(row: DestinationAttribute) -> Candidate:
    emails = {
        email
        for field, value in (row.detail or {}).items()
        if EMAIL_DETAIL_MARKER in field.casefold() and isinstance(value, str) and (email := _normal(value))
    }
    return Candidate(row.id, row.remote_id, row.name, row.code, frozenset(emails))


async def _candidates(
    repository: TenantRepository, destination_connection_id: uuid.UUID, types: set[str]
) -> dict[str, list[Candidate]]:
    query = repository.scoped(DestinationAttribute).where(
        DestinationAttribute.connection_id == destination_connection_id,
        DestinationAttribute.attribute_type.in_(types),
        DestinationAttribute.active.is_(True),
    )
    by_type: dict[str, list[Candidate]] = defaultdict(list)
    for row in (await repository.session.scalars(query)).all():
        by_type[row.attribute_type].append(_candidate(row))
    return by_type


async def _unmapped_values(
    repository: TenantRepository,
    destination_connection_id: uuid.UUID,
    settings: ExportSettings,
    vocabulary: DestinationVocabulary,
) -> dict[str, list[SourceValue]]:
    """Unmapped employees and categories of the open expenses, by source type, each value once."""
    table = await load_mapping_table(repository, destination_connection_id)
    records = await open_expenses(repository, destination_connection_id)
    found: dict[tuple[str, str, str], SourceValue] = {}
    for need, expense in unmapped_needs(records, settings, table, vocabulary):
        key = (need.source_type, need.source_value, need.destination_type)
        if need.role is Role.COUNTERPARTY:
            found.setdefault(
                key, SourceValue(*key, expense.employee_name, expense.employee_code, expense.employee_email)
            )
        elif need.role is Role.CATEGORY:
            found.setdefault(key, SourceValue(*key, expense.category, expense.category_code, None))
    by_type: dict[str, list[SourceValue]] = defaultdict(list)
    for value in found.values():
        by_type[value.source_type].append(value)
    return by_type


async def suggest_mappings(
    repository: TenantRepository,
    *,
    destination_connection_id: uuid.UUID,
    settings: ExportSettings,
    vocabulary: DestinationVocabulary,
    rules: AutoMapRules,
) -> AutoMapResult:
    """What `rules` would map among the unmapped employees and categories, saving nothing (a person accepts them)."""
    plan: list[tuple[str, MatchOn]] = []
    if rules.employees is not None:
        plan.append((SourceType.EMPLOYEE, rules.employees))
    if rules.categories is not None:
        plan.append((SourceType.CATEGORY, rules.categories))
    values = await _unmapped_values(repository, destination_connection_id, settings, vocabulary)
    types = {value.destination_type for source_type, _ in plan for value in values.get(source_type, [])}
    candidates = await _candidates(repository, destination_connection_id, types) if types else {}
    mapped: list[tuple[SourceValue, Candidate]] = []
    ambiguous: list[Ambiguous] = []
    unmatched: list[SourceValue] = []
    for source_type, match_on in plan:
        for destination_type in sorted({value.destination_type for value in values.get(source_type, [])}):
            group = [value for value in values[source_type] if value.destination_type == destination_type]
            result = match_values(group, candidates.get(destination_type, []), match_on)
            mapped.extend(result.mapped)
            ambiguous.extend(result.ambiguous)
            unmatched.extend(result.unmatched)
    return AutoMapResult(tuple(mapped), tuple(ambiguous), tuple(unmatched))


async def auto_map(
    repository: TenantRepository,
    *,
    destination_connection_id: uuid.UUID,
    settings: ExportSettings,
    vocabulary: DestinationVocabulary,
    rules: AutoMapRules | None = None,
) -> tuple[AutoMapResult, SavedMappings | None]:
    """Match the unmapped employees and categories by `rules` (the settings' own by default) and save the
    unambiguous matches, audited as auto-mapped."""
    rules = rules or settings.auto_map
    result = await suggest_mappings(
        repository,
        destination_connection_id=destination_connection_id,
        settings=settings,
        vocabulary=vocabulary,
        rules=rules,
    )
    saved = None
    if result.mapped:
        changes = [
            MappingChange(value.source_type, value.source_value, value.destination_type, candidate.attribute_id)
            for value, candidate in result.mapped
        ]
        origin = f"auto_map:{rules.employees or '-'}/{rules.categories or '-'}"
        saved = await set_mappings(
            repository,
            destination_connection_id=destination_connection_id,
            changes=changes,
            vocabulary=vocabulary,
            origin=origin,
        )
    return result, saved
