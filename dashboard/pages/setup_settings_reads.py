"""What the export settings page reads besides the settings: the destination values a default may name (one list per
set of types, however many thousands), what a typed default names, the next documents some settings would build,
and every saved version with what it changed.
"""

import json
import uuid
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from pydantic import ValidationError as PydanticValidationError
from sqlalchemy import Select, func, or_, select

from core.destination_vocabulary import DestinationVocabulary
from core.domain import Expense
from core.errors import MappingError, ValidationError
from core.models import DestinationAttribute, ExportSettingsVersion
from core.repository import TenantRepository
from dashboard.pages.setup_settings_form import DEFAULT_FIELDS, title
from mappings import ExportSettings, MissingMappingsError, build_document, gross_total, idempotency_key, plan_groups
from mappings.mapping_table import load_mapping_table
from mappings.unmapped import open_expenses

CHOICES_LIMIT = 5000
"""Values of one set of types sent as a datalist; anything beyond is still found when typed (`resolve_default`)."""
PREVIEW_DOCUMENTS = 5
"""Documents built for a preview: enough to see the settings at work, bounded whatever the backlog."""
SKIP_REASONS_SHOWN = 5
HISTORY_VERSIONS = 100
CHANGES_SHOWN = 12
VALUE_CHARS = 60


# Destination values ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Value:
    attribute_type: str
    remote_id: str
    name: str
    code: str | None

    @property
    def shown(self) -> str:
        return f"{self.name} ({self.code})" if self.code and self.code != self.name else self.name


def _active(connection_id: uuid.UUID, types: Sequence[str]) -> Select[str, str, str, str | None]:
    return select(
        DestinationAttribute.attribute_type,
        DestinationAttribute.remote_id,
        DestinationAttribute.name,
        DestinationAttribute.code,
    ).where(
        DestinationAttribute.connection_id == connection_id,
        DestinationAttribute.attribute_type.in_(list(types)),
        DestinationAttribute.active.is_(True),
    )


def list_key(types: Sequence[str]) -> str:
    """The id of the datalist of `types`' values, shared by every control that may name them."""
    return "values-" + "-".join(name.replace(":", "_") for name in types)


async def choices(
    repository: TenantRepository, connection_id: uuid.UUID, type_sets: Sequence[Sequence[str]]
) -> dict[str, list[Value]]:
    """Each distinct set of types' active values (by `list_key`), by name, at most `CHOICES_LIMIT` of them."""
    lists: dict[str, list[Value]] = {}
    for types in type_sets:
        key = list_key(types)
        if not types or key in lists:
            continue
        query = _active(connection_id, types).order_by(DestinationAttribute.name).limit(CHOICES_LIMIT)
        lists[key] = [Value(*row) for row in (await repository.session.execute(query)).all()]
    return lists


async def shown_values(
    repository: TenantRepository, connection_id: uuid.UUID, wanted: Mapping[str, tuple[str, Sequence[str]]]
) -> dict[str, str]:
    """How each saved default reads (`wanted`: path → (remote id, its allowed types)); a remote id that names no
    active value stays as it is."""
    shown = {}
    for path, (remote_id, types) in wanted.items():
        if not types:
            continue
        query = _active(connection_id, types).where(DestinationAttribute.remote_id == remote_id).limit(1)
        row = (await repository.session.execute(query)).first()
        if row is not None:
            shown[path] = Value(*row).shown
    return shown


