"""Export settings, versioned: saving adds a version (and an audit event), never overwrites one.

Saving checks what the model alone cannot: that the settings use only attribute types this destination has, each
in a role it can play (its `DestinationVocabulary`), and that every default names an active attribute of the right
type in it. Identical settings are not saved again, so replaying a save is harmless.
"""

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from pydantic import ValidationError as PydanticValidationError
from sqlalchemy import select, tuple_

from core.destination_vocabulary import AttributeRole, DestinationVocabulary
from core.domain import DocumentKind
from core.models import Connection, DestinationAttribute, ExportSettingsVersion
from core.repository import TenantRepository
from mappings.constants import AUDIT_SETTINGS_SAVE, Fund
from mappings.errors import RejectedChange
from mappings.requirements import needs_employee
from mappings.settings import ExportSettings
from mappings.vocabulary import line_dimension_problem, types_for


@dataclass(frozen=True, slots=True)
class StoredSettings:
    id: uuid.UUID
    destination_connection_id: uuid.UUID
    version: int
    settings: ExportSettings
    created_by: str
    created_at: datetime

    @classmethod
    def of(cls, row: ExportSettingsVersion) -> "StoredSettings":
        return cls(
            id=row.id,
            destination_connection_id=row.destination_connection_id,
            version=row.version,
            settings=ExportSettings.model_validate(row.body),
            created_by=row.created_by,
            created_at=row.created_at,
        )


async def current_settings(repository: TenantRepository, destination_connection_id: uuid.UUID) -> StoredSettings | None:
    query = (
        repository.scoped(ExportSettingsVersion)
        .where(ExportSettingsVersion.destination_connection_id == destination_connection_id)
        .order_by(ExportSettingsVersion.version.desc())
        .limit(1)
    )
    row = (await repository.session.scalars(query)).first()
    return StoredSettings.of(row) if row is not None else None


def default_types(vocabulary: DestinationVocabulary) -> dict[str, tuple[str, ...]]:
    """The attribute types each named default may be, by the role it plays (a bank account is an account in some
    systems): the card account of card transactions, the vendor of card bills, as those documents declare."""
    card_account = vocabulary.card_account_type(DocumentKind.CHARGE_CARD_TRANSACTION)
    credit = vocabulary.types_with(AttributeRole.CREDIT_ACCOUNT)
    return dict(
        charge_card_account=(card_account,) if card_account else vocabulary.types_with(AttributeRole.CARD_ACCOUNT),
        journal_credit_account=credit,
        journal_card_credit_account=credit,
        card_vendor=vocabulary.counterparty_types(DocumentKind.BILL),
        payment_account=vocabulary.types_with(AttributeRole.BANK_ACCOUNT),
    )


def _referenced_defaults(
    settings: ExportSettings, vocabulary: DestinationVocabulary
) -> list[tuple[str, str, tuple[str, ...]]]:
    """(where in the settings, remote id, allowed attribute types) of every default that names an attribute."""
    defaults = settings.defaults
    named = [
        (f"defaults.{name}", value, types)
        for name, types in default_types(vocabulary).items()
        if (value := getattr(defaults, name)) is not None
    ]
    # A dimension the destination lacks is `destination_problems`' to report.
    dimensions = [
        (f"defaults.dimensions.{kind}", value, (kind,))
        for kind, value in defaults.dimensions.items()
        if vocabulary.is_line_dimension(kind)
    ]
    return named + dimensions


def destination_problems(settings: ExportSettings, vocabulary: DestinationVocabulary) -> list[str]:
    """What `settings` ask of the destination that its vocabulary does not offer: dimensions it lacks, employees
    mapped to a type a document cannot name, tax or entity routing without a type to carry them."""
    problems = [
        f"dimensions[{index}].destination: {problem}"
        for index, rule in enumerate(settings.dimensions)
        if (problem := line_dimension_problem(rule.destination, vocabulary)) is not None
    ]
    problems += [
        f"defaults.dimensions: {problem}"
        for name in settings.defaults.dimensions
        if (problem := line_dimension_problem(name, vocabulary)) is not None
    ]
    counterparties = frozenset({AttributeRole.COUNTERPARTY})
    employee_as = settings.employee_as
    if employee_as is not None and not vocabulary.has_role(employee_as, AttributeRole.COUNTERPARTY):
        problems.append(
            f"employee_as: {employee_as!r} is not a counterparty type of {vocabulary.system} "
            f"(use {types_for(counterparties, vocabulary)})"
        )
    elif employee_as is not None:
        for fund in Fund:
            kind = settings.export_type(fund)
            accepted = vocabulary.counterparty_types(kind) if kind is not None else ()
            if kind is not None and needs_employee(kind, fund) and employee_as not in accepted:
                problems.append(
                    f"{fund} {kind} documents name employees as {' or '.join(accepted)}, not as {employee_as} "
                    f"(employee_as = {accepted[0] if accepted else 'null'})"
                )
    # The settings `tax` and `entity` are named after the roles that carry them.
    for role, wanted in ((AttributeRole.TAX, settings.tax), (AttributeRole.ENTITY, settings.entity is not None)):
        if wanted and vocabulary.first_with(role) is None:
            problems.append(f"{role}: {vocabulary.system} has no {role} attribute type to carry it")
    return problems


