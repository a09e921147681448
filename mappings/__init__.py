"""Export settings, mappings, grouping and document builders: how an expense becomes an accounting document.

Imports only `core`. The builders are pure (no I/O, no clock); the `*_store`, `regrouping`, `unmapped`,
`automap` and `preview` modules read and write through a `TenantRepository`, inside the caller's transaction.
"""

from mappings.automap import (
    Ambiguous,
    AutoMapResult,
    Candidate,
    SourceValue,
    auto_map,
    match_values,
    suggest_mappings,
)
from mappings.builders import build_document, build_payment
from mappings.constants import Fund, SourceType
from mappings.errors import MissingMapping, MissingMappingsError, NotFound, RejectedChange
from mappings.expense_json import ExpenseFormatError, expense_from_json, expense_to_json
from mappings.grouping import Group, GroupingPlan, Skipped, idempotency_key, plan_groups
from mappings.mapping_store import MappingChange, SavedMappings, clear_mapping, set_mappings
from mappings.mapping_table import MappingTable, load_mapping_table
from mappings.preview import Preview, preview_item
from mappings.regrouping import RegroupResult, regroup
from mappings.settings import AutoMapRules, ExportSettings
from mappings.settings_store import StoredSettings, current_settings, save_settings
from mappings.skip_rules import Condition, SkipRule
from mappings.totals import gross_total, is_balanced, line_gross
from mappings.unmapped import UnmappedValue, list_unmapped

__all__ = [
    "Ambiguous",
    "AutoMapResult",
    "AutoMapRules",
    "Candidate",
    "Condition",
    "ExpenseFormatError",
    "ExportSettings",
    "Fund",
    "Group",
    "GroupingPlan",
    "MappingChange",
    "MappingTable",
    "MissingMapping",
    "MissingMappingsError",
    "NotFound",
    "Preview",
    "RegroupResult",
    "RejectedChange",
    "SavedMappings",
    "SkipRule",
    "Skipped",
    "SourceType",
    "SourceValue",
    "StoredSettings",
    "UnmappedValue",
    "auto_map",
    "build_document",
    "build_payment",
    "clear_mapping",
    "current_settings",
    "expense_from_json",
    "expense_to_json",
    "gross_total",
    "idempotency_key",
    "is_balanced",
    "line_gross",
    "list_unmapped",
    "load_mapping_table",
    "match_values",
    "plan_groups",
    "preview_item",
    "regroup",
    "save_settings",
    "set_mappings",
    "suggest_mappings",
]
