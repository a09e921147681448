"""Whether a connection's inbox (events still `received`) is full, counted at most once a second per process, by one
delivery at a time.

Counting on every delivery would add a statement to the hot path, and a full inbox does not empty in a second
anyway; between counts the last answer stands. When it is time to count again, one delivery is told to, and the
others keep the last answer while it counts (for one more interval at most, should it never report back). Telling
every delivery that arrived meanwhile sent them all down the two-trip path, each counting: under load, a burst of
slow transactions at every expiry (measured: 13 to 19 counts a second per process instead of one), which stalled
the deliveries behind them.
"""

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class _Count:
    fresh_until: float
    full: bool
    fresh_for_seconds: float


class InboxGauge:
    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._known: dict[uuid.UUID, _Count] = {}

    def known_full(self, connection_id: uuid.UUID) -> bool | None:
        """True or False while the last count is fresh, or while another delivery counts again; None when it is
        time to count, to one caller at a time, which then counts and `record`s."""
        entry = self._known.get(connection_id)
        if entry is None:
            return None
        now = self._clock()
        if entry.fresh_until <= now:
            self._known[connection_id] = _Count(now + entry.fresh_for_seconds, entry.full, entry.fresh_for_seconds)
            return None
        return entry.full

    def record(self, connection_id: uuid.UUID, *, full: bool, fresh_for_seconds: float) -> None:
        self._known[connection_id] = _Count(self._clock() + fresh_for_seconds, full, fresh_for_seconds)

    def forget(self) -> None:
        self._known.clear()
