"""Every limit, TTL, header and key name of the webhook ingress, in one place."""

from typing import Final

# Standard Webhooks (https://www.standardwebhooks.com)
STANDARD_WEBHOOKS_SCHEME: Final = "standard-webhooks"
"""The scheme's name, as a connector's spec names it (`webhook_scheme`)."""
STANDARD_ID_HEADER: Final = "webhook-id"
STANDARD_TIMESTAMP_HEADER: Final = "webhook-timestamp"
STANDARD_SIGNATURE_HEADER: Final = "webhook-signature"
STANDARD_SIGNATURE_VERSION: Final = "v1"
TIMESTAMP_TOLERANCE_SECONDS: Final = 5 * 60
"""A delivery signed more than this far in the past or the future is refused (replay window)."""
MAX_SIGNATURES_PER_HEADER: Final = 16
"""A sender rotating its secrets sends a few; more than this is noise, and each costs a comparison."""
# Intuit (QuickBooks Online): base64(HMAC-SHA256(verifier token, raw body)), no id and no timestamp
MAX_SIGNATURE_HEADER_LENGTH: Final = 256
"""A SHA-256 digest in base64 is 44 characters; a longer header is refused before decoding it."""
BODY_DIGEST_PREFIX: Final = "sha256:"
"""Event ids derived from content (schemes without an id header): `sha256:<hex>`."""

MAX_EVENT_ID_LENGTH: Final = 255
"""`webhook_events.event_id` is a String(255)."""
MAX_PARTS_PER_DELIVERY: Final = 1000
"""Parts (per account, or per event) one app-level delivery may be split into; a larger one is refused (400)."""
MAX_ACCOUNT_ID_LENGTH: Final = 255
"""A part naming a longer account id is dropped (no connection setting holds one that long)."""
MAX_EVENT_TYPE_LENGTH: Final = 128
"""`webhook_events.event_type` is a String(128); longer types are cut."""

# Secrets
SECRET_CACHE_TTL_SECONDS: Final = 30.0
"""Decrypted secrets stay in process memory at most this long (the cache is keyed by ciphertext, so a rotation is
seen at once; the TTL only bounds how long plaintext lingers)."""
SECRET_CACHE_MAX_ENTRIES: Final = 4096
LOOKUP_CACHE_MAX_ENTRIES: Final = 4096
"""Webhook keys whose last lookup a process remembers (`webhooks.lookup_cache`)."""

# Backpressure
RATE_LIMIT_KEY: Final = "ledgerline:webhooks:rate:{{{key_digest}}}:{window}"
"""Fixed-window counter of verified deliveries per connection (its id, hashed), shared by every process."""
RATE_LIMIT_REQUESTS: Final = 1000
RATE_LIMIT_WINDOW_SECONDS: Final = 1
RATE_LIMIT_SLICES_PER_WINDOW: Final = 100
"""A process takes a connection's window budget from Redis in slices of this share (`webhooks.rate_limit`)."""
RATE_LIMIT_MAX_LOCAL_KEYS: Final = 4096
"""Connections whose slice a process remembers; beyond, slices of past windows (then all) are forgotten."""
REDIS_RECHECK_SECONDS: Final = 1.0
"""After Redis failed to answer a limiter, it counts in process memory this long before asking Redis again, so an
outage costs one failed round trip per second rather than one per delivery (a black-holed Redis: a timeout each)."""
FAILURE_KEY: Final = "ledgerline:webhooks:failures:{{failures}}:{scope}:{window}"
"""Fixed-window counters of failed deliveries (bad or missing signature, unknown key): `all`, and one per source
address (hashed). One hash tag, so one script counts both on a Redis cluster."""
FAILURE_WINDOW_SECONDS: Final = 10
FAILURES_PER_ADDRESS: Final = 50
"""Failed deliveries one source address may cause per window before it is answered 429 without a lookup."""
FAILURES_OVERALL: Final = 500
"""Failed deliveries from all addresses together per window before every unverifiable delivery is answered 429."""
UNKNOWN_SOURCE: Final = "unknown"
"""The source address of a delivery whose peer the server does not know (all such count together)."""
FAILURE_MAX_LOCAL_ADDRESSES: Final = 65_536
"""Addresses a process counts in memory per window; beyond, only the overall count holds them back."""
INBOX_LIMIT: Final = 10_000
"""A connection with this many events still `received` is refused with 429 until the dispatcher catches up."""
INBOX_CHECK_EVERY_SECONDS: Final = 1.0
"""How often one process counts a connection's inbox; between counts it trusts the last answer."""
INBOX_RETRY_AFTER_SECONDS: Final = 30
POOL_WAIT_SECONDS: Final = 0.25
"""How long a delivery waits for a database connection before it is told to come back (429) instead of queueing."""
POOL_RETRY_AFTER_SECONDS: Final = 1
DATABASE_RETRY_AFTER_SECONDS: Final = 5

# Dispatch
PROCESS_JOB: Final = "process_webhook_event"
"""The job that handles one stored event (`sync.webhook_events`); args `(tenant_id, event_id)` as strings."""
PROCESS_JOB_ID: Final = "webhook:{event_id}"

# Media types
JSON_MEDIA_TYPE: Final = "application/json"
JSON_SUFFIX: Final = "+json"

# Database
INGRESS_APPLICATION_NAME: Final = "ledgerline-webhooks"
"""How the ingress's pooled connections name themselves in `pg_stat_activity`."""
