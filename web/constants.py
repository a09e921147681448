"""Paging, sign-in throttling and OAuth-state limits that the web surfaces (`api`, `webhooks`, `dashboard`) share."""

from typing import Final

DEFAULT_PAGE_SIZE: Final = 50
MAX_PAGE_SIZE: Final = 200
CURSOR_PARAMETER: Final = "cursor"
"""The query parameter a list takes its next page's position in; opaque to clients, 400 when forged."""
SIGN_IN_FAILURES_KEY: Final = "ledgerline:sign-in-failures:{namespace}:{address}"
"""Redis counter of failed API-key and dashboard sign-ins from one client address in the current window."""
SIGN_IN_LOCAL_MAX_ADDRESSES: Final = 10_000
"""Addresses one process remembers while Redis is down; past it the oldest window is forgotten."""
OAUTH_STATE_TTL_SECONDS: Final = 600
"""How long an OAuth state (in Redis) and its browser cookie wait for the callback."""
OAUTH_CHOICE_KEY: Final = "ledgerline:oauth-choice:{choice}"
"""A consent covering several sets of books, waiting (vault-encrypted, `OAUTH_STATE_TTL_SECONDS`) for the admin to pick
which become connections (`web.oauth_choice`)."""
OAUTH_STATE_COOKIE: Final = "ll_oauth_state"
"""Holds the SHA-256 of the state of the authorization this browser started; the callback requires it."""
WEBHOOK_KEY_BYTES: Final = 24
"""Random bytes of a connection's webhook URL key (192 bits: no guess comes near one)."""
CONNECTION_NAME_PATTERN: Final = r"^[\w .@-]{1,200}$"
"""What a connection's name may be: it shows in URLs, lists and the audit log."""
