"""One API session per login, reused for every call and renewed once when it expires.

A login costs a round trip and counts against the company's API usage, so `getAPISession` runs once and its
session id and endpoint serve every later call — in a worker also the calls of later connectors of the same login
(each export job opens its own connector; the worker lends them a shared state), for up to
SHARED_SESSION_MAX_AGE_SECONDS. When a call finds the session expired, the first caller renews it under a lock;
callers that were waiting find it renewed and reuse it, so concurrent calls renew once.
"""

import asyncio
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

from connectors.intacct.constants import SHARED_SESSION_MAX_AGE_SECONDS


@dataclass(frozen=True)
class ApiSession:
    session_id: str = field(repr=False)
    endpoint: str
    """Where this session's calls go (the company's own gateway host in production)."""


Login = Callable[[], Awaitable[ApiSession]]


class SessionKeeper:
    def __init__(self, login: Login, *, shared: MutableMapping[str, Any] | None = None, key: str = "") -> None:
        """`shared`: where sessions outlive this keeper (the process's connector state), under `key`, the login's
        fingerprint, with when they were opened."""
        self._login = login
        self._shared = shared
        self._key = f"intacct-session:{key}"
        self._session: ApiSession | None = None
        self._lock = asyncio.Lock()

    async def current(self) -> ApiSession:
        """The session in use: ours, else a recent one of the same login in this process, else a fresh login."""
        if self._session is None and self._shared is not None:
            shared = self._shared.get(self._key)
            if shared is not None and time.monotonic() - shared[1] < SHARED_SESSION_MAX_AGE_SECONDS:
                self._session = shared[0]
        if self._session is not None:
            return self._session
        return await self.renew(stale=None)

    async def renew(self, *, stale: ApiSession | None) -> ApiSession:
        """A session other than `stale`: a fresh login, unless another caller already replaced it."""
        async with self._lock:
            if self._session is not None and self._session != stale:
                return self._session
            return await self._fresh()

    async def open(self) -> ApiSession:
        """Log in now, whatever the current session: proves the credentials still work."""
        async with self._lock:
            return await self._fresh()

    async def _fresh(self) -> ApiSession:
        self._session = await self._login()
        if self._shared is not None:
            self._shared[self._key] = (self._session, time.monotonic())
        return self._session
