"""The last lookup of each webhook key, so a delivery can be verified before the database is asked, and stored in one
round trip instead of two (`webhooks.store.insert_if_current_and_commit`).

Nothing here is trusted: the insert happens only if the connection row still holds the same key, tenant, provider
and sealed secrets in the inserting transaction, so a delivery is accepted exactly when the uncached path would have
accepted it. A rotation, revocation, new key or deleted connection makes the entry stale; the delivery then takes the
uncached path, whose fresh lookup replaces the entry. Only sealed (encrypted) secrets are kept here.
"""

from webhooks.constants import LOOKUP_CACHE_MAX_ENTRIES
from webhooks.store import ConnectionForWebhooks


class LookupCache:
    def __init__(self, *, max_entries: int = LOOKUP_CACHE_MAX_ENTRIES) -> None:
        self._max = max_entries
        self._entries: dict[str, ConnectionForWebhooks] = {}

    def get(self, key: str) -> ConnectionForWebhooks | None:
        return self._entries.get(key)

    def remember(self, key: str, found: ConnectionForWebhooks) -> None:
        self._entries.pop(key, None)
        if len(self._entries) >= self._max:
            for oldest in list(self._entries)[: max(1, self._max // 8)]:
                del self._entries[oldest]
        self._entries[key] = found

    def forget(self, key: str) -> None:
        self._entries.pop(key, None)
