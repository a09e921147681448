"""Header names and paging limits of the REST API."""

from typing import Final

REQUEST_ID_HEADER: Final = "x-request-id"
IDEMPOTENCY_HEADER: Final = "idempotency-key"
IDEMPOTENT_REPLAY_HEADER: Final = "idempotent-replayed"
DEFAULT_PAGE_SIZE: Final = 50
MAX_PAGE_SIZE: Final = 200
SEARCH_MAX_LENGTH: Final = 200
LIKE_ESCAPE: Final = "\\"
"""Escapes `%` and `_` in searches, so a user's text is matched literally."""
