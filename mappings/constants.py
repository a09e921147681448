"""Every vocabulary, limit and key format of the `mappings` package, in one place."""

from decimal import Decimal
from enum import StrEnum
from typing import Final

from core.constants import NAMED_TYPE_PATTERN as NAMED_TYPE_PATTERN
from core.destination_vocabulary import AttributeRole
from core.domain import Fund as Fund  # re-exported: the mappings name funds through this module


class SourceType(StrEnum):
    """Source dimensions a mapping starts from. Custom fields are `custom:<NAME>` on top of these."""

    CATEGORY = "category"
    EMPLOYEE = "employee"
    PROJECT = "project"
    COST_CENTER = "cost_center"
    DEPARTMENT = "department"
    CORPORATE_CARD = "corporate_card"
    TAX_GROUP = "tax_group"


CUSTOM_FIELD_PREFIX: Final = "custom:"
COMPATIBLE_ROLES: Final[dict[str, frozenset[AttributeRole]]] = {
    SourceType.CATEGORY: frozenset({AttributeRole.CATEGORY}),
    SourceType.EMPLOYEE: frozenset({AttributeRole.COUNTERPARTY}),
    SourceType.CORPORATE_CARD: frozenset({AttributeRole.CARD_ACCOUNT}),
    SourceType.TAX_GROUP: frozenset({AttributeRole.TAX}),
}
"""The roles a destination type must be able to play for each fixed source type to map to it
(`core.destination_vocabulary`: the destination's spec says which of its types play which)."""
DIMENSION_ROLES: Final = frozenset({AttributeRole.LINE_DIMENSION, AttributeRole.ENTITY})
"""What project, cost center, department and custom fields may map to: a line dimension, or an entity to route to."""

ATTRIBUTE_TYPE_PATTERN: Final = r"^[a-z][a-z0-9_]{0,62}(:[A-Za-z0-9_][A-Za-z0-9_ .\-]{0,62})?$"
"""The shape of a destination attribute type's name in settings (`class`, `udd:REGION`); whether the destination
has it is checked on save, against its vocabulary."""

DIMENSION_SOURCES: Final = frozenset({SourceType.PROJECT, SourceType.COST_CENTER, SourceType.DEPARTMENT})
"""Source types (with `custom:<NAME>`) that a dimension rule can carry onto document lines, and that can route
documents to an entity."""

# Money
CENTS: Final = Decimal("0.01")
ZERO: Final = Decimal(0)

# Export item keys
IDEMPOTENCY_KEY_PREFIX: Final = "ll-"
IDEMPOTENCY_KEY_DIGEST_CHARS: Final = 32
"""`ll-` + 32 hex characters: 35 characters, within every destination's reference field (Intacct's is 45)."""
GROUP_KEY_SEPARATOR: Final = ";"
REGROUP_LOCK_NAMESPACE: Final = 7_130_005
"""First key of the advisory lock that serialises regrouping for one destination connection."""

# Limits
MEMO_MAX_LENGTH: Final = 1000
MEMO_TEMPLATE_MAX_LENGTH: Final = 500
MEMO_TEMPLATE_CACHE_SIZE: Final = 256
MAX_SKIP_RULES: Final = 50
MAX_CONDITIONS_PER_RULE: Final = 10
MAX_CONDITION_VALUES: Final = 200
MAX_GROUP_FIELDS: Final = 5
MAX_DIMENSION_RULES: Final = 20
MAX_BULK_MAPPINGS: Final = 500
MAX_AMBIGUOUS_CANDIDATES: Final = 10
REDATE_MONTHS_MAX: Final = 12
"""How many months past its own day a document refused for a closed period may be moved: a year of closed books is
a setup to look at, not a date to keep chasing."""
SETTINGS_PATH: Final = "/v1/connections/{connection_id}/export-settings"
"""Where a destination's export settings are changed, for hints that send a person there."""
"""How many candidates an ambiguous auto-map reports, so a name shared by hundreds stays readable."""

EMAIL_DETAIL_MARKER: Final = "email"
"""Auto-map by email reads any `destination_attributes.detail` field whose name contains this (case-insensitive):
each connector keeps the system's own field name (Intacct's `CONTACT.EMAIL1`, for one)."""

DEFAULT_EXPORTABLE_STATES: Final = ("APPROVED", "PAYMENT_PROCESSING", "PAID")

# Audit actions
AUDIT_SETTINGS_SAVE: Final = "export_settings.save"
AUDIT_MAPPING_CREATE: Final = "mapping.create"
AUDIT_MAPPING_UPDATE: Final = "mapping.update"
AUDIT_MAPPING_DELETE: Final = "mapping.delete"
RELEASE_REASON: Final = "mappings saved"
"""Why an item waiting for mappings went back to pending (in its `export_item.pending` audit event)."""
AUDIT_REGROUP: Final = "export_items.regroup"

EXPENSE_CACHE_ENTRIES: Final = 5_000
"""Expenses a process keeps decoded (`expense_cache`): about 5 KB each, 25 MB in all; a run of that many expenses
is grouped and previewed without decoding one."""
