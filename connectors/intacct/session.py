"""One API session per connector, reused for every call and renewed once when it expires.

A login costs a round trip and counts against the company's API usage, so `getAPISession` runs once and its
session id and endpoint serve every later call. When a call finds the session expired, the first caller renews it
under a lock; callers that were waiting find it renewed and reuse it, so concurrent calls renew once.
"""

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ApiSession:
    session_id: str = field(repr=False)
    endpoint: str
    """Where this session's calls go (the company's own gateway host in production)."""


Login = Callable[[], Awaitable[ApiSession]]


class SessionKeeper:
    def __init__(self, login: Login) -> None:
        self._login = login
        self._session: ApiSession | None = None
        self._lock = asyncio.Lock()

    async def current(self) -> ApiSession:
        """The session in use, logging in first if there is none yet."""
        if self._session is not None:
            return self._session
        return await self.renew(stale=None)

    async def renew(self, *, stale: ApiSession | None) -> ApiSession:
        """A session other than `stale`: a fresh login, unless another caller already replaced it."""
        async with self._lock:
            if self._session is not None and self._session != stale:
                return self._session
            self._session = await self._login()
            return self._session

    async def open(self) -> ApiSession:
        """Log in now, whatever the current session: proves the credentials still work."""
        async with self._lock:
            self._session = await self._login()
            return self._session
