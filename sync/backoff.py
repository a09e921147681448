"""When to try again: full-jitter exponential backoff inside a retry window, or the time the system asked for.

Full jitter (a uniform draw between zero and the exponential cap) spreads the retries of many items failing at
once, so they do not return in a wave; the window bounds how long an item may keep failing before a person looks.
"""

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from sync.constants import BACKOFF_BASE_SECONDS, BACKOFF_CAP_SECONDS, RETRY_WINDOW_SECONDS


@dataclass(frozen=True, slots=True)
class BackoffSchedule:
    base_seconds: float = BACKOFF_BASE_SECONDS
    cap_seconds: float = BACKOFF_CAP_SECONDS
    window_seconds: float = RETRY_WINDOW_SECONDS

    def ceiling(self, attempt: int) -> float:
        """The largest delay after the `attempt`-th failure (1-based)."""
        return float(min(self.cap_seconds, self.base_seconds * 2.0 ** max(0, attempt - 1)))

    def next_attempt(
        self,
        *,
        attempt: int,
        first_attempt_at: datetime,
        now: datetime,
        not_before: datetime | None = None,
        draw: random.Random | None = None,
    ) -> datetime | None:
        """When to retry after `attempt` failures, or None when the retry window is spent."""
        delay = (draw or random).uniform(0, self.ceiling(attempt))
        at = now + timedelta(seconds=delay)
        if not_before is not None and not_before > at:
            at = not_before
        if at - first_attempt_at > timedelta(seconds=self.window_seconds):
            return None
        return at
