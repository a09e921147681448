"""Onboarding, mapping: each source value the open expenses need and no mapping covers yet — categories, employees,
projects, cost centers, entities — one table per pair of types, with how many expenses and failed documents wait
on it; auto-map suggestions to accept in bulk; saving releases what waited and says how many.

A destination may hold thousands of values of a type: each type's values go to the browser once, as one datalist
shared by every row, and what the admin types is resolved on the server (a value's shown text, its name, code or
remote id), so a value beyond the list still maps.
"""

import base64
import json
import uuid
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import Select, func, select

from connectors.registry import connector_class, destination_vocabulary
from core.destination_vocabulary import DestinationVocabulary
from core.models import DestinationAttribute, Mapping
from core.repository import TenantRepository
from dashboard.constants import PREFIX
from dashboard.csrf import CsrfUserDep
from dashboard.pages.common import back
from dashboard.pages.setup_common import SETUP, DestinationView, destination_of, require_admin, steps_context
from dashboard.scope import ScopeDep
from dashboard.session import UserDep
from dashboard.templating import render
from mappings import (
    AutoMapResult,
    ExportSettings,
    MappingChange,
    RejectedChange,
    current_settings,
    list_unmapped,
    set_mappings,
    suggest_mappings,
)
from mappings.constants import Fund
from mappings.settings import AutoMapRules
from mappings.settings_store import with_default_kinds

router = APIRouter(prefix=SETUP + "/destinations/{connection_id}/map")

MAP_CHOICES_LIMIT = 5000
"""Values of one type sent as the datalist; anything beyond is still found when typed (`_resolve`)."""
ROWS_PER_TABLE = 200
SUGGESTION_RULES = AutoMapRules(employees="email", categories="name")
"""What suggestions match on when the export settings name no auto-map rules."""


@dataclass(frozen=True)
class Choice:
    id: uuid.UUID
    remote_id: str
    name: str
    code: str | None

    @property
    def shown(self) -> str:
        return f"{self.name} ({self.code})" if self.code else self.name


async def _settings(repository: TenantRepository, destination: DestinationView) -> ExportSettings:
    """The saved export settings, else the defaults this destination would get (they decide which types map)."""
    stored = await current_settings(repository, destination.id)
    if stored is not None:
        return stored.settings
    spec = connector_class(destination.provider).spec
    return with_default_kinds(ExportSettings(), {fund: spec.export_kinds(fund) for fund in Fund})


def _active_values(connection_id: uuid.UUID, attribute_type: str) -> Select[uuid.UUID, str, str, str | None]:
    return select(
        DestinationAttribute.id, DestinationAttribute.remote_id, DestinationAttribute.name, DestinationAttribute.code
    ).where(
        DestinationAttribute.connection_id == connection_id,
        DestinationAttribute.attribute_type == attribute_type,
        DestinationAttribute.active.is_(True),
    )


async def _choices(repository: TenantRepository, connection_id: uuid.UUID, types: set[str]) -> dict[str, list[Choice]]:
    by_type: dict[str, list[Choice]] = defaultdict(list)
    for attribute_type in sorted(types):
        rows = await repository.session.execute(
            _active_values(connection_id, attribute_type).order_by(DestinationAttribute.name).limit(MAP_CHOICES_LIMIT)
        )
        by_type[attribute_type] = [Choice(*row) for row in rows.all()]
    return by_type


async def _resolve(
    repository: TenantRepository, connection_id: uuid.UUID, attribute_type: str, typed: str
) -> uuid.UUID | None:
    """The one active value of `attribute_type` that `typed` names: its shown text, name, code or remote id."""
    text = typed.strip()
    rows = (
        await repository.session.execute(
            _active_values(connection_id, attribute_type).where(
                (func.lower(DestinationAttribute.name) == text.casefold())
                | (DestinationAttribute.code == text)
                | (DestinationAttribute.remote_id == text)
                | (func.lower(DestinationAttribute.name) == text.rsplit(" (", 1)[0].casefold())
            )
        )
    ).all()
    choices = [Choice(*row) for row in rows]
    for matches in (
        [choice for choice in choices if choice.shown == text],
        [choice for choice in choices if choice.remote_id == text or choice.code == text],
        [choice for choice in choices if choice.name.casefold() == text.casefold()],
    ):
        if len(matches) == 1:
            return matches[0].id
    return None


def _pack(*parts: str) -> str:
    """Several strings as one form value that survives HTML and form encoding whatever they hold."""
    return base64.urlsafe_b64encode(json.dumps(parts).encode()).decode()


def _unpack(packed: str, size: int) -> list[str] | None:
    try:
        parts = json.loads(base64.urlsafe_b64decode(packed.encode()))
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(parts, list) or len(parts) != size or not all(isinstance(part, str) for part in parts):
        return None
    return parts


