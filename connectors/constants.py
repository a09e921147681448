"""Timeouts, limits and header names shared by every connector."""

from typing import Final

CONNECT_TIMEOUT_SECONDS: Final = 10.0
READ_TIMEOUT_SECONDS: Final = 60.0
MAX_CONNECTIONS: Final = 20
MAX_KEEPALIVE: Final = 10
TOKEN_EXPIRY_LEEWAY_SECONDS: Final = 60
"""Refresh this long before the access token's stated expiry, so a request never carries a dying token."""
EXCERPT_MAX_CHARS: Final = 2000
MAX_PAGES: Final = 1_000_000
"""A stream longer than this is taken for a paginator loop."""
PKCE_VERIFIER_BYTES: Final = 48
OAUTH_STATE_BYTES: Final = 24
LOCAL_ENVS: Final = frozenset({"dev", "test"})
"""`LEDGERLINE_ENV` values that may point connectors at the sandbox and reach it over plain http. Production never:
credentials (client secrets, Intacct sender and user passwords) travel with every connector call."""
SECURE_SCHEME: Final = "https"
SANDBOX_URL_VARIABLE: Final = "LEDGERLINE_SANDBOX_URL"
ENV_VARIABLE: Final = "LEDGERLINE_ENV"
UNTRUSTED_ADDRESS_CODE: Final = "untrusted_address"
"""Error code of an address in an answer that the connector's spec does not allow (`connectors.answer_urls`)."""
UNREADABLE_FILE_CODE: Final = "unreadable_file"
"""A download whose content coding is not one we inflate, or whose bytes do not inflate."""
TOO_LARGE_CODE: Final = "download_too_large"
RECEIPTS_INCOMPLETE_CODE: Final = "receipts_incomplete"
"""A document created, or found, whose receipts did not all go: retried by looking it up and attaching the rest."""
