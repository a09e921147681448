"""Every identifier, secret, TTL and limit of the Fyle simulator, in one place."""

from decimal import Decimal
from typing import Final

SYSTEM_NAME: Final = "fyle"

# The seeded OAuth client and connection. Fixed, so the demo and the tests can be configured without a lookup.
FYLE_SANDBOX_CLIENT_ID: Final = "tpaSandboxLedgr"
FYLE_SANDBOX_CLIENT_SECRET: Final = "fyle-sandbox-client-secret"  # noqa: S105 - a public sandbox credential
FYLE_SANDBOX_REFRESH_TOKEN: Final = "fyle-sandbox-refresh-token"  # noqa: S105 - a public sandbox credential
ORG_ID: Final = "orSandbox0001"
ORG_NAME: Final = "Ledgerline Sandbox Inc"
ORG_CURRENCY: Final = "USD"

# OAuth
ACCESS_TOKEN_TTL_SECONDS: Final = 3600
AUTHORIZATION_CODE_TTL_SECONDS: Final = 600
TOKEN_BYTES: Final = 32
TOKEN_TYPE: Final = "Bearer"  # noqa: S105 - a token type, not a secret
PKCE_METHODS: Final = ("S256", "plain")
GRANT_TYPES: Final = ("authorization_code", "refresh_token")

# Wire paths, relative to the simulator's mount.
API_BASE_PATH: Final = "/platform/v1"
"""Appended to the cluster domain, it gives the SDK's `server_url`."""
ADMIN_PREFIX: Final = f"{API_BASE_PATH}/admin"
AUTHORIZE_PATHS: Final = ("/app/developers/oauth/authorize", "/app/oauth/authorize")
"""The spec's authorization URL (on `app.fylehq.com`) and a shorter alias for hand-written links."""
STORAGE_PREFIX: Final = "/storage"
"""Where signed upload/download URLs point: the simulator's stand-in for the object store."""

# Lists (spec: `#/components/parameters/limit`).
DEFAULT_PAGE_LIMIT: Final = 50
MAX_PAGE_LIMIT: Final = 200
QUERY_CACHE_SIZE: Final = 16
"""Filtered result sets kept per collection, so paging a filtered list costs one scan, not one per page."""

# Files
SIGNED_URL_TTL_SECONDS: Final = 300
"""Spec: "The signed URL is valid for 5 mins"."""
MAX_UPLOAD_BYTES: Final = 10 * 1024 * 1024
FALLBACK_CONTENT_TYPE: Final = "application/octet-stream"

# Webhooks (Standard Webhooks)
WEBHOOK_SECRET_PREFIX: Final = "whsec_"  # noqa: S105 - a prefix, not a secret
WEBHOOK_SECRET_BYTES: Final = 24
WEBHOOK_RETRY_DELAYS_SECONDS: Final = (1.0, 5.0, 30.0)
"""Waits before the second, third and fourth attempt; the control API shortens them for tests."""
WEBHOOK_TIMEOUT_SECONDS: Final = 5.0
WEBHOOK_DELIVERY_LOG_SIZE: Final = 2000

# Write log (what the client wrote), for the control API.
WRITE_LOG_SIZE: Final = 5000

# Seed data
SEED_EMPLOYEES: Final = 20
SEED_REPORTS: Final = 40
SEED_UNREPORTED_EXPENSES: Final = 12
SEED_EXPENSES_PER_REPORT: Final = (2, 8)
SEED_HISTORY_DAYS: Final = 90
SEED_REPORT_STATES: Final = ("DRAFT", "APPROVER_PENDING", "APPROVED", "PAYMENT_PENDING", "PAYMENT_PROCESSING", "PAID")
"""Seeded reports cycle through these, so every state a sync cares about has a few."""
MONEY_QUANTUM: Final = Decimal("0.01")
MAX_GENERATE: Final = 500_000
ID_ALPHABET: Final = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
ID_SUFFIX_LENGTH: Final = 10
CATEGORY_ID_START: Final = 1000
PROJECT_ID_START: Final = 2000
COST_CENTER_ID_START: Final = 3000
EXPENSE_FIELD_ID_START: Final = 4000

EXCHANGE_RATES_TO_USD: Final = {
    "USD": Decimal("1"),
    "EUR": Decimal("1.08"),
    "GBP": Decimal("1.27"),
    "INR": Decimal("0.012"),
    "CAD": Decimal("0.74"),
    "AUD": Decimal("0.66"),
}
FOREIGN_CURRENCY_SHARE: Final = 0.25
CORPORATE_CARD_SHARE: Final = 0.3
CREDIT_SHARE: Final = 0.03
"""Share of card expenses that are refunds (negative amounts)."""
NON_REIMBURSABLE_CASH_SHARE: Final = 0.05
RECEIPT_SHARE: Final = 0.6
PDF_RECEIPT_SHARE: Final = 0.5
BILLABLE_SHARE: Final = 0.2
PROJECT_SHARE: Final = 0.6
CLIENT_FIELD_SHARE: Final = 0.4
"""Share of expenses with the custom field "Client Name" filled in."""
GENERATE_PER_REPORT: Final = 5
MAX_EXPENSES_PER_REPORT: Final = 500

# Reports and expenses (spec enums of `admin_report_out.state` and `expense_out.state`).
REPORT_STATES: Final = (
    "DRAFT",
    "APPROVER_PENDING",
    "APPROVER_INQUIRY",
    "APPROVED",
    "PAYMENT_PENDING",
    "PAYMENT_PROCESSING",
    "PAID",
)
SUBMITTED_STATES: Final = frozenset(REPORT_STATES[1:])
APPROVED_STATES: Final = frozenset({"APPROVED", "PAYMENT_PENDING", "PAYMENT_PROCESSING", "PAID"})
PAYABLE_STATES: Final = frozenset({"APPROVED", "PAYMENT_PENDING", "PAYMENT_PROCESSING"})
"""States `reports/mark_paid/bulk` accepts; a report already PAID is left as it is (a replay is harmless)."""
REIMBURSED_STATES: Final = frozenset({"PAYMENT_PROCESSING", "PAID"})
UNREPORTED_EXPENSE_STATE: Final = "COMPLETE"
EXPENSE_STATE_IN_REPORT: Final = {state: state for state in REPORT_STATES} | {"APPROVER_INQUIRY": "APPROVER_PENDING"}
"""An expense shows its report's state; the expense enum has no APPROVER_INQUIRY (sent back)."""
STATE_DISPLAY_NAMES: Final = {
    "COMPLETE": "Complete",
    "UNREPORTABLE": "Unreportable",
    "DRAFT": "Draft",
    "APPROVER_PENDING": "Submitted",
    "APPROVER_INQUIRY": "Sent Back",
    "APPROVED": "Approved",
    "PAYMENT_PENDING": "Payment Pending",
    "PAYMENT_PROCESSING": "Processing",
    "PAID": "Closed",
}
REPORT_ACTIONS: Final = {
    "APPROVED": ("ADMIN_APPROVED", "Admin approved the report."),
    "PAYMENT_PROCESSING": ("STATE_CHANGE_PAYMENT_PROCESSING", "Report moved to payment processing."),
    "PAID": ("MARK_PAID", "Report marked as paid."),
}
"""Webhook actions of the spec's `report_out_subscriptions_admin`; other moves send `STATE_CHANGE_<STATE>`."""
WEBHOOK_RESOURCE: Final = "REPORT"
EXPORT_INITIATED_ACTION: Final = ("ACCOUNTING_EXPORT_INITIATED", "Accounting export initiated.")
