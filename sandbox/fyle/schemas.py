"""Request bodies of the admin API, as the spec defines them (`category_in`, `project_in`, …).

Where the spec sets `additionalProperties: false` the model forbids extra keys; elsewhere it ignores them.
"""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

IdString = str
ExportState = Literal["COMPLETE", "ERROR", "IN_PROGRESS", "SKIPPED", "INITIATED"]
ExportErrorType = Literal["ACCOUNTING_INTEGRATION_ERROR", "MAPPING"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore")


class CategoryIn(Strict):
    id: int | None = None
    name: str = Field(min_length=1, max_length=255)
    sub_category: str | None = Field(default=None, max_length=255)
    is_enabled: bool = True
    system_category: str | None = Field(default=None, max_length=255)
    code: str | None = Field(default=None, max_length=255)
    restricted_project_ids: list[int] | None = None
    restricted_spender_user_ids: list[str] | None = None


class ProjectIn(Strict):
    id: int | None = None
    name: str = Field(min_length=1, max_length=255)
    sub_project: str | None = Field(default=None, max_length=255)
    code: str | None = Field(default=None, max_length=255)
    description: str | None = Field(default=None, max_length=255)
    is_enabled: bool = True
    restricted_spender_user_ids: list[str] | None = None
    approver_user_ids: list[str | None] = Field(default_factory=list, max_length=2)
    approver_emails: list[str | None] = Field(default_factory=list, max_length=2)
    category_ids: list[int] | None = None
    default_billable: bool | None = None


class SpenderGroup(Strict):
    with_no_cost_center_restrictions: bool


class CostCenterIn(Strict):
    id: int | None = None
    name: str = Field(min_length=1, max_length=255)
    code: str | None = Field(default=None, max_length=255)
    description: str | None = Field(default=None, max_length=255)
    is_enabled: bool = True
    restricted_spender_user_ids: list[str] | None = None
    restricted_spender_user_group: SpenderGroup | None = None


class FileIn(Lenient):
    id: IdString | None = Field(default=None, max_length=15)
    name: str = Field(min_length=1)
    type: Literal["INTEGRATION", "RECEIPT"]
    password: str | None = None
    user_id: IdString = Field(max_length=15)


class IdOnly(Lenient):
    id: IdString = Field(max_length=15)


class MarkPaidIn(Lenient):
    id: IdString = Field(max_length=15)
    paid_notify_at: datetime | None = None
    code: str | None = None


class ExportSummaryIn(Lenient):
    id: IdString = Field(max_length=15)
    state: ExportState
    error_type: ExportErrorType | None
    url: str
