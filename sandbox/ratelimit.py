"""Per-system rate limits: calls per rolling minute and requests in flight, like the real services enforce."""

import math
import time
from collections import deque

from pydantic import BaseModel, ConfigDict, Field

WINDOW_SECONDS = 60.0


class RateLimitSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    per_minute: int | None = Field(default=None, ge=1, description="None: unlimited.")
    concurrency: int | None = Field(default=None, ge=1, description="None: unlimited.")


class RateLimiter:
    def __init__(self, spec: RateLimitSpec | None = None) -> None:
        self.spec = spec or RateLimitSpec()
        self._calls: deque[float] = deque()
        self.in_flight = 0

    def configure(self, spec: RateLimitSpec) -> None:
        self.spec = spec
        self._calls.clear()

    def try_acquire(self) -> int | None:
        """Admit a request (returns None) or refuse it with the seconds to wait."""
        now = time.monotonic()
        while self._calls and now - self._calls[0] >= WINDOW_SECONDS:
            self._calls.popleft()
        if self.spec.concurrency is not None and self.in_flight >= self.spec.concurrency:
            return 1
        if self.spec.per_minute is not None and len(self._calls) >= self.spec.per_minute:
            return max(1, math.ceil(WINDOW_SECONDS - (now - self._calls[0])))
        self._calls.append(now)
        self.in_flight += 1
        return None

    def release(self) -> None:
        self.in_flight -= 1
