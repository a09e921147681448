"""Onboarding, export settings: every setting as a form field with its one-line explanation, validated as a whole
(the model, this destination's vocabulary and export kinds, the values its defaults name) with each problem beside
its field and nothing typed lost; a preview of the next documents the settings on the page would build; every saved
version with who saved it and what it changed.

Saving goes the way the API's does (`mappings.save_settings`, then `regroup` in the same transaction), so a version
saved here is exactly one saved there.
"""

import uuid
from collections import Counter
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from connectors.registry import connector_class, destination_vocabulary
from core.destination_vocabulary import DestinationVocabulary
from core.domain import DocumentKind
from core.models import Connection
from core.repository import TenantRepository
from dashboard.constants import PREFIX
from dashboard.csrf import CsrfUserDep
from dashboard.pages.common import back
from dashboard.pages.setup_common import SETUP, DestinationView, destination_of, require_admin, steps_context
from dashboard.pages.setup_settings_checks import PlacedProblems, parse_values, place, validate
from dashboard.pages.setup_settings_form import (
    DEFAULT_FIELDS,
    FUNDS,
    Problem,
    control_id,
    controls_of,
    employee_options,
    explained,
    export_type_options,
    fixed_options,
    form_values,
    line_dimension_options,
    row_count,
    source_options,
    submitted_values,
    title,
)
from dashboard.pages.setup_settings_reads import (
    PreviewOfSettings,
    choices,
    history,
    list_key,
    preview,
    resolve_default,
    saved_defaults,
    shown_values,
)
from dashboard.scope import NotFoundPage, ScopeDep
from dashboard.session import UserDep
from dashboard.templating import render
from mappings import ExportSettings, RegroupResult, RejectedChange, current_settings, regroup, save_settings
from mappings.constants import MEMO_TEMPLATE_MAX_LENGTH, Fund
from mappings.memo import DOCUMENT_PLACEHOLDERS, LINE_PLACEHOLDERS
from mappings.settings_store import default_types, destination_problems, kind_problems, with_default_kinds

router = APIRouter(prefix=SETUP + "/destinations/{connection_id}/settings")

PREVIEW_ACTION = "preview"
SECTION_HELP = ("dimensions", "defaults.dimensions", "entity", "memo", "auto_map")
"""Settings explained once for their whole box."""


def _creates(destination: DestinationView) -> dict[Fund, tuple[DocumentKind, ...]]:
    spec = connector_class(destination.provider).spec
    return {fund: spec.export_kinds(fund) for fund in Fund}


async def _context(
    repository: TenantRepository,
    destination: DestinationView,
    *,
    values: dict[str, str],
    problems: PlacedProblems,
    shown_preview: PreviewOfSettings | None,
    preview_of: str,
) -> dict[str, Any]:
    vocabulary = destination_vocabulary(destination.provider)
    creates = _creates(destination)
    allowed = default_types(vocabulary)
    line_dimensions = line_dimension_options(vocabulary)
    default_rows = row_count(values, "defaults.dimensions")
    row_types = {
        row: values.get(f"defaults.dimensions.{row}.type", "")
        for row in range(default_rows)
        if values.get(f"defaults.dimensions.{row}.type")
    }
    lists = await choices(
        repository,
        destination.id,
        [*(allowed.get(name, ()) for name in DEFAULT_FIELDS), *((kind,) for kind in row_types.values())],
    )
    versions, total = await history(repository, destination.id)
    stored = await current_settings(repository, destination.id)
    help_texts = {}
    empty_choices = {}
    for name in (*controls_of(values), *SECTION_HELP):
        help_texts[name], empty_choices[name] = explained(name)
    return {
        **steps_context(destination, "settings"),
        "values": values,
        "errors": problems.by_control,
        "unplaced": problems.unplaced,
        "problem_count": problems.count(),
        "control_id": control_id,
        "title": title,
        "help": help_texts,
        "empty": empty_choices,
        "funds": [fund.value for fund in FUNDS],
        "export_types": {fund.value: export_type_options(creates, fund, vocabulary) for fund in FUNDS},
        "employee_types": employee_options(creates, vocabulary),
        "fixed": fixed_options(),
        "line_dimensions": line_dimensions,
        "user_dimension_form": vocabulary.user_dimension_form(),
        "sources": source_options(),
        "defaults": [
            {"name": name, "path": f"defaults.{name}", "list": list_key(allowed.get(name, ()))}
            for name in DEFAULT_FIELDS
            if allowed.get(name) or values.get(f"defaults.{name}")
        ],
        "default_rows": default_rows,
        "dimension_rows": row_count(values, "dimensions"),
        "row_lists": {row: list_key((kind,)) for row, kind in row_types.items()},
        "lists": lists,
        "placeholders": {"memo.line": sorted(LINE_PLACEHOLDERS), "memo.document": sorted(DOCUMENT_PLACEHOLDERS)},
        "memo_max": MEMO_TEMPLATE_MAX_LENGTH,
        "preview": shown_preview,
        "preview_of": preview_of,
        "versions": versions,
        "version_total": total,
        "stored": stored,
    }


async def _saved_or_default(repository: TenantRepository, destination: DestinationView) -> ExportSettings:
    stored = await current_settings(repository, destination.id)
    if stored is not None:
        return stored.settings
    return with_default_kinds(ExportSettings(), _creates(destination))