async def _page(
    request: Request,
    scope: ScopeDep,
    connection_id: uuid.UUID,
    *,
    typed: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    query = request.query_params.get("q", "").strip()
    async with scope.reading("setup map") as session:
        destination = await destination_of(session, scope, connection_id)
    async with scope.acting_for(destination.tenant_id) as repository:
        vocabulary = destination_vocabulary(destination.provider)
        settings = await _settings(repository, destination)
        unmapped = await list_unmapped(
            repository, destination_connection_id=connection_id, settings=settings, vocabulary=vocabulary
        )
        suggestions = await suggest_mappings(
            repository,
            destination_connection_id=connection_id,
            settings=settings,
            vocabulary=vocabulary,
            rules=settings.auto_map if settings.auto_map != AutoMapRules() else SUGGESTION_RULES,
        )
        choices = await _choices(repository, connection_id, {value.destination_type for value in unmapped})
        mapped = await repository.session.scalar(
            select(func.count()).select_from(Mapping).where(Mapping.destination_connection_id == connection_id)
        )
    shown = [value for value in unmapped if not query or query.casefold() in value.source_value.casefold()]
    tables: dict[tuple[str, str], list[Any]] = defaultdict(list)
    for value in shown:
        tables[(value.source_type, value.destination_type)].append(value)
    context = {
        **steps_context(destination, "map"),
        "tables": [
            {
                "source_type": source_type,
                "destination_type": destination_type,
                "label": vocabulary.label(destination_type),
                "rows": [
                    {
                        "value": value,
                        "key": _pack(value.source_type, value.source_value, value.destination_type),
                    }
                    for value in rows[:ROWS_PER_TABLE]
                ],
                "more": max(len(rows) - ROWS_PER_TABLE, 0),
                "choices": choices.get(destination_type, []),
            }
            for (source_type, destination_type), rows in sorted(tables.items())
        ],
        "suggestions": _suggestion_rows(suggestions, vocabulary),
        "unmapped_total": len(unmapped),
        "mapped": mapped or 0,
        "query": query,
        "typed": typed or {},
        "errors": errors or {},
    }
    return render(request, "setup_map.html", context, status_code=status_code)


def _suggestion_rows(result: AutoMapResult, vocabulary: DestinationVocabulary) -> list[dict[str, Any]]:
    return [
        {
            "source_type": value.source_type,
            "source_value": value.source_value,
            "label": vocabulary.label(value.destination_type),
            "name": candidate.name,
            "code": candidate.code,
            "accept": _pack(value.source_type, value.source_value, value.destination_type, str(candidate.attribute_id)),
        }
        for value, candidate in result.mapped
    ]


@router.get("")
async def map_page(request: Request, connection_id: uuid.UUID, user: UserDep, scope: ScopeDep) -> Response:
    require_admin(user)
    return await _page(request, scope, connection_id)


async def _save(
    request: Request, scope: ScopeDep, destination: DestinationView, changes: list[MappingChange], origin: str
) -> tuple[int, int] | RejectedChange:
    async with scope.acting_for(destination.tenant_id) as repository:
        try:
            saved = await set_mappings(
                repository,
                destination_connection_id=destination.id,
                changes=changes,
                vocabulary=destination_vocabulary(destination.provider),
                origin=origin,
            )
        except RejectedChange as refused:
            return refused
    return len(saved.mappings), len(saved.released_item_ids)


def _saved_message(count: int, released: int) -> str:
    waiting = f"{released} waiting document(s) released to export again" if released else "nothing was waiting on them"
    return f"Saved {count} mapping(s); {waiting}."


@router.post("")
async def save_map(request: Request, connection_id: uuid.UUID, user: CsrfUserDep, scope: ScopeDep) -> Response:
    """Every row given a value: resolved, then saved together (all or none); a value that names nothing stays in
    its box with the reason beside it."""
    require_admin(user)
    form = await request.form()
    async with scope.reading("setup map") as session:
        destination = await destination_of(session, scope, connection_id)
    typed = {
        str(name).removeprefix("to:"): str(value).strip()
        for name, value in form.multi_items()
        if str(name).startswith("to:") and str(value).strip()
    }
    errors: dict[str, str] = {}
    changes: list[MappingChange] = []
    async with scope.acting_for(destination.tenant_id) as repository:
        for key, text in typed.items():
            parts = _unpack(key, 3)
            if parts is None:
                continue
            source_type, source_value, destination_type = parts
            attribute = await _resolve(repository, connection_id, destination_type, text)
            if attribute is None:
                errors[key] = f"No single active value is named “{text}”; pick one from the list."
            else:
                changes.append(MappingChange(source_type, source_value, destination_type, attribute))
    target = f"{PREFIX}{SETUP}/destinations/{connection_id}/map"
    if errors or not changes:
        if not errors:
            return back(request, target, "Nothing to save: type or pick a value for at least one row.", level="error")
        return await _page(request, scope, connection_id, typed=typed, errors=errors, status_code=422)
    outcome = await _save(request, scope, destination, changes, "dashboard")
    if isinstance(outcome, RejectedChange):
        return await _page(
            request, scope, connection_id, typed=typed, errors={"form": "; ".join(outcome.problems)}, status_code=422
        )
    return back(request, target, _saved_message(*outcome))


@router.post("/accept")
async def accept_suggestions(
    request: Request, connection_id: uuid.UUID, user: CsrfUserDep, scope: ScopeDep
) -> Response:
    """The suggestions the admin left ticked, saved together."""
    require_admin(user)
    form = await request.form()
    async with scope.reading("setup map") as session:
        destination = await destination_of(session, scope, connection_id)
    changes = []
    for raw in form.getlist("accept"):
        parts = _unpack(str(raw), 4)
        if parts is None:
            continue
        try:
            changes.append(MappingChange(parts[0], parts[1], parts[2], uuid.UUID(parts[3])))
        except ValueError:
            continue
    target = f"{PREFIX}{SETUP}/destinations/{connection_id}/map"
    if not changes:
        return back(request, target, "No suggestion was selected.", level="error")
    outcome = await _save(request, scope, destination, changes, "dashboard:suggested")
    if isinstance(outcome, RejectedChange):
        return back(request, target, "Not saved: " + "; ".join(outcome.problems), level="error")
    return back(request, target, _saved_message(*outcome))
