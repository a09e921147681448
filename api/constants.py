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
SEARCH_MAX_LENGTH: Final = 200
LIKE_ESCAPE: Final = "\\"
"""Escapes `%` and `_` in searches, so a user's text is matched literally."""

JSON_API_PATH_PREFIX: Final = "/v1/"
"""Where every request body is JSON (`api.json_body`); webhook deliveries and the dashboard's forms are elsewhere."""
WEBHOOKS_PATH_PREFIX: Final = "/webhooks/"
"""Deliveries are checked by signature over their raw bytes before anything reads them: the body checks skip them."""