@router.get("")
async def settings_page(request: Request, connection_id: uuid.UUID, user: UserDep, scope: ScopeDep) -> Response:
    require_admin(user)
    async with scope.reading("setup settings") as session:
        destination = await destination_of(session, scope, connection_id)
    vocabulary = destination_vocabulary(destination.provider)
    async with scope.acting_for(destination.tenant_id) as repository:
        settings = await _saved_or_default(repository, destination)
        wanted = saved_defaults(settings, default_types(vocabulary))
        values = form_values(settings, await shown_values(repository, connection_id, wanted))
        shown = await preview(repository, connection_id=connection_id, settings=settings, vocabulary=vocabulary)
        context = await _context(
            repository, destination, values=values, problems=PlacedProblems(), shown_preview=shown, preview_of="saved"
        )
    return render(request, "setup_settings.html", context)


async def _resolved_defaults(
    repository: TenantRepository, destination: DestinationView, values: Mapping[str, str]
) -> tuple[dict[str, str], list[Problem]]:
    """Each default typed on the form as the remote id of the value it names, or why it names none."""
    vocabulary = destination_vocabulary(destination.provider)
    allowed = default_types(vocabulary)
    typed: dict[str, tuple[str, tuple[str, ...], str]] = {}
    for name in DEFAULT_FIELDS:
        path = f"defaults.{name}"
        if values.get(path):
            types = allowed.get(name, ())
            typed[path] = (values[path], types, " or ".join(vocabulary.label(kind) for kind in types) or "value")
    for name, text in values.items():
        if name.startswith("defaults.dimensions.") and name.endswith(".value") and text:
            kind = values.get(name.removesuffix(".value") + ".type", "")
            if kind and vocabulary.is_line_dimension(kind):
                typed[name] = (text, (kind,), vocabulary.label(kind))
    resolved: dict[str, str] = {}
    problems: list[Problem] = []
    for path, (text, types, what) in typed.items():
        remote_id, problem = await resolve_default(repository, destination.id, types, text, what)
        if remote_id is not None:
            resolved[path] = remote_id
        else:
            problems.append((path, problem or "Pick a value from the list."))
    return resolved, problems


def _destination_checks(
    settings: ExportSettings, vocabulary: DestinationVocabulary, destination: DestinationView
) -> list[Problem]:
    """What saving would refuse besides the defaults (which the resolver has checked): kinds and vocabulary."""
    return [
        ("", problem)
        for problem in (*kind_problems(settings, _creates(destination)), *destination_problems(settings, vocabulary))
    ]


def _saved_message(version: int, new_version: bool, result: RegroupResult) -> str:
    if not new_version:
        return f"Nothing changed: version {version} already holds these settings."
    reasons = Counter(skipped.reason for skipped in result.skipped)
    left_out = f"; {sum(reasons.values())} expense(s) left out by the settings" if reasons else ""
    return (
        f"Saved version {version}. Open expenses regrouped: {len(result.created)} new document(s) to export, "
        f"{result.kept} unchanged, {len(result.dropped)} replaced{left_out}."
    )


@router.post("")
async def save_or_preview(request: Request, connection_id: uuid.UUID, user: CsrfUserDep, scope: ScopeDep) -> Response:
    """Save the settings as the next version (then regroup what was never sent), or with `action=preview` build the
    next documents with them, unsaved. Either way every problem found is shown beside its field, status 422."""
    require_admin(user)
    form = await request.form()
    action = str(form.get("action") or "save")
    values = submitted_values(form.multi_items())
    async with scope.reading("setup settings") as session:
        destination = await destination_of(session, scope, connection_id)
    vocabulary = destination_vocabulary(destination.provider)
    async with scope.acting_for(destination.tenant_id) as repository:
        resolved, problems = await _resolved_defaults(repository, destination, values)
        parsed = parse_values(values, resolved)
        parsed.problems += problems
        settings = validate(parsed)
        if settings is not None and parsed.problems:
            parsed.problems += _destination_checks(settings, vocabulary, destination)
        if settings is not None and not parsed.problems:
            if action == PREVIEW_ACTION:
                refused = _destination_checks(settings, vocabulary, destination)
                if not refused:
                    shown = await preview(
                        repository, connection_id=connection_id, settings=settings, vocabulary=vocabulary
                    )
                    context = await _context(
                        repository,
                        destination,
                        values=values,
                        problems=PlacedProblems(),
                        shown_preview=shown,
                        preview_of="submitted",
                    )
                    return render(request, "setup_settings.html", context)
                parsed.problems += refused
            else:
                outcome = await _save(repository, destination, settings, vocabulary)
                if isinstance(outcome, str):
                    return back(request, f"{PREFIX}{SETUP}/destinations/{connection_id}/settings", outcome)
                parsed.problems += [("", problem) for problem in outcome.problems]
        placed = place(parsed.problems, parsed, controls_of(values))
        context = await _context(
            repository, destination, values=values, problems=placed, shown_preview=None, preview_of=""
        )
    return render(request, "setup_settings.html", context, status_code=422)


async def _save(
    repository: TenantRepository,
    destination: DestinationView,
    settings: ExportSettings,
    vocabulary: DestinationVocabulary,
) -> str | RejectedChange:
    """The notice of a save (and its regrouping), or the refusal with every reason."""
    connection = await repository.get(Connection, destination.id)
    if connection is None:
        raise NotFoundPage("destination")
    try:
        stored, new_version = await save_settings(
            repository,
            destination=connection,
            settings=settings,
            vocabulary=vocabulary,
            creates=_creates(destination),
        )
    except RejectedChange as refused:
        return refused
    result = await regroup(repository, destination=connection, settings=stored.settings)
    return _saved_message(stored.version, new_version, result)
