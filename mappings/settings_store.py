"""Export settings, versioned: saving adds a version (and an audit event), never overwrites one.

Saving checks what the model alone cannot: that every default names an active attribute of the right type in
this destination. Identical settings are not saved again, so replaying a save is harmless.
"""

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, tuple_

from core.domain import DocumentKind
from core.models import Connection, DestinationAttribute, ExportSettingsVersion
from core.repository import TenantRepository
from mappings.constants import AUDIT_SETTINGS_SAVE, DestinationType, Fund
from mappings.errors import RejectedChange
from mappings.settings import ExportSettings

_DEFAULT_TYPES: dict[str, tuple[str, ...]] = {
    "charge_card_account": (DestinationType.CHARGE_CARD_ACCOUNT,),
    "journal_credit_account": (DestinationType.ACCOUNT,),
    "journal_card_credit_account": (DestinationType.ACCOUNT,),
    "card_vendor": (DestinationType.VENDOR,),
    "payment_account": (DestinationType.CHECKING_ACCOUNT, DestinationType.ACCOUNT),
}
"""The attribute types each named default may be (a bank account is an account in some systems)."""


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


def _referenced_defaults(settings: ExportSettings) -> list[tuple[str, str, tuple[str, ...]]]:
    """(where in the settings, remote id, allowed attribute types) of every default that names an attribute."""
    defaults = settings.defaults
    named = [
        (f"defaults.{name}", value, types)
        for name, types in _DEFAULT_TYPES.items()
        if (value := getattr(defaults, name)) is not None
    ]
    dimensions = [(f"defaults.dimensions.{kind}", value, (kind,)) for kind, value in defaults.dimensions.items()]
    return named + dimensions


async def default_problems(
    repository: TenantRepository, destination_connection_id: uuid.UUID, settings: ExportSettings
) -> list[str]:
    """Every default that does not name an active attribute of an allowed type in this destination."""
    referenced = _referenced_defaults(settings)
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
        for where, remote_id, types in referenced
        if not any((kind, remote_id) in present for kind in types)
    ]


def _changed_sections(before: ExportSettings | None, after: ExportSettings) -> Sequence[str]:
    if before is None:
        return sorted(ExportSettings.model_fields)
    return sorted(name for name in ExportSettings.model_fields if getattr(before, name) != getattr(after, name))


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
    creates: Mapping[Fund, Sequence[DocumentKind]] | None = None,
) -> tuple[StoredSettings, bool]:
    """Save `settings` as the destination's next version; (the current version, whether a new one was made).

    `RejectedChange` lists every default that does not resolve, and every export type the destination does not
    create (`creates`: its connector's declaration, per fund). Saves of one destination are serialised by locking
    its connection row, so two versions can never get the same number.
    """
    await repository.session.execute(
        select(Connection.id)
        .where(Connection.tenant_id == repository.tenant_id, Connection.id == destination.id)
        .with_for_update()
    )
    current = await current_settings(repository, destination.id)
    if current is not None and current.settings == settings:
        return current, False
    problems = [*kind_problems(settings, creates), *await default_problems(repository, destination.id, settings)]
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