async def default_problems(
    repository: TenantRepository,
    destination_connection_id: uuid.UUID,
    settings: ExportSettings,
    vocabulary: DestinationVocabulary,
) -> list[str]:
    """Every default that does not name an active attribute of an allowed type in this destination."""
    referenced = _referenced_defaults(settings, vocabulary)
    if not referenced:
        return []
    pairs = {(kind, remote_id) for _, remote_id, types in referenced for kind in types}
    query = select(DestinationAttribute.attribute_type, DestinationAttribute.remote_id).where(
        DestinationAttribute.tenant_id == repository.tenant_id,
        DestinationAttribute.connection_id == destination_connection_id,
        DestinationAttribute.active.is_(True),
        tuple_(DestinationAttribute.attribute_type, DestinationAttribute.remote_id).in_(list(pairs)),
    )
    present = set((await repository.session.execute(query)).all())
    return [
        f"{where}: no active {' or '.join(types)} {remote_id!r} in this destination"
        if types
        else f"{where}: {vocabulary.system} has no attribute type for it"
        for where, remote_id, types in referenced
        if not any((kind, remote_id) in present for kind in types)
    ]


def _changed_sections(before: ExportSettings | None, after: ExportSettings) -> Sequence[str]:
    if before is None:
        return sorted(ExportSettings.model_fields)
    return sorted(name for name in ExportSettings.model_fields if getattr(before, name) != getattr(after, name))


def with_default_kinds(
    settings: ExportSettings, creates: Mapping[Fund, Sequence[DocumentKind]] | None
) -> ExportSettings:
    """`settings` with each exported fund that names no export type given the destination's default for it (the
    first kind its connector lists for the fund), rather than a kind only another destination creates. Checked as
    a whole again: `RejectedChange` when the default needs settings that are missing."""
    if creates is None:
        return settings
    body = settings.model_dump(mode="json")
    for fund in Fund:
        chosen = settings.fund(fund)
        if chosen is not None and "export_type" not in chosen.model_fields_set and creates.get(fund):
            body[fund.value]["export_type"] = creates[fund][0].value
    if body == settings.model_dump(mode="json"):
        return settings
    try:
        return ExportSettings.model_validate(body)
    except PydanticValidationError as exc:
        problems = [f"with this destination's default export types: {error['msg']}" for error in exc.errors()]
        raise RejectedChange(problems) from exc


def kind_problems(settings: ExportSettings, creates: Mapping[Fund, Sequence[DocumentKind]] | None) -> list[str]:
    """The export types `settings` ask for that the destination does not create."""
    if creates is None:
        return []
    problems = []
    for fund in Fund:
        kind = settings.export_type(fund)
        allowed = creates.get(fund, ())
        if kind is not None and kind not in allowed:
            offered = ", ".join(allowed) or "nothing"
            problems.append(f"{fund}.export_type: this destination creates no {kind} documents; it offers {offered}")
    return problems


async def save_settings(
    repository: TenantRepository,
    *,
    destination: Connection,
    settings: ExportSettings,
    vocabulary: DestinationVocabulary,
    creates: Mapping[Fund, Sequence[DocumentKind]] | None = None,
) -> tuple[StoredSettings, bool]:
    """Save `settings` as the destination's next version; (the current version, whether a new one was made).

    A fund that names no export type gets the destination's default (`with_default_kinds`).
    `RejectedChange` lists every default that does not resolve, everything the destination's `vocabulary` does not
    offer (`destination_problems`), and every export type the destination does not create (`creates`: its
    connector's declaration, per fund). Saves of one destination are serialised by locking
    its connection row, so two versions can never get the same number.
    """
    await repository.session.execute(
        select(Connection.id)
        .where(Connection.tenant_id == repository.tenant_id, Connection.id == destination.id)
        .with_for_update()
    )
    settings = with_default_kinds(settings, creates)
    current = await current_settings(repository, destination.id)
    if current is not None and current.settings == settings:
        return current, False
    problems = [
        *kind_problems(settings, creates),
        *destination_problems(settings, vocabulary),
        *await default_problems(repository, destination.id, settings, vocabulary),
    ]
    if problems:
        raise RejectedChange(problems)
    row = ExportSettingsVersion(
        id=uuid.uuid4(),
        destination_connection_id=destination.id,
        version=current.version + 1 if current is not None else 1,
        body=settings.model_dump(mode="json"),
        created_by=repository.actor,
    )
    await repository.add(
        row,
        audit_action=AUDIT_SETTINGS_SAVE,
        audit_data={
            "destination_connection_id": str(destination.id),
            "version": row.version,
            "changed": list(_changed_sections(current.settings if current else None, settings)),
        },
    )
    await repository.session.refresh(row)
    return StoredSettings.of(row), True
