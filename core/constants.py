"""Every key name, limit and TTL that `core` relies on, in one place."""

from typing import Final

ENV_PREFIX: Final = "LEDGERLINE_"

NAMED_TYPE_PATTERN: Final = r"^[A-Za-z0-9_][A-Za-z0-9_ .\-]{0,62}$"
"""The `<NAME>` of a source's `custom:<NAME>` fields and of a destination's user-defined dimensions."""

# PostgreSQL
APP_DB_ROLE: Final = "ledgerline_app"
"""The role the running service connects as. It owns no table, so row-level security applies to it."""
TENANT_GUC: Final = "app.tenant_id"
CROSS_TENANT_GUC: Final = "app.cross_tenant"
AUDIT_CHAIN_LOCK_NAMESPACE: Final = 7_130_001
"""First key of the advisory lock that serialises appends to one audit chain."""
SYSTEM_AUDIT_CHAIN: Final = "system"
AUDIT_GENESIS_HASH: Final = "0" * 64
AUDIT_ANCHOR_ACTION: Final = "audit.anchored"
"""The system-chain event that records another chain's head (entity: the chain; data: its seq and hash)."""
AUDIT_ANCHOR_ENTITY: Final = "audit_chain"
AUDIT_ANCHOR_IN_SYSTEM_CHAIN: Final = "the system chain"

# API keys: ll_<prefix>_<secret>
API_KEY_SCHEME: Final = "ll"
API_KEY_PREFIX_BYTES: Final = 6
API_KEY_SECRET_BYTES: Final = 24

# Connections
STATUS_REASON_MAX_CHARS: Final = 500
"""A connection's `status_reason` (why it needs re-authorization) is cut to this."""

# Request limits
MAX_REQUEST_BODY_BYTES: Final = 1024 * 1024
IDEMPOTENCY_KEY_MAX_LENGTH: Final = 255
IDEMPOTENCY_TTL_SECONDS: Final = 24 * 3600
IDEMPOTENCY_IN_FLIGHT_LEASE_SECONDS: Final = 300
"""An in-flight key older than this belongs to a request that died; a retry may take it over."""
IDEMPOTENT_RESPONSE_MAX_BYTES: Final = 1024 * 1024

# Callers
CALLER_IPV6_PREFIX: Final = 64
"""IPv6 callers are budgeted by network: one subscriber is handed a whole /64, and could change address per request."""

# Metrics
METRICS_TOKEN_VARIABLE: Final = "LEDGERLINE_METRICS_TOKEN"  # noqa: S105 - a variable name, not a token
"""The bearer token Prometheus scrapes metrics with (the API's `/metrics`, a worker's metrics port); required outside
`OPEN_METRICS_ENVS`."""
OPEN_METRICS_ENVS: Final = frozenset({"dev", "test"})
"""Where metrics are served without a token when none is set (a development machine, the test suite)."""
WORK_GAUGES_MIN_INTERVAL_SECONDS: Final = 5.0
"""The ledger gauges are read from PostgreSQL at most this often per process, however often `/metrics` is scraped."""

# Logs
REDACTED: Final = "[redacted]"
SECRET_FIELD_MARKERS: Final = (
    "password",
    "secret",
    "token",
    "authorization",
    "credential",
    "api_key",
    "apikey",
    "cookie",
    "private_key",
    "client_secret",
    "signature",
)
REDACTED_TEXT_PARTS: Final = (
    (r"(/webhooks/[^/\s?#\"']+/)[^/\s?#\"']+", r"\g<1>[redacted]"),
    (r"(/callback/?)\?[^\s#\"']*", r"\g<1>?[redacted]"),
    (
        r"(?i)((?:password|passwd|secret|token|api_?key|authorization)(?![a-z_]*_url)[a-z_]*[\"']?\s*[=:]\s*[\"']?"
        r"(?:(?:bearer|basic)\s+)?)"
        r"(?!\[redacted\])[^\s&\"',;}<]+",
        r"\g<1>[redacted]",
    ),
)
"""Pattern and replacement of secrets in any log line's text, wherever they appear: a webhook URL's connection key
(whoever knows it may post to the connection's inbox), the query of an OAuth callback (its `code` and `state`), and
the value of anything written as `password=…`, `"client_secret": "…"` or `token: …` in free text (a library's
message or an exception's)."""

# Development defaults that must never reach production.
DEV_VAULT_KEY: Final = "bGVkZ2VybGluZS1kZXYtb25seS12YXVsdC1rZXktMDA="
DEV_SESSION_SECRET: Final = "ledgerline-dev-only-session-secret"  # noqa: S105 - refused outside dev

# Session secrets: what `core.secret_strength` refuses outside dev.
SESSION_SECRET_MIN_BITS: Final = 256
"""32 random bytes, as `openssl rand -base64 32` or `-hex 32` give."""
SESSION_SECRET_MIN_DISTINCT_CHARACTERS: Final = 10
SECRET_PLACEHOLDERS: Final = frozenset(
    {
        DEV_SESSION_SECRET,
        "ledgerline",  # docker-compose.yml's old database password default
        "ledgerline-app",  # docker-compose.yml's old service role password default
        "secret",
        "password",
    }
)
"""Values published in this repository or guessed first, compared lower-cased."""
SECRET_PLACEHOLDER_MARKERS: Final = ("change-me", "changeme", "change_me", "dev-only", "replace-me", "example")
"""Parts of a value that show it was copied from an example (`CHANGE-ME` in deploy/kubernetes/secret.example.yaml)."""

# Money
MINOR_UNIT_PLACES: Final = {
    **dict.fromkeys(
        ("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI", "VND", "VUV", "XAF"),
        0,
    ),
    **dict.fromkeys(("XOF", "XPF"), 0),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
}
"""ISO 4217 currencies whose minor unit is not the cent (yen have none, dinars have thousandths)."""
DEFAULT_MINOR_UNIT_PLACES: Final = 2
DOCUMENT_TYPE_PATTERN: Final = "^[a-z][a-z0-9_]{0,31}$"
"""What a document kind's name looks like (`export_items.document_type`): the kinds themselves are open."""
