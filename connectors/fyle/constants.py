"""Fyle's paths (relative to the cluster's `/platform/v1`), list parameters and vocabularies, in one place."""

from typing import Final

from core.domain import ExportOutcome, RecordKind

CHECK_PATH: Final = "/admin/employees"
"""The cheapest authenticated call: one employee."""
FILE_URLS_PATH: Final = "/admin/files/generate_urls/bulk"
EXPORT_SUMMARY_PATH: Final = "/admin/expenses/accounting_export_summary/bulk"
MARK_PAID_PATH: Final = "/admin/reports/mark_paid/bulk"

STREAM_KINDS: Final = {
    "expenses": RecordKind.EXPENSE,
    "reports": RecordKind.REPORT,
    "employees": RecordKind.EMPLOYEE,
}
"""Each stream is the admin list of the same name (`/admin/expenses`, …)."""
STREAM_PATH: Final = "/admin/{stream}"
CURSOR_FIELD: Final = "updated_at"
LIST_ORDER: Final = "updated_at.asc,id.asc"
"""Oldest first; the id breaks ties so that offsets mean the same thing from one page to the next."""

DIMENSION_PATHS: Final = {
    "categories": "/admin/categories/bulk",
    "projects": "/admin/projects/bulk",
    "cost_centers": "/admin/cost_centers/bulk",
}
"""Where destination values are mirrored, by Fyle's name for the dimension."""

EXPORT_STATES: Final = {
    ExportOutcome.COMPLETE: "COMPLETE",
    ExportOutcome.ERROR: "ERROR",
    ExportOutcome.SKIPPED: "SKIPPED",
}
"""`accounting_export_summary_in.state` for each outcome."""
EXPORT_ERROR_TYPE: Final = "ACCOUNTING_INTEGRATION_ERROR"
"""`error_type` of a failed export; Fyle's other value, MAPPING, needs the error's class (see `writes.py`)."""
MISSING_EXPORT_URL: Final = ""
"""Fyle requires a `url` on every summary; sent when Ledgerline has no link for one."""

WEBHOOK_REPORT_RESOURCE: Final = "REPORT"
"""The `resource` of a subscription callback about a report (`connectors.fyle.webhook_payloads`)."""
CLUSTER_DOMAIN_SETTING: Final = "cluster_domain"
"""Connection setting: the org's cluster origin (`https://in1.fylehq.com`), as `POST /oauth/cluster` answers it."""
FYLE_DOMAIN: Final = "fylehq.com"
"""Bearer tokens go to this domain's hosts only (or to the configured sandbox)."""
