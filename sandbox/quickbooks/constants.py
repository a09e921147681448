"""Every path, limit, code and seeded credential of the QuickBooks Online simulator, in one place."""

from decimal import Decimal
from typing import Final

NAME: Final = "quickbooks"

# Wire paths under the mount, mirroring Intuit's hosts (appcenter.intuit.com/connect/oauth2,
# oauth.platform.intuit.com/oauth2/v1/tokens/bearer, developer.api.intuit.com/v2/oauth2/tokens/revoke,
# developer.intuit.com/.well-known/openid_configuration/, quickbooks.api.intuit.com/v3/company/{realmId}/…).
AUTHORIZE_PATH: Final = "/connect/oauth2"
TOKEN_PATH: Final = "/oauth2/v1/tokens/bearer"  # noqa: S105 - a URL path, not a secret
REVOKE_PATH: Final = "/v2/oauth2/tokens/revoke"
USERINFO_PATH: Final = "/v1/openid_connect/userinfo"
JWKS_PATH: Final = "/v1/openid_connect/keys"
DISCOVERY_PATHS: Final = ("/.well-known/openid_configuration", "/.well-known/openid_sandbox_configuration")
API_PREFIX: Final = "/v3/company"
ISSUER: Final = "https://oauth.platform.intuit.com/op/v1"

# Seeded credentials (public, sandbox only).
CLIENT_ID: Final = "ABledgerlineSandboxClientId0000000000000000000000"
CLIENT_SECRET: Final = "sandbox-quickbooks-client-secret"  # noqa: S105 - a public sandbox credential
SCOPE_ACCOUNTING: Final = "com.intuit.quickbooks.accounting"
KNOWN_SCOPES: Final = frozenset({SCOPE_ACCOUNTING, "com.intuit.quickbooks.payment", "openid", "profile", "email"})
SEEDED_REFRESH_TOKEN_PREFIX: Final = "AB11sandbox-refresh-"  # noqa: S105 - a public sandbox credential prefix
"""Each seeded realm has a ready grant whose refresh token is this prefix plus the realm id."""

# Realms: a US company with multicurrency and a UK company in pounds without it.
MAIN_REALM: Final = "9341453050807720"
UK_REALM: Final = "9341453050807721"

# Token lifetimes (Intuit: access 1 h, refresh 100 days rolling).
ACCESS_TOKEN_TTL_SECONDS: Final = 3600
REFRESH_TOKEN_TTL_SECONDS: Final = 100 * 24 * 3600
REFRESH_GRACE_SECONDS: Final = 24 * 3600
"""How long a refresh token keeps working after a refresh handed out its successor."""
AUTHORIZATION_CODE_TTL_SECONDS: Final = 300
TOKEN_BYTES: Final = 32

# API limits.
MIN_MINOR_VERSION: Final = 1
MAX_QUERY_RESULTS: Final = 1000
DEFAULT_QUERY_RESULTS: Final = 100
MAX_BATCH_ITEMS: Final = 30
MAX_REQUEST_ID_LENGTH: Final = 50
MAX_DOC_NUMBER_LENGTH: Final = 21
MAX_NAME_LENGTH: Final = 100
MAX_DISPLAY_NAME_LENGTH: Final = 500
MAX_PRIVATE_NOTE_LENGTH: Final = 4000
MAX_UPLOAD_BYTES: Final = 100 * 1024 * 1024
CDC_MAX_LOOKBACK_DAYS: Final = 30
REQUEST_ID_CACHE_SIZE: Final = 20_000
RATE_PER_MINUTE: Final = 500
RATE_CONCURRENCY: Final = 10
RATE_WINDOW_SECONDS: Final = 60.0

# Fault codes (Fault.Error[].code) and their Message texts.
CODE_AUTHENTICATION: Final = "3200"
CODE_AUTHORIZATION: Final = "3100"
CODE_THROTTLE: Final = "3001"
CODE_NOT_FOUND: Final = "610"
CODE_REQUIRED: Final = "2020"
CODE_STRING_LENGTH: Final = "2050"
CODE_INVALID_ENUM: Final = "2170"
CODE_INVALID_REFERENCE: Final = "2500"
CODE_QUERY_PARSE: Final = "4000"
CODE_STALE: Final = "5010"
CODE_UNSUPPORTED: Final = "500"
CODE_BUSINESS: Final = "6000"
CODE_DUPLICATE_DOC: Final = "6140"
CODE_PERIOD_CLOSED: Final = "6210"
CODE_DUPLICATE_NAME: Final = "6240"
CODE_MALFORMED: Final = "2010"
CODE_SERVER: Final = "10000"

MESSAGES: Final = {
    CODE_NOT_FOUND: "Object Not Found",
    CODE_REQUIRED: "Required param missing, need to supply the required value for the API",
    CODE_STRING_LENGTH: "String length is either shorter or longer than supported by specification",
    CODE_INVALID_ENUM: "Invalid Enumeration",
    CODE_INVALID_REFERENCE: "Invalid Reference Id",
    CODE_QUERY_PARSE: "Error parsing query",
    CODE_STALE: "Stale Object Error",
    CODE_UNSUPPORTED: "Unsupported Operation",
    CODE_BUSINESS: "A business validation error has occurred while processing your request",
    CODE_DUPLICATE_DOC: "Duplicate Document Number Error",
    CODE_PERIOD_CLOSED: "Account Period Closed, Cannot Update Through Services API",
    CODE_DUPLICATE_NAME: "Duplicate Name Exists Error",
    CODE_MALFORMED: "Request has invalid or unsupported property",
    CODE_SERVER: "An application error has occurred while processing your request",
}

# Currencies: what one unit is worth in US dollars (the realm's rates derive from these).
USD_RATES: Final = {
    "USD": Decimal("1"),
    "EUR": Decimal("1.0823"),
    "GBP": Decimal("1.2641"),
    "CAD": Decimal("0.7352"),
    "AUD": Decimal("0.6571"),
    "INR": Decimal("0.012034"),
    "JPY": Decimal("0.006712"),
}
CURRENCY_NAMES: Final = {
    "USD": "United States Dollar",
    "EUR": "Euro",
    "GBP": "British Pound Sterling",
    "CAD": "Canadian Dollar",
    "AUD": "Australian Dollar",
    "INR": "Indian Rupee",
    "JPY": "Japanese Yen",
}
RATE_PLACES: Final = Decimal("0.000001")
CENTS: Final = Decimal("0.01")

# Webhooks.
WEBHOOK_OPERATIONS: Final = {"create": "Create", "update": "Update", "delete": "Delete"}
CLOUDEVENT_VERBS: Final = {"create": "created", "update": "updated", "delete": "deleted"}
WEBHOOK_RETRY_DELAYS_SECONDS: Final = (20 * 60.0, 30 * 60.0, 50 * 60.0)
WEBHOOK_TIMEOUT_SECONDS: Final = 5.0
WEBHOOK_DELIVERY_LOG_SIZE: Final = 2000
CHANGE_LOG_SIZE: Final = 50_000
