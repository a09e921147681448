"""Header names and paging limits of the REST API."""

from typing import Final

REQUEST_ID_HEADER: Final = "x-request-id"
IDEMPOTENCY_HEADER: Final = "idempotency-key"
IDEMPOTENT_REPLAY_HEADER: Final = "idempotent-replayed"
NO_STORE: Final = "no-store"
"""`Cache-Control` of a response that carries a secret: no cache keeps it, and neither does the Idempotency-Key layer
(`api.idempotency`)."""
SECRET_WITHHELD: Final = "ledgerline-secret-withheld"  # noqa: S105 - a marker, not a secret
"""Marks, among an idempotency key's stored headers, a response that carried a secret and was not kept."""
DEFAULT_PAGE_SIZE: Final = 50
MAX_PAGE_SIZE: Final = 200
CURSOR_PARAMETER: Final = "cursor"
"""The query parameter a list takes its next page's position in; opaque to clients, 400 when forged."""
SEARCH_MAX_LENGTH: Final = 200
LIKE_ESCAPE: Final = "\\"
"""Escapes `%` and `_` in searches, so a user's text is matched literally."""
SIGN_IN_FAILURES_KEY: Final = "ledgerline:sign-in-failures:{namespace}:{address}"
"""Redis counter of failed API-key and dashboard sign-ins from one client address in the current window."""
SIGN_IN_LOCAL_MAX_ADDRESSES: Final = 10_000
"""Addresses one process remembers while Redis is down; past it the oldest window is forgotten."""
OAUTH_STATE_TTL_SECONDS: Final = 600
"""How long an OAuth state (in Redis) and its browser cookie wait for the callback."""
OAUTH_STATE_COOKIE: Final = "ll_oauth_state"
"""Holds the SHA-256 of the state of the authorization this browser started; the callback requires it."""

JSON_API_PATH_PREFIX: Final = "/v1/"
"""Where every request body is JSON (`api.json_body`); webhook deliveries and the dashboard's forms are elsewhere."""
WEBHOOKS_PATH_PREFIX: Final = "/webhooks/"
"""Deliveries are checked by signature over their raw bytes before anything reads them: the body checks skip them."""
