"""`POST /admin/{categories,projects,cost_centers}/bulk`: create or update dimensions pushed by an integration.

A row with `id` updates that record (unknown id → error); a row without one updates the record with the same name
(categories: name + sub_category, projects: name + sub_project, cost centers: name) or creates a new one.
Only the keys a row sends change. The request is all or nothing: rows are checked first, and any bad row fails it
with the spec's `bulk_error` (row, key, message).
"""

from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from sandbox.fyle.collection import Collection
from sandbox.fyle.errors import BulkError, BulkRowError
from sandbox.fyle.records import Category, CostCenter, Project
from sandbox.fyle.schemas import CategoryIn, CostCenterIn, ProjectIn
from sandbox.fyle.store import FyleStore

M = TypeVar("M", bound=BaseModel)
D = TypeVar("D", Category, Project, CostCenter)
NaturalKey = tuple[str, str | None]


def parse_rows(rows: list[Any], model: type[M]) -> list[M]:
    """Validate every row, reporting each bad one with its index, as Fyle's `bulk_error` does."""
    parsed: list[M] = []
    errors: list[BulkRowError] = []
    for row, raw in enumerate(rows):
        try:
            parsed.append(model.model_validate(raw))
        except ValidationError as error:
            first = error.errors()[0]
            key = ".".join(str(part) for part in first["loc"]) or "data"
            errors.append(BulkRowError(row=row, key=key, message=first["msg"]))
    if errors:
        raise BulkError(errors)
    return parsed


def _upsert(
    store: FyleStore,
    collection: Collection[D],
    rows: list[M],
    *,
    kind: str,
    key_of_record: Callable[[D], NaturalKey],
    key_of_row: Callable[[M], NaturalKey],
    create: Callable[[M, int], D],
) -> list[D]:
    by_key = {key_of_record(record): record for record in collection}
    errors: list[BulkRowError] = []
    for row, item in enumerate(rows):
        item_id = getattr(item, "id", None)
        if item_id is None:
            continue
        target = collection.get(item_id)
        if target is None:
            errors.append(BulkRowError(row=row, key=item_id, message=f"{kind} with id {item_id} not found"))
        elif by_key.get(key_of_row(item), target) is not target:
            errors.append(BulkRowError(row=row, key=item_id, message=f"{kind} name already exists"))
    if errors:
        raise BulkError(errors)
    now = store.now()
    next_id = max((record.id for record in collection), default=0) + 1
    written = []
    for item in rows:
        item_id = getattr(item, "id", None)
        found = collection.get(item_id) if item_id is not None else by_key.get(key_of_row(item))
        if found is None:
            record = create(item, next_id)
            collection.add(record)
            next_id += 1
            action = "created"
        else:
            record = found
            by_key.pop(key_of_record(record), None)
            for name in item.model_fields_set & (set(type(record).__slots__) - {"id"}):
                setattr(record, name, getattr(item, name))
            collection.touch(record, now)
            action = "updated"
        by_key[key_of_record(record)] = record
        store.record_write(kind, {"id": record.id, "action": action, "payload": item.model_dump(exclude_unset=True)})
        written.append(record)
    return written


def upsert_categories(store: FyleStore, rows: list[Any]) -> list[Category]:
    def create(item: CategoryIn, new_id: int) -> Category:
        now = store.now()
        return Category(id=new_id, created_at=now, updated_at=now, **item.model_dump(exclude={"id"}))

    return _upsert(
        store,
        store.categories,
        parse_rows(rows, CategoryIn),
        kind="categories",
        key_of_record=lambda record: (record.name, record.sub_category),
        key_of_row=lambda item: (item.name, item.sub_category),
        create=create,
    )


def upsert_projects(store: FyleStore, rows: list[Any]) -> list[Project]:
    def create(item: ProjectIn, new_id: int) -> Project:
        now = store.now()
        fields = item.model_dump(exclude={"id", "approver_emails", "approver_user_ids"})
        approvers = [user_id for user_id in item.approver_user_ids if user_id]
        return Project(id=new_id, created_at=now, updated_at=now, approver_user_ids=approvers, **fields)

    return _upsert(
        store,
        store.projects,
        parse_rows(rows, ProjectIn),
        kind="projects",
        key_of_record=lambda record: (record.name, record.sub_project),
        key_of_row=lambda item: (item.name, item.sub_project),
        create=create,
    )


def upsert_cost_centers(store: FyleStore, rows: list[Any]) -> list[CostCenter]:
    def create(item: CostCenterIn, new_id: int) -> CostCenter:
        now = store.now()
        fields = item.model_dump(exclude={"id", "restricted_spender_user_group"})
        return CostCenter(id=new_id, created_at=now, updated_at=now, **fields)

    return _upsert(
        store,
        store.cost_centers,
        parse_rows(rows, CostCenterIn),
        kind="cost_centers",
        key_of_record=lambda record: (record.name, None),
        key_of_row=lambda item: (item.name, None),
        create=create,
    )