async def resolve_default(
    repository: TenantRepository, connection_id: uuid.UUID, types: Sequence[str], typed: str, what: str
) -> tuple[str | None, str | None]:
    """(the remote id of the one active value of `types` that `typed` names, or why there is none). Tried in
    turn: remote id, the text the list shows, code, name (any case)."""
    text = typed.strip()
    if not types:
        return None, f"This destination has no {what} to choose."
    query = _active(connection_id, types).where(
        or_(
            DestinationAttribute.remote_id == text,
            DestinationAttribute.code == text,
            func.lower(DestinationAttribute.name) == text.casefold(),
            func.lower(DestinationAttribute.name) == text.rsplit(" (", 1)[0].casefold(),
        )
    )
    found = [Value(*row) for row in (await repository.session.execute(query)).all()]
    for matches in (
        [value for value in found if value.remote_id == text],
        [value for value in found if value.shown == text],
        [value for value in found if value.code == text],
        [value for value in found if value.name.casefold() == text.casefold()],
    ):
        remote_ids = sorted({value.remote_id for value in matches})
        if len(remote_ids) == 1:
            return remote_ids[0], None
        if len(remote_ids) > 1:
            return None, f"“{text}” names {len(remote_ids)} active values; pick one from the list or type its code."
    return None, f"No active {what} is named “{text}”; pick one from the list."


def saved_defaults(
    settings: ExportSettings, allowed: Mapping[str, tuple[str, ...]]
) -> dict[str, tuple[str, Sequence[str]]]:
    """Every default `settings` name, by path, with the types its value may be."""
    wanted: dict[str, tuple[str, Sequence[str]]] = {}
    for name in DEFAULT_FIELDS:
        remote_id = getattr(settings.defaults, name)
        if remote_id is not None:
            wanted[f"defaults.{name}"] = (remote_id, allowed.get(name, ()))
    for kind, remote_id in settings.defaults.dimensions.items():
        wanted[f"defaults.dimensions.{kind}"] = (remote_id, (kind,))
    return wanted


# Preview -----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DocumentPreview:
    kind: str
    expenses: int
    counterparty: str | None = None
    transaction_date: date | None = None
    currency: str | None = None
    total: Decimal | None = None
    lines: int = 0
    missing: tuple[str, ...] = ()
    problem: str | None = None


@dataclass(frozen=True)
class PreviewOfSettings:
    documents: list[DocumentPreview]
    groups: int
    """Documents the open expenses make under these settings; the first `PREVIEW_DOCUMENTS` are built."""
    open_expenses: int
    left_out: list[tuple[str, int]]
    """The most common reasons expenses are not exported, with how many each leaves out."""
    unreadable: int


def _missing(exc: MissingMappingsError, vocabulary: DestinationVocabulary) -> tuple[str, ...]:
    return tuple(
        f"{missing.source_type.replace('_', ' ')} “{missing.source_value}” → "
        f"{vocabulary.label(missing.destination_type)}"
        for missing in exc.details
    )


async def preview(
    repository: TenantRepository,
    *,
    connection_id: uuid.UUID,
    settings: ExportSettings,
    vocabulary: DestinationVocabulary,
) -> PreviewOfSettings:
    """The next documents `settings` would build from the destination's open expenses, built exactly as an export
    builds them (nothing is saved or sent): each one's kind, counterparty, date, total and lines, or the mappings
    it lacks."""
    records = await open_expenses(repository, connection_id)
    by_id: dict[str, Expense] = {}
    unreadable = 0
    for record in records:
        if record.expense is None:
            unreadable += 1
        else:
            by_id.setdefault(record.expense.id, record.expense)
    plan = plan_groups(by_id.values(), settings)
    table = await load_mapping_table(repository, connection_id)
    today = datetime.now(UTC).date()
    documents = []
    for group in plan.groups[:PREVIEW_DOCUMENTS]:
        kind = vocabulary.document_label(group.kind.value)
        try:
            document = build_document(
                kind=group.kind,
                expenses=[by_id[expense_id] for expense_id in group.expense_ids],
                settings=settings,
                mappings=table,
                reference=idempotency_key(connection_id, group.key, 0),
                export_day=today,
                vocabulary=vocabulary,
            )
        except MissingMappingsError as exc:
            documents.append(DocumentPreview(kind, len(group.expense_ids), missing=_missing(exc, vocabulary)))
            continue
        except (MappingError, ValidationError) as exc:
            documents.append(DocumentPreview(kind, len(group.expense_ids), problem=exc.message))
            continue
        documents.append(
            DocumentPreview(
                kind,
                len(group.expense_ids),
                counterparty=document.counterparty,
                transaction_date=document.transaction_date,
                currency=document.currency,
                total=gross_total(document),
                lines=len(document.lines),
            )
        )
    documents = await _named_counterparties(repository, connection_id, documents)
    reasons = Counter(skipped.reason for skipped in plan.skipped)
    return PreviewOfSettings(
        documents=documents,
        groups=len(plan.groups),
        open_expenses=len(by_id),
        left_out=reasons.most_common(SKIP_REASONS_SHOWN),
        unreadable=unreadable,
    )


