"""`/v1/connections/{connection_id}/mappings`: source values → destination attributes.

Every change is audited, and saving releases the export items that were waiting only on what was just mapped.
"""

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Select, and_, select

from api.deps import RepositoryDep
from api.destinations import DestinationDep
from api.keyset import decode_key_cursor, encode_key_cursor, keyset_page
from connectors.registry import destination_vocabulary
from core.models import Connection, DestinationAttribute, Mapping
from core.repository import TenantRepository
from mappings import (
    AutoMapRules,
    Candidate,
    ExportSettings,
    MappingChange,
    NotFound,
    RejectedChange,
    SavedMappings,
    auto_map,
    clear_mapping,
    current_settings,
    list_unmapped,
    set_mappings,
)
from mappings.constants import MAX_BULK_MAPPINGS
from web.pagination import PageParams, decode_cursor, encode_cursor, page_params
from web.problems import Problem, problem_responses

router = APIRouter(prefix="/connections/{connection_id}/mappings", tags=["mappings"])


class MappingCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source_type: str = Field(min_length=1, max_length=64, description="category, employee, project, cost_center, …")
    source_value: str = Field(min_length=1, max_length=1000, description="The category name, employee email, …")
    destination_type: str = Field(
        min_length=1,
        max_length=64,
        description="One of the destination's attribute types (its connector's spec declares them).",
    )
    destination_attribute_id: uuid.UUID

    def change(self) -> MappingChange:
        return MappingChange(self.source_type, self.source_value, self.destination_type, self.destination_attribute_id)


class MappingsBulkCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mappings: list[MappingCreate] = Field(min_length=1, max_length=MAX_BULK_MAPPINGS)


class MappingPublic(BaseModel):
    id: uuid.UUID
    destination_connection_id: uuid.UUID
    source_type: str
    source_value: str
    destination_type: str
    destination_attribute_id: uuid.UUID
    destination_remote_id: str
    destination_name: str
    destination_active: bool
    updated_by: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, mapping: Mapping, attribute: DestinationAttribute) -> "MappingPublic":
        return cls(
            id=mapping.id,
            destination_connection_id=mapping.destination_connection_id,
            source_type=mapping.source_type,
            source_value=mapping.source_value,
            destination_type=mapping.destination_type,
            destination_attribute_id=attribute.id,
            destination_remote_id=attribute.remote_id,
            destination_name=attribute.name,
            destination_active=attribute.active,
            updated_by=mapping.updated_by,
            created_at=mapping.created_at,
            updated_at=mapping.updated_at,
        )


class MappingsPublic(BaseModel):
    items: list[MappingPublic]
    next_cursor: str | None


class MappingsSaved(BaseModel):
    items: list[MappingPublic]
    created: int
    released_item_ids: list[uuid.UUID]
    """Export items that were waiting on these mappings and are pending again."""


class UnmappedPublic(BaseModel):
    source_type: str
    source_value: str
    destination_type: str
    waiting_expenses: int
    waiting_items: int


class UnmappedListPublic(BaseModel):
    items: list[UnmappedPublic]
    next_cursor: str | None


class AttributeSummary(BaseModel):
    id: uuid.UUID
    remote_id: str
    name: str
    code: str | None


class AutoMapped(BaseModel):
    source_type: str
    source_value: str
    destination_type: str
    destination: AttributeSummary


class AutoMapAmbiguous(BaseModel):
    source_type: str
    source_value: str
    destination_type: str
    match_on: str
    candidates: list[AttributeSummary]


class AutoMapUnmatched(BaseModel):
    source_type: str
    source_value: str
    destination_type: str


class AutoMapPublic(BaseModel):
    mapped: list[AutoMapped]
    ambiguous: list[AutoMapAmbiguous]
    """Values more than one attribute matched: not mapped, for a person to choose."""
    unmatched: list[AutoMapUnmatched]
    released_item_ids: list[uuid.UUID]


async def _settings(repository: TenantRepository, destination: Connection) -> ExportSettings:
    stored = await current_settings(repository, destination.id)
    if stored is None:
        raise Problem(
            409,
            "Save export settings for this destination first: they decide which mappings its documents need.",
            problem="settings-required",
        )
    return stored.settings


def _joined(repository: TenantRepository) -> Select[Mapping, DestinationAttribute]:
    return (
        select(Mapping, DestinationAttribute)
        .join(
            DestinationAttribute,
            and_(
                DestinationAttribute.tenant_id == Mapping.tenant_id,
                DestinationAttribute.id == Mapping.destination_attribute_id,
            ),
        )
        .where(Mapping.tenant_id == repository.tenant_id)
    )


async def _public(repository: TenantRepository, saved: SavedMappings) -> MappingsSaved:
    ids = [mapping.id for mapping in saved.mappings]
    rows = (await repository.session.execute(_joined(repository).where(Mapping.id.in_(ids)))).all()
    by_id = {mapping.id: MappingPublic.of(mapping, attribute) for mapping, attribute in rows}
    return MappingsSaved(
        items=[by_id[mapping_id] for mapping_id in ids],
        created=saved.created,
        released_item_ids=list(saved.released_item_ids),
    )


async def _save(repository: TenantRepository, destination: Connection, changes: list[MappingChange]) -> MappingsSaved:
    try:
        saved = await set_mappings(
            repository,
            destination_connection_id=destination.id,
            changes=changes,
            vocabulary=destination_vocabulary(destination.provider),
        )
    except RejectedChange as exc:
        raise Problem(
            422, f"The mappings cannot be saved: {exc}.", problem="invalid-mapping", errors=exc.problems
        ) from exc
    return await _public(repository, saved)


