"""`/v1/connections/{connection_id}/export-settings`: how a destination's documents are built, versioned.

Saving regroups, in the same transaction, the expenses that were never sent: what was exported stays exported.
"""

import uuid
from collections import Counter
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from api.deps import RepositoryDep
from api.destinations import DestinationDep
from api.keyset import keyset_page
from connectors.registry import connector_class, destination_vocabulary
from core.domain import Fund
from core.models import ExportSettingsVersion
from mappings import (
    ExportSettings,
    RegroupResult,
    RejectedChange,
    StoredSettings,
    current_settings,
    regroup,
    save_settings,
)
from web.pagination import PageParams, decode_cursor, encode_cursor, page_params
from web.problems import Problem

router = APIRouter(prefix="/connections/{connection_id}/export-settings", tags=["export settings"])


class ExportSettingsPublic(BaseModel):
    destination_connection_id: uuid.UUID
    version: int
    settings: ExportSettings
    created_by: str
    created_at: datetime

    @classmethod
    def of(cls, stored: StoredSettings) -> "ExportSettingsPublic":
        return cls(
            destination_connection_id=stored.destination_connection_id,
            version=stored.version,
            settings=stored.settings,
            created_by=stored.created_by,
            created_at=stored.created_at,
        )


class ExportSettingsVersionsPublic(BaseModel):
    items: list[ExportSettingsPublic]
    next_cursor: str | None


class RegroupPublic(BaseModel):
    created_items: int
    kept_items: int
    dropped_items: int
    skipped_expenses: int
    skip_reasons: dict[str, int]
    """How many expenses each reason left out."""

    @classmethod
    def of(cls, result: RegroupResult) -> "RegroupPublic":
        return cls(
            created_items=len(result.created),
            kept_items=result.kept,
            dropped_items=len(result.dropped),
            skipped_expenses=len(result.skipped),
            skip_reasons=dict(Counter(skipped.reason for skipped in result.skipped)),
        )


class ExportSettingsSaved(ExportSettingsPublic):
    new_version: bool
    regroup: RegroupPublic


@router.get("", response_model=ExportSettingsPublic, summary="Read the current export settings")
async def read_export_settings(destination: DestinationDep, repository: RepositoryDep) -> ExportSettingsPublic:
    stored = await current_settings(repository, destination.id)
    if stored is None:
        raise Problem(404, f"No export settings are saved for connection {destination.id} yet.")
    return ExportSettingsPublic.of(stored)


@router.put("", response_model=ExportSettingsSaved, summary="Save export settings as a new version")
async def save_export_settings(
    body: ExportSettings, destination: DestinationDep, repository: RepositoryDep
) -> ExportSettingsSaved:
    try:
        spec = connector_class(destination.provider).spec
        creates = {fund: spec.export_kinds(fund) for fund in Fund}
        stored, new_version = await save_settings(
            repository,
            destination=destination,
            settings=body,
            vocabulary=destination_vocabulary(destination.provider),
            creates=creates,
        )
    except RejectedChange as exc:
        raise Problem(
            422, f"The export settings cannot be saved: {exc}.", problem="invalid-settings", errors=exc.problems
        ) from exc
    result = await regroup(repository, destination=destination, settings=stored.settings)
    return ExportSettingsSaved(
        **ExportSettingsPublic.of(stored).model_dump(), new_version=new_version, regroup=RegroupPublic.of(result)
    )


@router.get("/versions", response_model=ExportSettingsVersionsPublic, summary="List every saved version")
async def list_export_settings_versions(
    destination: DestinationDep, repository: RepositoryDep, page: Annotated[PageParams, Depends(page_params)]
) -> ExportSettingsVersionsPublic:
    query = repository.scoped(ExportSettingsVersion).where(
        ExportSettingsVersion.destination_connection_id == destination.id
    )
    rows, position = await keyset_page(
        repository,
        query,
        order=(ExportSettingsVersion.created_at, ExportSettingsVersion.id),
        position=lambda row: (row[0].created_at, row[0].id),
        after=decode_cursor(page.cursor),
        limit=page.limit,
    )
    return ExportSettingsVersionsPublic(
        items=[ExportSettingsPublic.of(StoredSettings.of(row[0])) for row in rows], next_cursor=encode_cursor(position)
    )
