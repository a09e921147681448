"""Write-back payloads in admin.yaml's shapes: `category_in` / `project_in` / `cost_center_in`,
`accounting_export_summary_in` and `mark_paid_bulk_in`, cut into batches of the spec's `batch_size`.

Every one of these is an upsert on a natural key (a dimension's name, an expense's summary, a report's paid state),
so sending a batch twice leaves Fyle as sending it once: that is what makes the writes safe to retry.
"""

from collections.abc import Iterator, Sequence
from typing import Any

from connectors.fyle.constants import EXPORT_ERROR_TYPE, EXPORT_STATES, MISSING_EXPORT_URL
from core.domain import DimensionValue, ExportOutcome, ExportStatus, RecordKind

Row = dict[str, Any]


def dimension_rows(values: Sequence[DimensionValue]) -> list[Row]:
    """A category, project or cost center per value. `code` carries the destination's code (its id when it has
    none), which is how an expense's dimension leads back to the destination value, as Fyle's own integrations do."""
    return [{"name": value.name, "code": value.code or value.remote_id, "is_enabled": value.active} for value in values]


def export_summary_rows(statuses: Sequence[ExportStatus]) -> list[Row]:
    """Fyle keeps export summaries per expense; a report's outcome must be written for each of its expenses."""
    others = sorted({status.kind for status in statuses} - {RecordKind.EXPENSE})
    if others:
        raise ValueError(f"Fyle records export summaries per expense, not per {', '.join(others)}")
    return [
        {
            "id": status.source_remote_id,
            "state": EXPORT_STATES[status.outcome],
            "error_type": EXPORT_ERROR_TYPE if status.outcome is ExportOutcome.ERROR else None,
            "url": status.url or MISSING_EXPORT_URL,
        }
        for status in statuses
    ]


def mark_paid_rows(report_ids: Sequence[str]) -> list[Row]:
    return [{"id": report_id} for report_id in report_ids]


def batches(rows: Sequence[Row], size: int) -> Iterator[list[Row]]:
    for start in range(0, len(rows), size):
        yield list(rows[start : start + size])
