"""QuickBooks' throttles, kept per realm: requests per rolling minute and requests in flight (HTTP 429, code 3001)."""

import math
import time
from collections import deque
from dataclasses import dataclass, field

from sandbox.quickbooks.constants import RATE_WINDOW_SECONDS


@dataclass
class _Window:
    calls: deque[float] = field(default_factory=deque)
    in_flight: int = 0


class RealmLimiter:
    def __init__(self) -> None:
        self._windows: dict[str, _Window] = {}

    def try_acquire(self, realm_id: str, *, per_minute: int, concurrency: int) -> int | None:
        """Admit a request (None) or refuse it with the seconds to wait before retrying."""
        window = self._windows.setdefault(realm_id, _Window())
        now = time.monotonic()
        while window.calls and now - window.calls[0] >= RATE_WINDOW_SECONDS:
            window.calls.popleft()
        if window.in_flight >= concurrency:
            return 1
        if len(window.calls) >= per_minute:
            return max(1, math.ceil(RATE_WINDOW_SECONDS - (now - window.calls[0])))
        window.calls.append(now)
        window.in_flight += 1
        return None

    def release(self, realm_id: str) -> None:
        self._windows[realm_id].in_flight -= 1

    def reset(self) -> None:
        self._windows.clear()
