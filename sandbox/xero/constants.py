"""Every name, path, identifier, lifetime and limit of the Xero simulator, in one place."""

from decimal import Decimal
from typing import Final

NAME: Final = "xero"

# Wire paths under the `/xero` mount (production hosts in comments).
AUTHORIZE_PATH: Final = "/identity/connect/authorize"  # https://login.xero.com/identity/connect/authorize
TOKEN_PATH: Final = "/identity/connect/token"  # noqa: S105 — https://identity.xero.com/connect/token
REVOKE_PATH: Final = "/identity/connect/revocation"  # https://identity.xero.com/connect/revocation
CONNECTIONS_PATH: Final = "/connections"  # https://api.xero.com/connections
API_PREFIX: Final = "/api.xro/2.0"  # https://api.xero.com/api.xro/2.0
APP_PREFIX: Final = "/app"  # https://go.xero.com (a person's link, never called)

TENANT_HEADER: Final = "xero-tenant-id"
IDEMPOTENCY_HEADER: Final = "idempotency-key"
TENANT_TYPE: Final = "ORGANISATION"

# The app and the person the seeded grant belongs to.
CLIENT_ID: Final = "LEDGERLINEXEROSANDBOXCLIENT00001"
CLIENT_SECRET: Final = "xero-sandbox-secret-ledgerline-0000000000000001"  # noqa: S105 (a sandbox)
SEEDED_REFRESH_TOKEN: Final = "xero-seeded-refresh-token"  # noqa: S105 (a sandbox)
"""The refresh token of the seeded grant (all seeded organisations), valid after every reset until first used."""
USER_EMAIL: Final = "bookkeeper@ledgerline.example"
AUTH_EVENT_ID: Final = "5f7c1b1e-0000-4000-8000-00000000a11c"

SCOPE_OFFLINE: Final = "offline_access"
KNOWN_SCOPES: Final = frozenset(
    {
        "openid",
        "profile",
        "email",
        SCOPE_OFFLINE,
        "accounting.transactions",
        "accounting.transactions.read",
        "accounting.invoices",
        "accounting.invoices.read",
        "accounting.banktransactions",
        "accounting.banktransactions.read",
        "accounting.manualjournals",
        "accounting.manualjournals.read",
        "accounting.payments",
        "accounting.payments.read",
        "accounting.settings",
        "accounting.settings.read",
        "accounting.contacts",
        "accounting.contacts.read",
        "accounting.attachments",
        "accounting.attachments.read",
        "accounting.reports.read",
        "accounting.journals.read",
    }
)
ACCESS_TOKEN_TTL_SECONDS: Final = 1800
"""Xero's access tokens live 30 minutes."""
REFRESH_TOKEN_TTL_SECONDS: Final = 60 * 24 * 3600
"""Xero's refresh tokens expire after 60 days unused."""
AUTHORIZATION_CODE_TTL_SECONDS: Final = 300
TOKEN_BYTES: Final = 32

# Seeded organisations: (tenant id, name, short code, base currency, country).
MAIN_TENANT: Final = "6f2b9c44-1d6a-4c58-9a55-3e0a6c0d1001"
UK_TENANT: Final = "6f2b9c44-1d6a-4c58-9a55-3e0a6c0d1002"
ORGANISATIONS: Final = (
    (MAIN_TENANT, "Ledgerline Demo Co (US)", "!LLUS1", "USD", "US"),
    (UK_TENANT, "Ledgerline Demo Ltd (UK)", "!LLUK2", "GBP", "GB"),
)

# Paging and batches.
DEFAULT_PAGE_SIZE: Final = 100
MAX_PAGE_SIZE: Final = 1000
MAX_DOCUMENTS_PER_REQUEST: Final = 200
"""Xero advises at most 50 per request; larger arrays (beyond this cap) are refused outright."""
MAX_IDEMPOTENCY_KEY_LENGTH: Final = 128
MAX_ACTIVE_TRACKING_CATEGORIES: Final = 2
MAX_ATTACHMENTS_PER_DOCUMENT: Final = 10
MAX_ATTACHMENT_BYTES: Final = 25 * 1024 * 1024
"""Xero accepts files up to 25 MB through the API."""
MONEY_PLACES: Final = Decimal("0.01")
RATE_PLACES: Final = Decimal("0.000001")

# Rate limits (per organisation unless said otherwise).
PER_MINUTE: Final = 60
PER_DAY: Final = 5000
CONCURRENT: Final = 5
APP_PER_MINUTE: Final = 10_000
WINDOW_SECONDS: Final = 60.0
DAY_SECONDS: Final = 86_400
MINUTE_REMAINING_HEADER: Final = "X-MinLimit-Remaining"
DAY_REMAINING_HEADER: Final = "X-DayLimit-Remaining"
APP_REMAINING_HEADER: Final = "X-AppMinLimit-Remaining"
PROBLEM_HEADER: Final = "X-Rate-Limit-Problem"

# Documents.
INVOICE_STATUSES: Final = ("DRAFT", "SUBMITTED", "AUTHORISED", "PAID", "VOIDED", "DELETED")
BANK_TRANSACTION_TYPES: Final = (
    "SPEND",
    "RECEIVE",
    "SPEND-OVERPAYMENT",
    "RECEIVE-OVERPAYMENT",
    "SPEND-PREPAYMENT",
    "RECEIVE-PREPAYMENT",
)
LINE_AMOUNT_TYPES: Final = ("Exclusive", "Inclusive", "NoTax")
DEMO_CLOSED_PERIOD_NOTE: Final = "The demo locks periods with the organisation's PeriodLockDate."