@router.get("", response_model=MappingsPublic, summary="List mappings")
async def list_mappings(
    destination: DestinationDep,
    repository: RepositoryDep,
    page: Annotated[PageParams, Depends(page_params)],
    source_type: Annotated[str | None, Query(max_length=64)] = None,
) -> MappingsPublic:
    query = _joined(repository).where(Mapping.destination_connection_id == destination.id)
    if source_type is not None:
        query = query.where(Mapping.source_type == source_type)
    rows, position = await keyset_page(
        repository,
        query,
        order=(Mapping.created_at, Mapping.id),
        position=lambda row: (row[0].created_at, row[0].id),
        after=decode_cursor(page.cursor),
        limit=page.limit,
    )
    return MappingsPublic(items=[MappingPublic.of(row[0], row[1]) for row in rows], next_cursor=encode_cursor(position))


@router.post("", response_model=MappingsSaved, summary="Set one mapping (create or repoint)")
async def set_mapping(body: MappingCreate, destination: DestinationDep, repository: RepositoryDep) -> MappingsSaved:
    return await _save(repository, destination, [body.change()])


@router.post("/bulk", response_model=MappingsSaved, summary="Set many mappings at once, all or none")
async def bulk_set_mappings(
    body: MappingsBulkCreate, destination: DestinationDep, repository: RepositoryDep
) -> MappingsSaved:
    return await _save(repository, destination, [item.change() for item in body.mappings])


@router.get(
    "/unmapped",
    response_model=UnmappedListPublic,
    summary="List unmapped values and who waits on them",
    responses=problem_responses({409: "No export settings are saved for this destination yet."}),
)
async def list_unmapped_values(
    destination: DestinationDep, repository: RepositoryDep, page: Annotated[PageParams, Depends(page_params)]
) -> UnmappedListPublic:
    values = await list_unmapped(
        repository,
        destination_connection_id=destination.id,
        settings=await _settings(repository, destination),
        vocabulary=destination_vocabulary(destination.provider),
    )
    after = decode_key_cursor(page.cursor)
    keys = [(value.source_type, value.source_value, value.destination_type) for value in values]
    remaining = [value for value, key in zip(values, keys, strict=True) if after is None or key > after]
    shown = remaining[: page.limit]
    last = shown[-1] if len(remaining) > page.limit else None
    return UnmappedListPublic(
        items=[UnmappedPublic.model_validate(value, from_attributes=True) for value in shown],
        next_cursor=encode_key_cursor((last.source_type, last.source_value, last.destination_type) if last else None),
    )


@router.post(
    "/auto-map",
    response_model=AutoMapPublic,
    summary="Map employees and categories by rules",
    responses=problem_responses({409: "No export settings are saved for this destination yet."}),
)
async def auto_map_values(
    destination: DestinationDep, repository: RepositoryDep, body: AutoMapRules | None = None
) -> AutoMapPublic:
    """Rules default to the export settings' `auto_map`; values more than one attribute matches are not mapped."""
    settings = await _settings(repository, destination)
    result, saved = await auto_map(
        repository,
        destination_connection_id=destination.id,
        settings=settings,
        vocabulary=destination_vocabulary(destination.provider),
        rules=body,
    )

    def summary(candidate: Candidate) -> AttributeSummary:
        return AttributeSummary(
            id=candidate.attribute_id, remote_id=candidate.remote_id, name=candidate.name, code=candidate.code
        )

    return AutoMapPublic(
        mapped=[
            AutoMapped(
                source_type=value.source_type,
                source_value=value.source_value,
                destination_type=value.destination_type,
                destination=summary(candidate),
            )
            for value, candidate in result.mapped
        ],
        ambiguous=[
            AutoMapAmbiguous(
                source_type=item.value.source_type,
                source_value=item.value.source_value,
                destination_type=item.value.destination_type,
                match_on=item.match_on,
                candidates=[summary(candidate) for candidate in item.candidates],
            )
            for item in result.ambiguous
        ],
        unmatched=[
            AutoMapUnmatched(
                source_type=value.source_type, source_value=value.source_value, destination_type=value.destination_type
            )
            for value in result.unmatched
        ],
        released_item_ids=list(saved.released_item_ids) if saved else [],
    )


# `:uuid`: the literal routes above (`bulk`, `unmapped`, `auto-map`) are then never read as a mapping id, so
# `GET …/mappings/auto-map` answers 405 (`Allow: POST`) instead of a 422 about an invalid UUID.
@router.get("/{mapping_id:uuid}", response_model=MappingPublic, summary="Read a mapping")
async def read_mapping(mapping_id: uuid.UUID, destination: DestinationDep, repository: RepositoryDep) -> MappingPublic:
    query = _joined(repository).where(Mapping.id == mapping_id, Mapping.destination_connection_id == destination.id)
    row = (await repository.session.execute(query)).first()
    if row is None:
        raise Problem(404, f"No mapping {mapping_id} exists for this connection.")
    return MappingPublic.of(*row)


@router.delete("/{mapping_id:uuid}", status_code=204, summary="Clear a mapping")
async def delete_mapping(mapping_id: uuid.UUID, destination: DestinationDep, repository: RepositoryDep) -> Response:
    try:
        await clear_mapping(repository, destination_connection_id=destination.id, mapping_id=mapping_id)
    except NotFound as exc:
        raise Problem(404, str(exc)) from exc
    return Response(status_code=204)