async def _named_counterparties(
    repository: TenantRepository, connection_id: uuid.UUID, documents: list[DocumentPreview]
) -> list[DocumentPreview]:
    """Counterparties as people read them: the destination value's name beside its id."""
    ids = {document.counterparty for document in documents if document.counterparty}
    if not ids:
        return documents
    rows = await repository.session.execute(
        select(DestinationAttribute.remote_id, DestinationAttribute.name).where(
            DestinationAttribute.connection_id == connection_id, DestinationAttribute.remote_id.in_(ids)
        )
    )
    names = {remote_id: name for remote_id, name in rows.all() if name != remote_id}
    return [
        replace(document, counterparty=f"{names[document.counterparty]} ({document.counterparty})")
        if document.counterparty in names
        else document
        for document in documents
    ]


# History -----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    path: str
    title: str
    before: str | None
    after: str | None


@dataclass(frozen=True)
class VersionView:
    version: int
    created_by: str
    created_at: datetime
    changes: list[Change]
    more_changes: int
    first: bool


def _normal(body: dict[str, Any]) -> dict[str, Any]:
    """A stored body as the current model reads it (fields added since are then compared at their defaults)."""
    try:
        return ExportSettings.model_validate(body).model_dump(mode="json")
    except PydanticValidationError:
        return body


def _shown(value: Any) -> str | None:
    if value is None:
        return None
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= VALUE_CHARS else text[: VALUE_CHARS - 1] + "…"


def changes(before: Any, after: Any, path: str = "") -> list[Change]:
    """What differs between two settings bodies, setting by setting (lists and dimension maps as a whole)."""
    if before == after:
        return []
    whole = path in ("defaults.dimensions", "dimensions", "skip_rules")
    if isinstance(before, dict) and isinstance(after, dict) and not whole:
        found = []
        for key in [*before, *(key for key in after if key not in before)]:
            found += changes(before.get(key), after.get(key), f"{path}.{key}" if path else key)
        return found
    if isinstance(before, dict) != isinstance(after, dict) and path in ("reimbursable", "card", "entity"):
        state = "exported" if path != "entity" else "on"
        return [Change(path, title(path), state if before else "off", state if after else "off")]
    return [Change(path, title(path), _shown(before), _shown(after))]


async def history(repository: TenantRepository, connection_id: uuid.UUID) -> tuple[list[VersionView], int]:
    """Saved versions, newest first (at most `HISTORY_VERSIONS`), each with who saved it, when, and what it changed
    from the version before; and how many versions there are in all."""
    scoped = ExportSettingsVersion.destination_connection_id == connection_id
    total = await repository.session.scalar(select(func.count()).select_from(ExportSettingsVersion).where(scoped))
    rows = (
        await repository.session.scalars(
            select(ExportSettingsVersion)
            .where(scoped)
            .order_by(ExportSettingsVersion.version.desc())
            .limit(HISTORY_VERSIONS + 1)
        )
    ).all()
    views = []
    for index, row in enumerate(rows[:HISTORY_VERSIONS]):
        previous = rows[index + 1] if index + 1 < len(rows) else None
        found = changes(_normal(previous.body), _normal(row.body)) if previous is not None else []
        views.append(
            VersionView(
                version=row.version,
                created_by=row.created_by,
                created_at=row.created_at,
                changes=found[:CHANGES_SHOWN],
                more_changes=max(len(found) - CHANGES_SHOWN, 0),
                first=previous is None and row.version == 1,
            )
        )
    return views, total or 0
